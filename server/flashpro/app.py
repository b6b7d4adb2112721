"""The flashpro core: all state of one server session, with no LSP library in sight.

`Flashpro` owns the settings, the open documents, the provider, the error gate, the completion
service and (when present) the ledger. The LSP layer (`flashpro.lsp`) holds one `Flashpro` and
talks to the editor through the `Frontend` protocol it implements.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from pathlib import Path
from datetime import UTC, datetime
from collections.abc import Hashable, Mapping
from typing import Any, Protocol

from flashpro.accounting import Accounting, Throttle, spend_line
from flashpro.actions import ActionRunner, ActionService, ReviewStore
from flashpro.completion import CallInfo, CompletionService
from flashpro.completion.budget import BudgetCaps, BudgetPolicy, Limits, Stage, StageTracker
from flashpro.config import ActionRoute, Settings, load_settings, merge_sources
from flashpro.documents import DocumentStore, Encoding, TextChange, split_lines, uri_to_path
from flashpro.logs import SECRET_FILTER
from flashpro.privacy import load_rules
from flashpro.providers import DeepSeekProvider, MissingKey, ProviderError, redact
from flashpro.providers.gate import ErrorGate
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
        self.settings: Settings = Settings()
        self.documents = DocumentStore()
        self.gate = ErrorGate()
        self.provider = DeepSeekProvider(None, self.settings.base_url)
        self.completion = CompletionService(
            settings=lambda: self.settings,
            provider=lambda: self.provider,
            gate=self.gate,
            sink=self,
            limits=self.budget_limits,
        )
        self._budget = StageTracker(BudgetPolicy(BudgetCaps()))
        self.accounting = Accounting(
            settings=lambda: self.settings,
            session_id=self.session_id,
            on_problem=lambda text: self.frontend.show_message("warning", text),
        )
        self.reviews = ReviewStore()
        self.actions = ActionRunner(
            ActionService(
                settings=lambda: self.settings,
                provider=lambda: self.provider,
                gate=self.gate,
                sink=self,
                prices=lambda: self.accounting.prices,
                limits=self.action_limits,
                label=lambda uri: self.completion.extra.label(uri),
                root=lambda: self.accounting.workspace,
            ),
            self.documents,
            self.reviews,
            root=self.root_for,
            exclude=lambda: self.settings.exclude,
        )
        self._spend_refresh = Throttle(0.3, self._refresh_spend)
        self._status_refresh = Throttle(0.25, self._refresh_status)
        self.configure()

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
        old = self.settings
        self.settings = settings
        key_changed = (
            old.api_key_value != settings.api_key_value
            or old.base_url != settings.base_url
            or old.request_timeout != settings.request_timeout
        )
        if key_changed or self.provider.has_key != bool(settings.api_key_value):
            self.provider = DeepSeekProvider(
                settings.api_key_value, settings.base_url, chat_timeout=settings.request_timeout
            )
            self.gate.reset()
        self.documents.set_exclude(settings.exclude)
        self.accounting.configure(settings)
        caps = settings.budget
        self._budget.policy = BudgetPolicy(BudgetCaps(caps.day_usd, caps.file_usd, caps.request_tokens))
        SECRET_FILTER.key = settings.api_key_value
        self._status_refresh.poke("status")  # no-op before the event loop runs
        for problem in problems:
            if problem not in self._reported:
                self._reported.add(problem)
                logger.warning("invalid setting, using the default: %s", problem)
                self.frontend.show_message("warning", f"{problem} (using the default)")
        return problems

    # -- provider events (CallSink) --------------------------------------------------------
    def call_finished(self, info: CallInfo) -> None:
        """Every model call ends here: cancelled, failed or fine."""
        trace = info.trace
        usage = trace.usage
        logger.info(
            "%s %s %s status=%s%s prompt=%s hit=%s out=%s %.0fms",
            info.kind,
            info.model,
            info.uri,
            info.status,
            f" ({info.error_kind})" if info.error_kind else "",
            usage.prompt_tokens if usage else "-",
            usage.cache_hit_tokens if usage else "-",
            usage.completion_tokens if usage else "-",
            trace.latency_total_ms,
        )
        self.accounting.record(info)
        self._spend_refresh.poke(info.uri)
        self._status_refresh.poke("status")

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
        self._spend_refresh.poke(uri)

    def completion_reused(self, uri: str, request_id: str) -> None:
        """A suggestion was answered from the local cache (type-through): zero tokens."""
        self.accounting.next_request(uri, keep=request_id)

    def accepted(self, request_id: str, chars: int, partial: bool = False) -> None:
        """The editor accepted all (or `partial`ly) of a suggestion."""
        uri = self.accounting.accepted(request_id, chars, partial)
        for doc in self.documents:
            if uri is None or doc.uri == uri:  # unknown (e.g. answered late): refresh them all
                self._spend_refresh.poke(doc.uri)
        self._status_refresh.poke("status")

    # -- documents -------------------------------------------------------------------------
    def set_workspace(self, root: str | None) -> None:
        """The workspace root: recorded in the ledger, and the base of file labels in prompts."""
        self.accounting.workspace = root
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

    def root_for(self, uri: str) -> Path:
        """Where files for `uri` go: the workspace root, else the file's folder."""
        root = self.accounting.workspace
        return Path(root) if root else Path(uri_to_path(uri)).parent

    # -- budgets ---------------------------------------------------------------------------
    def action_limits(self, uri: str, route: ActionRoute) -> Limits:
        """What an action on `uri` may spend now (its route's budgets, degraded by stage)."""
        return self._budget.policy.limits(
            self._stage(uri), route.context_tokens, route.max_output_tokens
        )

    def budget_limits(self, uri: str, invoked: bool = False) -> Limits:
        """What a completion for `uri` may spend now."""
        completion = self.settings.completion
        output = completion.invoked_max_output_tokens if invoked else completion.max_output_tokens
        return self._budget.policy.limits(self._stage(uri), completion.context_tokens, output)

    def _stage(self, uri: str) -> Stage:
        """The budget stage for `uri` now; announces each stage change once a day."""
        policy = self._budget.policy
        caps = policy.caps
        if caps.day_usd is None and caps.file_usd is None:
            stage, cause = Stage.NORMAL, None
        else:
            day, file = self.accounting.spend_today(uri)
            stage = policy.stage(day, file)
            cause = policy.fraction(day, file)[1]
        message = self._budget.update(datetime.now(UTC).date().isoformat(), stage, cause)
        if message is not None:
            logger.warning("%s", message)
            self.frontend.show_message("warning", message)
            self._status_refresh.poke("status")
            self._spend_refresh.poke(uri)
        return stage

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
        if self._budget.stage is not Stage.NORMAL:
            message += f" · budget: {self._budget.stage.name.lower().replace('_', ' ')}"
        drop = self.accounting.drops.get(uri)
        if drop is not None:
            message += " · " + drop.explain()
        self.frontend.publish_spend(uri, message, settings.severity)

    async def status(self) -> dict[str, Any]:
        """The `flashpro/status` payload: session spend, cache-hit rate, requests in flight."""
        stats = await self.accounting.session_stats()
        blocked = self.gate.blocked_by()
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
            "budget": self._budget.stage.name.lower(),
        }

    async def _refresh_status(self, _key: Hashable) -> None:
        self.frontend.send_status(await self.status())

    def provider_failed(self, error: ProviderError, announce: bool) -> None:
        """A call failed: log it, and tell the user once per kind."""
        message = redact(error.user_message(), self.settings.api_key_value)
        logger.warning("%s", message)
        self._status_refresh.poke("status")  # the status bar shows `paused` and why
        if announce:
            self.frontend.show_message("error" if error.fatal else "warning", message)

    # -- lifecycle -------------------------------------------------------------------------
    async def check_models(self) -> None:
        """Compare configured model names with `GET /models`; say clearly if one is unknown."""
        if not self.provider.has_key:
            error = MissingKey("no DeepSeek API key is configured")
            self.provider_failed(error, announce=self.gate.observe(error))
            return
        try:
            available = set(await self.provider.list_models())
        except ProviderError as error:
            self.provider_failed(error, announce=self.gate.observe(error))
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
        await self._spend_refresh.drain()
        await self._status_refresh.drain()
        self.accounting.close()
        await self.provider.aclose()

