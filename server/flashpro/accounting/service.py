"""Accounting: every call into the ledger, outcomes of completions, and the figures shown back.

`Accounting` is the meter's `CallLedger`: it writes a call's row when the call starts (status
`interrupted` until it ends, so a crash leaves a visible row) and completes it, priced from the
price table at the call's UTC start time, when it ends. It follows what became of each shown
completion, watches the prompt-cache hit ratio per file, and answers the aggregate questions the
diagnostics, the status bar and `flashpro.report` ask. Ledger reads run in worker threads, so the
event loop never waits on SQLite: today's spend for the budget caps is the ledger's figure for
other sessions (read once a day in the background) plus this session's own calls, counted in
memory as they are recorded.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flashpro.accounting.acceptance import AcceptanceTracker
from flashpro.accounting.cachewatch import CacheDrop, CacheWatch
from flashpro.calls import CallInfo
from flashpro.config import Settings
from flashpro.ledger import CallRecord, Ledger, PriceTable, Stats, default_ledger_path
from flashpro.ledger.report import parse_since

__all__ = ["Accounting"]

logger = logging.getLogger(__name__)


def _day_key(when: datetime) -> str:
    """The UTC date of `when`, the period of the daily caps."""
    return when.astimezone(UTC).date().isoformat()


def _midnight(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class _DaySpend:
    """USD spent today, by file: other sessions' (from the ledger, in the background) plus ours."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.day = ""
        self.mine: dict[str, float] = {}
        self.others: dict[str, float] | None = None  # None until the background read lands
        self._reading = False

    def roll(self, day: str) -> bool:
        """Start `day` if it is new; True when the ledger should be read for it."""
        with self._lock:
            if day != self.day:
                self.day, self.mine, self.others, self._reading = day, {}, None, False
            if self.others is None and not self._reading:
                self._reading = True
                return True
            return False

    def seed(self, day: str, others: dict[str, float]) -> None:
        with self._lock:
            if day == self.day:
                self.others, self._reading = others, False

    def add(self, day: str, uri: str, cost: float) -> None:
        with self._lock:
            if day != self.day:
                self.day, self.mine, self.others, self._reading = day, {}, None, False
            self.mine[uri] = self.mine.get(uri, 0.0) + cost

    def totals(self, uri: str) -> tuple[float, float]:
        with self._lock:
            others = self.others or {}
            day = sum(self.mine.values()) + sum(others.values())
            return day, self.mine.get(uri, 0.0) + others.get(uri, 0.0)


class Accounting:
    """The session's ledger and the figures derived from it."""

    def __init__(self, session_id: str, on_problem: Callable[[str], None]):
        self._settings = Settings()
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
        self._today = _DaySpend()

    # -- the ledger ------------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        """Apply new settings (the ledger re-opens if its path changed); a bad price override is
        reported and the built-in table stays."""
        self._settings = settings
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
        settings = self._settings
        path = str(default_ledger_path(settings.ledger_path))
        key = (path, settings.log_prompts)
        if self._ledger is None or self._ledger_key != key:
            self.close()
            self._ledger = self._open(Path(path), settings.log_prompts)
            self._ledger_key = key
        return self._ledger

    def _open(self, path: Path, log_prompts: bool) -> Ledger:
        """Open the ledger at `path`. A corrupt file is moved aside (kept for inspection) and a
        fresh ledger starts in its place; an unusable path falls back to the default location."""
        try:
            return Ledger(path, prices=self.prices, store_prompt_text=log_prompts)
        except sqlite3.DatabaseError as exc:
            aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            try:
                for suffix in ("", "-wal", "-shm"):
                    part = Path(str(path) + suffix)
                    if part.exists():
                        part.rename(Path(str(aside) + suffix))
                ledger = Ledger(path, prices=self.prices, store_prompt_text=log_prompts)
            except (OSError, sqlite3.Error):
                pass
            else:
                self._on_problem(f"flashpro: the ledger at {path} was unreadable ({exc}); it was moved to {aside} and a new one started")
                return ledger
            problem: Exception = exc
        except OSError as exc:
            problem = exc
        fallback = default_ledger_path(None)
        if fallback == path:
            raise problem
        self._on_problem(f"flashpro: cannot open the ledger at {path} ({problem}); using {fallback}")
        return Ledger(fallback, prices=self.prices, store_prompt_text=log_prompts)

    def close(self) -> None:
        """Flush and close the ledger."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    # -- writing ---------------------------------------------------------------------------
    def call_started(self, info: CallInfo) -> None:
        """A call is about to go out: its row, `interrupted` until `call_finished` completes it."""
        self.ledger.record(self._row(info, status="interrupted", usage=False))

    def call_finished(self, info: CallInfo) -> None:
        """A call ended (answered, cancelled or failed): complete its row."""
        self.record(info)

    def _row(self, info: CallInfo, *, status: str, usage: bool = True) -> CallRecord:
        trace = info.trace
        return CallRecord.from_usage(
            request_id=info.request_id,
            kind=info.kind,
            role=info.role,
            model_requested=info.model,
            model_reported=trace.model_reported,
            usage=trace.usage if usage else None,
            prices=self.prices,
            time_utc=trace.started_utc,
            session_id=self.session_id,
            workspace=self.workspace,
            file_uri=info.uri,
            latency_first_ms=trace.latency_first_ms if usage else None,
            latency_total_ms=trace.latency_total_ms if usage else None,
            status=status,
            error_kind=info.error_kind,
            outcome=info.outcome,
            shown_chars=info.shown_chars,
            details={**info.details, "server_request_id": trace.request_id},
            prompt_text=info.prompt_text,
            task_id=info.task_id,
            node_id=info.node_id,
            attempt=info.attempt,
        )

    def record(self, info: CallInfo) -> CacheDrop | None:
        """The finished call's ledger row; returns a cache drop worth explaining, if any."""
        trace = info.trace
        record = self._row(info, status=info.status)
        self.ledger.record(record)
        if record.cost_usd:
            self._today.add(_day_key(record.time_utc), info.uri, record.cost_usd)
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

    def cost_of(self, info: CallInfo) -> float | None:
        """The USD cost of a finished call (None: no usage, or a model with no price)."""
        usage = info.trace.usage
        if usage is None:
            return None
        cost = self.prices.cost_usd(usage, info.trace.model_reported or info.model, info.trace.started_utc)
        return None if cost is None else float(cost)

    def write(self, table: str, **fields: object) -> None:
        """A task, node or attempt row (see `Ledger.write`)."""
        row = {"session_id": self.session_id} if table == "tasks" else {}
        self.ledger.write(table, **row, **fields)

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

    def reused(self, uri: str, request_id: str, chars: int) -> None:
        """A suggestion was answered again without a call (type-through, or a keystroke that
        followed a running stream): it is (still) shown; others there were rejected."""
        self.next_request(uri, keep=request_id)
        if not self.acceptance.is_open(uri, request_id):
            self.shown(uri, request_id, chars)

    def spend_today(self, uri: str) -> tuple[float, float]:
        """USD spent today (UTC) in all files and in `uri`. Never waits on SQLite: other
        sessions' spend is read in a background thread once a day (0 until it lands)."""
        day = _day_key(datetime.now(UTC))
        if self._today.roll(day):
            ledger, session = self.ledger, self.session_id
            threading.Thread(
                target=self._read_others, args=(ledger, session, day), name="flashpro-spend", daemon=True
            ).start()
        return self._today.totals(uri)

    def _read_others(self, ledger: Ledger, session: str, day: str) -> None:
        try:
            since = _midnight(datetime.fromisoformat(day).replace(tzinfo=UTC))
            files = ledger.spend_by_file(since=since, exclude_session=session)
        except Exception:  # noqa: BLE001 - a failed read must not stop the budget
            logger.warning("could not read today's spend from the ledger", exc_info=True)
            files = {}
        self._today.seed(day, files)

    # -- reading ---------------------------------------------------------------------------
    def _window(self) -> dict[str, Any]:
        window = self._settings.diagnostics.window
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
