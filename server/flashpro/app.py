"""The flashpro core: all state of one server session, with no LSP library in sight.

`Flashpro` owns the open documents, the workspace, the metered-call seam (`calls.Meter`: the
settings, provider, error gate, spending stages and, through `Accounting`, the ledger) and the
features built on it (completion, code actions, tasks). The LSP layer (`flashpro.lsp`) holds one
`Flashpro` and talks to the editor through the `Frontend` protocol it implements; the core hears
about calls as the meter's `CallEvents` and about completions as `CompletionEvents`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Hashable, Mapping
from typing import Any, Protocol

from flashpro.accounting import Accounting, Throttle, spend_line
from flashpro.actions import ActionRunner, ActionService, ReviewStore
from flashpro.calls import CallInfo, Meter, Stage
from flashpro.completion import CompletionService
from flashpro.config import Settings, load_settings, merge_sources
from flashpro.documents import DocumentStore, Encoding, TextChange, Workspace, split_lines
from flashpro.logs import SECRET_FILTER
from flashpro.privacy import load_rules
from flashpro.providers import MissingKey, ProviderError, redact
from flashpro.tasks.service import TaskService
from flashpro.telemetry import Telemetry
from flashpro.tokens import count

__all__ = ["Flashpro", "Frontend"]

logger = logging.getLogger(__name__)


class Frontend(Protocol):
    """What the core needs from the editor connection."""

    def show_message(self, level: str, text: str) -> None:
        """Tell the user something (level: error / warning / info)."""

    def publish_spend(self, uri: str, message: str | None, severity: str) -> None:
        """Show (or with None, clear) the per-file spend diagnostic of `uri`."""

    def send_status(self, status: dict[str, Any]) -> None:
        """Send the `flashpro/status` notification."""

    def publish_review(self, uri: str) -> None:
        """Show the current review findings of `uri` (from `Flashpro.reviews`)."""


class Flashpro:
    """One server session's state and capabilities."""

    def __init__(self, frontend: Frontend, env: Mapping[str, str] | None = None):
        self.frontend = frontend
        self.session_id = uuid.uuid4().hex
        self._env = dict(os.environ if env is None else env)
        self._init_options: Any = None
        self._workspace_config: Any = None
        self._reported: set[str] = set()
        self.documents = DocumentStore()
        self.workspace = Workspace()
        self.accounting = Accounting(self.session_id, on_problem=self._warn)
        self.meter = Meter(self.accounting, events=self)
        self.completion = CompletionService(self.meter, events=self, excluded=self.documents.excluded)
        self.reviews = ReviewStore()
        self.actions = ActionRunner(
            ActionService(self.meter, self.workspace), self.documents, self.reviews, self.workspace
        )
        self.tasks = TaskService(self.meter, self.workspace, self.documents, self.accounting.write)
        self.telemetry = Telemetry()
        self._spend_refresh = Throttle(0.3, self._refresh_spend)
        self._status_refresh = Throttle(0.25, self._refresh_status)
        self._pause_timer: asyncio.TimerHandle | None = None
        self.configure()

    @property
    def settings(self) -> Settings:
        """The session's current settings."""
        return self.meter.settings

    def _warn(self, text: str) -> None:
        self.frontend.show_message("warning", text)

    # -- settings --------------------------------------------------------------------------
    def set_encoding(self, encoding: Encoding) -> None:
        """Use the position encoding negotiated at initialize."""
        self.documents.encoding = encoding

    def configure(self, init_options: Any = None, workspace_config: Any = None) -> list[str]:
        """Re-read settings from every source; returns the problems found (each reported once)."""
        if init_options is not None:
            self._init_options = init_options
        if workspace_config is not None:
            self._workspace_config = workspace_config
        raw = merge_sources(self._init_options, self._workspace_config, env=self._env)
        settings, problems = load_settings(raw)
        self.meter.configure(settings)
        self.documents.set_exclude(settings.exclude)
        self.accounting.configure(settings)
        self.telemetry.configure(settings, self._env, self.workspace.root)
        SECRET_FILTER.key = settings.api_key_value
        self._status_refresh.poke("status")  # no-op before the event loop runs
        for problem in problems:
            if problem not in self._reported:
                self._reported.add(problem)
                logger.warning("invalid setting, using the default: %s", problem)
                self._warn(f"{problem} (using the default)")
        return problems

    # -- calls (CallEvents) ----------------------------------------------------------------
    def call_finished(self, info: CallInfo) -> None:
        """A call ended (the meter has recorded it): refresh what the user sees, export it."""
        if self.telemetry.enabled:
            self.telemetry.record(info, self.accounting.cost_of(info))
        self._spend_refresh.poke(info.uri)
        self._status_refresh.poke("status")

    def provider_failed(self, error: ProviderError, announce: bool) -> None:
        """A call failed: log it, and tell the user once per kind."""
        message = redact(error.user_message(), self.settings.api_key_value)
        logger.warning("%s", message)
        self._status_refresh.poke("status")  # the status bar shows `paused` and why
        ends_in = self.meter.gate.pause_ends_in()
        if ends_in is not None:  # ... and stops showing it when the pause is over
            if self._pause_timer is not None:
                self._pause_timer.cancel()
            loop = asyncio.get_running_loop()
            self._pause_timer = loop.call_later(ends_in, self._status_refresh.poke, "status")
        if announce:
            self.frontend.show_message("error" if error.fatal else "warning", message)

    def budget_changed(self, message: str, uri: str) -> None:
        """A spending stage changed: say so once, and show it in the status and the file."""
        self._warn(message)
        self._status_refresh.poke("status")
        self._spend_refresh.poke(uri)

    # -- completions (CompletionEvents) ----------------------------------------------------
    def completion_requested(self, uri: str) -> None:
        """A new FIM request for `uri`: earlier unanswered suggestions there were rejected."""
        self.accounting.next_request(uri)
        self._status_refresh.poke("status")

    def completion_answered(self, uri: str, request_id: str, shown_chars: int) -> None:
        """The FIM answer was shown (or, with nothing left after post-processing, filtered)."""
        if shown_chars:
            self.accounting.shown(uri, request_id, shown_chars)
        else:
            self.accounting.filtered(request_id)
        self.telemetry.outcome("shown" if shown_chars else "filtered")
        self._spend_refresh.poke(uri)

    def completion_reused(self, uri: str, request_id: str, shown_chars: int) -> None:
        """A suggestion was answered without a call (type-through, or a followed stream)."""
        self.accounting.reused(uri, request_id, shown_chars)

    def accepted(self, request_id: str, chars: int, partial: bool = False) -> None:
        """The editor accepted all (or `partial`ly) of a suggestion."""
        uri = self.accounting.accepted(request_id, chars, partial)
        self.telemetry.outcome("partially_accepted" if partial else "accepted")
        for doc in self.documents:
            if uri is None or doc.uri == uri:  # unknown (e.g. answered late): refresh them all
                self._spend_refresh.poke(doc.uri)
        self._status_refresh.poke("status")

    # -- documents -------------------------------------------------------------------------
    def set_workspace(self, root: str | None) -> None:
        """The workspace root: recorded in the ledger, and the base of file labels in prompts."""
        self.workspace.root = root
        self.accounting.workspace = root
        self.telemetry.configure(self.settings, self._env, root)
        self.completion.set_roots([root] if root else [])
        self.documents.set_workspace(root)

    def open_document(self, uri: str, language_id: str, version: int, text: str) -> None:
        """Register a document; nothing derived from an earlier text of `uri` survives (editors
        restart versions, so a cache keyed by (uri, version) would answer from stale text)."""
        self.actions.forget(uri)
        self.reviews.clear(uri)
        doc = self.documents.open(uri, language_id, version, text)
        self.completion.opened(doc)
        if self.settings.diagnostics.window != "session":
            self._spend_refresh.poke(uri)  # show what was already spent on this file

    def change_document(self, uri: str, version: int, changes: list[TextChange]) -> bool:
        """Apply edits; False when the document is not open."""
        doc = self.documents.change(uri, version, changes)
        if doc is None:
            return False
        self.completion.edited(doc, [c.start[0] if c.start else 0 for c in changes])
        deltas = [
            (c.start[0], c.end[0], len(split_lines(c.text)) - 1 - (c.end[0] - c.start[0]))
            for c in changes
            if c.start is not None and c.end is not None
        ]
        if self.reviews.edited(doc, changes, deltas):
            self.frontend.publish_review(uri)
        return True

    def close_document(self, uri: str) -> None:
        """Forget a document; its open suggestions were not accepted."""
        self.documents.close(uri)
        self.completion.closed(uri)
        self.actions.forget(uri)
        self.reviews.clear(uri)
        self.accounting.next_request(uri)
        self.accounting.cache_watch.forget(uri)

    # -- figures shown back ----------------------------------------------------------------
    async def _refresh_spend(self, key: Hashable) -> None:
        uri = str(key)
        settings = self.settings.diagnostics
        if self.documents.get(uri) is None:
            return
        if not settings.enabled:
            self.frontend.publish_spend(uri, None, settings.severity)
            return
        stats = await self.accounting.file_stats(uri)
        if stats.calls == 0:
            self.frontend.publish_spend(uri, None, settings.severity)
            return
        planner = await self.accounting.file_stats(uri, role="planner") if stats.calls else None
        message = spend_line(stats, planner.cost_usd if planner is not None else 0.0)
        if self.meter.stage is not Stage.NORMAL:
            message += f" · budget: {self.meter.stage.name.lower().replace('_', ' ')}"
        drop = self.accounting.drops.get(uri)
        if drop is not None:
            message += " · " + drop.explain()
        self.frontend.publish_spend(uri, message, settings.severity)

    async def status(self) -> dict[str, Any]:
        """The `flashpro/status` payload: session spend, cache-hit rate, requests in flight."""
        stats = await self.accounting.session_stats()
        blocked = self.meter.blocked()
        return {
            "sessionCostUsd": round(stats.cost_usd, 8),
            "sessionTokens": stats.prompt_tokens + stats.output_tokens,
            "promptTokens": stats.prompt_tokens,
            "cacheHitTokens": stats.cache_hit_tokens,
            "cacheHitRatio": stats.cache_hit_ratio,
            "calls": stats.calls,
            "shown": stats.shown,
            "accepted": stats.accepted + stats.partially_accepted,
            "wastedUsd": round(stats.wasted_usd, 8),
            "inFlight": self.completion.in_flight,
            "state": "paused" if blocked is not None else ("busy" if self.completion.in_flight else "idle"),
            "pausedBy": blocked.kind if blocked is not None else None,
            "budget": self.meter.stage.name.lower(),
        }

    async def _refresh_status(self, _key: Hashable) -> None:
        self.frontend.send_status(await self.status())

    # -- lifecycle -------------------------------------------------------------------------
    async def check_models(self) -> None:
        """Compare configured model names with `GET /models`; say clearly if one is unknown."""
        gate, provider = self.meter.gate, self.meter.provider
        if not provider.has_key:
            error = MissingKey("no DeepSeek API key is configured")
            self.provider_failed(error, announce=gate.observe(error))
            return
        try:
            available = set(await provider.list_models())
        except ProviderError as error:
            self.provider_failed(error, announce=gate.observe(error))
            return
        for role, name in (("flash", self.settings.models.flash), ("pro", self.settings.models.pro)):
            if available and name not in available:
                self.frontend.show_message(
                    "warning",
                    f"flashpro: model '{name}' (flashpro.models.{role}) is not offered by this "
                    f"API key; available: {', '.join(sorted(available))}",
                )

    async def warm_up(self) -> None:
        """Load the tokenizer and the secret rules in a worker thread, so the first completion
        does not wait for them."""
        await asyncio.to_thread(count, "warm up")
        await asyncio.to_thread(load_rules)

    async def shutdown(self) -> None:
        """Flush the ledger and release network resources."""
        if self._pause_timer is not None:
            self._pause_timer.cancel()
        await self._spend_refresh.drain()
        await self._status_refresh.drain()
        self.accounting.close()
        await asyncio.to_thread(self.telemetry.shutdown)
        await self.meter.aclose()

