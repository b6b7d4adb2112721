"""Accounting: every call into the ledger, outcomes of completions, and the figures shown back.

`Accounting` turns each finished call (`CallInfo`) into one ledger row priced from the price
table at the call's UTC start time, follows what became of each shown completion, watches the
prompt-cache hit ratio per file, and answers the aggregate questions the diagnostics, the
status bar and `flashpro.report` ask. Ledger reads run in a worker thread after a flush, so the
event loop never waits on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flashpro.accounting.acceptance import AcceptanceTracker
from flashpro.accounting.cachewatch import CacheDrop, CacheWatch
from flashpro.completion import CallInfo
from flashpro.config import Settings
from flashpro.ledger import CallRecord, Ledger, PriceTable, Stats, default_ledger_path
from flashpro.ledger.report import parse_since

__all__ = ["Accounting"]


def _day_key(when: datetime) -> str:
    """The UTC date of `when`, the period of the daily caps."""
    return when.astimezone(UTC).date().isoformat()

logger = logging.getLogger(__name__)


class Accounting:
    """The session's ledger and the figures derived from it."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        session_id: str,
        on_problem: Callable[[str], None],
    ):
        self._settings = settings
        self.session_id = session_id
        self.workspace: str | None = None
        self._on_problem = on_problem
        self._ledger: Ledger | None = None
        self._ledger_key: tuple[str, bool] | None = None
        self.prices = PriceTable.load()
        self._prices_source: dict[str, Any] | None = None
        self.acceptance = AcceptanceTracker()
        self.cache_watch = CacheWatch()
        self.drops: dict[str, CacheDrop] = {}
        self._today: tuple[str, float, dict[str, float]] | None = None

    # -- the ledger ------------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        """Apply a new price override; a bad one is reported and the built-in table stays."""
        if settings.prices == self._prices_source:
            return
        self._prices_source = settings.prices
        try:
            self.prices = PriceTable.load(settings.prices)
        except ValueError as exc:
            self.prices = PriceTable.load()
            self._on_problem(f"flashpro.prices: {exc} (using the built-in price table)")
        self.close()  # re-open with the new table

    @property
    def ledger(self) -> Ledger:
        """The open ledger (re-opened when its path or prompt setting changes)."""
        settings = self._settings()
        path = str(default_ledger_path(settings.ledger_path))
        key = (path, settings.log_prompts)
        if self._ledger is None or self._ledger_key != key:
            self.close()
            self._ledger = self._open(Path(path), settings.log_prompts)
            self._ledger_key = key
        return self._ledger

    def _open(self, path: Path, log_prompts: bool) -> Ledger:
        try:
            return Ledger(path, prices=self.prices, store_prompt_text=log_prompts)
        except Exception as exc:  # noqa: BLE001 - an unusable path must not lose the session's rows
            fallback = Path(tempfile.gettempdir()) / "flashpro-ledger.sqlite3"
            self._on_problem(f"flashpro: cannot open the ledger at {path} ({exc}); using {fallback}")
            return Ledger(fallback, prices=self.prices, store_prompt_text=log_prompts)

    def close(self) -> None:
        """Flush and close the ledger."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    # -- writing ---------------------------------------------------------------------------
    def record(self, info: CallInfo) -> CacheDrop | None:
        """One ledger row for a finished call; returns a cache drop worth explaining, if any."""
        trace = info.trace
        record = CallRecord.from_usage(
            request_id=info.request_id,
            kind=info.kind,
            role=info.role,
            model_requested=info.model,
            model_reported=trace.model_reported,
            usage=trace.usage,
            prices=self.prices,
            time_utc=trace.started_utc,
            session_id=self.session_id,
            workspace=self.workspace,
            file_uri=info.uri,
            latency_first_ms=trace.latency_first_ms,
            latency_total_ms=trace.latency_total_ms,
            status=info.status,
            error_kind=info.error_kind,
            outcome=info.outcome,
            shown_chars=info.shown_chars,
            details={**info.details, "server_request_id": trace.request_id},
            prompt_text=info.prompt_text,
        )
        self.ledger.record(record)
        if record.cost_usd and self._today is not None and self._today[0] == _day_key(record.time_utc):
            _, total, files = self._today
            files[info.uri] = files.get(info.uri, 0.0) + record.cost_usd
            self._today = (self._today[0], total + record.cost_usd, files)
        prompt = info.prompt_head
        if info.kind != "fim" or trace.usage is None or not prompt:
            return None
        drop = self.cache_watch.observe(info.uri, prompt, trace.usage.cache_hit_ratio, info.line_at)
        if drop is not None:
            self.drops[info.uri] = drop
        elif trace.usage.cache_hit_ratio is not None and info.uri in self.drops:
            if trace.usage.cache_hit_ratio >= self.drops[info.uri].usual - 0.1:
                del self.drops[info.uri]  # recovered
        return drop

    def shown(self, uri: str, request_id: str, chars: int) -> None:
        """Items from `request_id` went to the editor."""
        self.ledger.set_outcome(request_id, "shown", shown_chars=chars)
        self.acceptance.shown(uri, request_id)

    def filtered(self, request_id: str) -> None:
        """Post-processing dropped the answer: the user never saw it."""
        self.ledger.set_outcome(request_id, "filtered")

    def accepted(self, request_id: str, chars: int, partial: bool = False) -> str | None:
        """The editor accepted (part of) a suggestion; returns its document's URI when known."""
        uri = self.acceptance.answered(request_id)
        outcome = "partially_accepted" if partial else "accepted"
        self.ledger.set_outcome(request_id, outcome, accepted_chars=chars)
        return uri

    def next_request(self, uri: str, keep: str | None = None) -> None:
        """A new completion request for `uri`: unanswered suggestions there were rejected."""
        for request_id in self.acceptance.superseded_by_next(uri, keep):
            self.ledger.set_outcome(request_id, "rejected")

    def spend_today(self, uri: str) -> tuple[float, float]:
        """USD spent today (UTC) in all files and in `uri`: counted in memory after one read."""
        key = _day_key(datetime.now(UTC))
        if self._today is None or self._today[0] != key:
            ledger = self.ledger
            ledger.flush()
            since = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            report = ledger.report(since=since)
            files = {str(group.key): group.stats.cost_usd for group in report.by_file if group.key}
            self._today = (key, report.total.cost_usd, files)
        return self._today[1], self._today[2].get(uri, 0.0)

    # -- reading ---------------------------------------------------------------------------
    def _window(self) -> dict[str, Any]:
        window = self._settings().diagnostics.window
        if window == "session":
            return {"session_id": self.session_id}
        if window == "today":
            now = datetime.now(UTC)
            return {"since": now.replace(hour=0, minute=0, second=0, microsecond=0)}
        return {}

    async def file_stats(self, uri: str, role: str | None = None) -> Stats:
        """Spend on `uri` over the configured diagnostic window (of one role, if given)."""
        ledger, window = self.ledger, self._window()

        def read() -> Stats:
            ledger.flush()
            return ledger.stats(file_uri=uri, role=role, **window)

        return await asyncio.to_thread(read)

    async def session_stats(self) -> Stats:
        """Spend in this server session."""
        ledger = self.ledger

        def read() -> Stats:
            ledger.flush()
            return ledger.stats(session_id=self.session_id)

        return await asyncio.to_thread(read)

    async def report(self, since: str | None = None, workspace: str | None = None) -> dict[str, Any]:
        """The `flashpro report` data as a JSON-ready dict."""
        ledger = self.ledger
        since_dt = parse_since(since) if since else None

        def read() -> dict[str, Any]:
            ledger.flush()
            return ledger.report(since=since_dt, workspace=workspace).to_dict()

        return await asyncio.to_thread(read)
