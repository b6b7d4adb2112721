"""The :class:`Ledger`: a SQLite file (WAL) with one row per API call, written off the event loop.

Writes never block the caller: :meth:`Ledger.record` and :meth:`Ledger.set_outcome` validate,
then put work on a queue. One writer thread, with its own connection, takes whatever is queued
and commits it as one transaction right away (under load batches grow by themselves).
:meth:`Ledger.flush` waits until everything queued so far is committed. A commit in WAL mode with
``synchronous=NORMAL`` survives the process being killed (``kill -9``); only an operating-system
crash or power loss may lose the last commits.

Reads (:meth:`Ledger.stats`, :meth:`Ledger.report`, ...) are plain synchronous methods on a
separate connection; run them in a thread from async code. They see committed rows only.

Where the file lives (:func:`default_ledger_path`): an explicit setting, else env
``FLASHPRO_LEDGER``, else ``<user data dir>/flashpro/ledger.sqlite3``.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import platformdirs

from flashpro.ledger.aggregates import Report, Stats, build_filter, query_report, query_stats
from flashpro.ledger.prices import PriceTable
from flashpro.ledger.records import OUTCOMES, CallRecord, format_utc
from flashpro.ledger.schema import (
    ATTEMPT_COLUMNS,
    CALL_COLUMNS,
    NODE_COLUMNS,
    TASK_COLUMNS,
    apply_migrations,
    configure,
)
from flashpro.ledger.sent import SentCall, query_sent

__all__ = ["LEDGER_ENV", "Ledger", "LedgerError", "default_ledger_path"]

logger = logging.getLogger(__name__)

LEDGER_ENV: Final = "FLASHPRO_LEDGER"
"""Environment variable naming the ledger file (used when no setting is given)."""

_MAX_BATCH: Final = 1000
_MAX_PENDING_OUTCOMES: Final = 10_000

_KEEP_IF_NULL: Final = frozenset({"outcome", "accepted_chars", "shown_chars"})
# A second record() of the same request_id replaces the row but keeps an outcome already set.
_UPSERT_SQL: Final = (
    f"INSERT INTO calls ({', '.join(CALL_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in CALL_COLUMNS)})"
    " ON CONFLICT(request_id) DO UPDATE SET "
    + ", ".join(
        f"{c} = COALESCE(excluded.{c}, calls.{c})" if c in _KEEP_IF_NULL else f"{c} = excluded.{c}"
        for c in CALL_COLUMNS
        if c != "request_id"
    )
)
# An acceptance is final: a later "shown" (a type-through) or "rejected" never undoes it.
_OUTCOME_SQL: Final = (
    "UPDATE calls SET outcome = ?, accepted_chars = COALESCE(?, accepted_chars),"
    " shown_chars = COALESCE(?, shown_chars) WHERE request_id = ?"
    " AND (? IN ('accepted', 'partially_accepted') OR outcome IS NULL"
    " OR outcome NOT IN ('accepted', 'partially_accepted'))"
)
_EXISTS_SQL: Final = "SELECT 1 FROM calls WHERE request_id = ?"


class LedgerError(Exception):
    """The ledger file is missing, unreadable or not a flashpro ledger."""


def default_ledger_path(setting: str | None = None) -> Path:
    """The ledger file: ``setting`` if given, else ``$FLASHPRO_LEDGER``, else the user data dir."""
    for candidate in (setting, os.environ.get(LEDGER_ENV)):
        if candidate and candidate.strip():
            return Path(candidate.strip()).expanduser()
    return Path(platformdirs.user_data_dir("flashpro", appauthor=False)) / "ledger.sqlite3"


@dataclass(frozen=True, slots=True)
class _Outcome:
    request_id: str
    outcome: str
    accepted_chars: int | None
    shown_chars: int | None


@dataclass(frozen=True, slots=True)
class _Flush:
    done: threading.Event


@dataclass(frozen=True, slots=True)
class _Upsert:
    """A task, node or attempt row: inserted, or updated field by field (None keeps a value)."""

    update: str
    insert: str
    params: dict[str, Any]


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> tuple[str, str]:
    sets = ", ".join(f"{c} = COALESCE(:{c}, {c})" for c in columns if c not in key)
    where = " AND ".join(f"{c} = :{c}" for c in key)
    return (
        f"UPDATE {table} SET {sets} WHERE {where}",
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
    )


_TABLES: Final = {
    "tasks": (_upsert("tasks", TASK_COLUMNS, ("id",)), TASK_COLUMNS),
    "nodes": (_upsert("nodes", NODE_COLUMNS, ("task_id", "node_id")), NODE_COLUMNS),
    "attempts": (_upsert("attempts", ATTEMPT_COLUMNS, ("task_id", "node_id", "n", "replica")), ATTEMPT_COLUMNS),
}


_STOP: Final = object()


class Ledger:
    """The usage ledger at ``path``; see the module docstring for the threading model.

    ``prices`` lets :meth:`record` fill in ``cost_usd`` for rows that carry tokens but no cost.
    ``store_prompt_text`` is the user's opt-in to keeping prompt text; without it the column stays
    NULL whatever the caller passes. ``read_only`` opens an existing ledger for reading only (no
    writer thread, no migrations); it raises :class:`LedgerError` if the file is missing or not a
    ledger.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        prices: PriceTable | None = None,
        store_prompt_text: bool = False,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path).expanduser()
        self.prices = prices
        self.store_prompt_text = store_prompt_text
        self.read_only = read_only
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._read_lock = threading.Lock()
        self._closed = False
        self._pending: OrderedDict[str, _Outcome] = OrderedDict()
        self._writer: threading.Thread | None = None
        if read_only:
            self._reader = self._open_read_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        setup = self._connect()
        try:
            apply_migrations(setup)
        finally:
            setup.close()
        self._reader = self._connect(check_same_thread=False)
        self._writer = threading.Thread(
            target=self._write_loop, name=f"flashpro-ledger:{self.path.name}", daemon=True
        )
        self._writer.start()
        atexit.register(self._close_at_exit)

    # --- writing (never blocks) -------------------------------------------------------------------

    def record(self, row: CallRecord) -> None:
        """Queue one call for writing. Raises ``ValueError`` at once if the row is invalid."""
        row.validate()
        if self._closed or self._writer is None:
            logger.warning(
                "ledger %s is closed or read-only; dropped call %s", self.path, row.request_id
            )
            return
        if row.cost_usd is None and self.prices is not None and row.usage is not None:
            row = row.priced(self.prices)
        self._queue.put(row)

    def set_outcome(
        self,
        request_id: str,
        outcome: str,
        accepted_chars: int | None = None,
        shown_chars: int | None = None,
    ) -> None:
        """Queue the outcome of a call (shown, accepted, ...). May arrive before its record."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, not {outcome!r}")
        if self._closed or self._writer is None:
            logger.warning(
                "ledger %s is closed or read-only; dropped outcome of %s", self.path, request_id
            )
            return
        self._queue.put(_Outcome(request_id, outcome, accepted_chars, shown_chars))

    def write(self, table: str, **fields: Any) -> None:
        """Queue a row of `tasks`, `nodes` or `attempts` (upserted by its key; fields left out or
        None keep their stored values)."""
        (update, insert), columns = _TABLES[table]
        unknown = set(fields) - set(columns)
        if unknown:
            raise ValueError(f"unknown {table} columns: {sorted(unknown)}")
        if self._closed or self._writer is None:
            logger.warning("ledger %s is closed or read-only; dropped a %s row", self.path, table)
            return
        self._queue.put(_Upsert(update, insert, {column: fields.get(column) for column in columns}))

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Block until everything queued so far is committed; False on timeout or a dead writer."""
        writer = self._writer
        if writer is None or not writer.is_alive():
            return self._writer is None
        marker = _Flush(threading.Event())
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Commit what is queued, stop the writer and close both connections. Idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._close_at_exit)
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join(timeout)
            if self._writer.is_alive():
                logger.warning(
                    "ledger writer did not finish within %ss; some rows may be lost", timeout
                )
        with self._read_lock:
            self._reader.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _close_at_exit(self) -> None:
        self.close(timeout=2.0)

    # --- reading (sync, separate connection) ------------------------------------------------------

    def stats(
        self,
        file_uri: str | None = None,
        since: datetime | None = None,
        session_id: str | None = None,
        workspace: str | Sequence[str] | None = None,
        role: str | None = None,
    ) -> Stats:
        """Totals over the committed rows matching every given filter (``since`` inclusive)."""
        where = build_filter(
            file_uri=file_uri, since=since, session_id=session_id, workspace=workspace, role=role
        )
        with self._read_lock:
            return query_stats(self._reader, where)

    def spend_by_file(self, since: datetime, exclude_session: str | None = None) -> dict[str, float]:
        """USD per file (``""`` for calls without one) since ``since``, other sessions only when
        ``exclude_session`` is given (committed rows)."""
        sql = "SELECT COALESCE(file_uri, ''), SUM(cost_usd) FROM calls WHERE time_utc >= ?"
        params: list[Any] = [format_utc(since)]
        if exclude_session is not None:
            sql += " AND (session_id IS NULL OR session_id != ?)"
            params.append(exclude_session)
        with self._read_lock:
            rows = self._reader.execute(sql + " GROUP BY 1", params).fetchall()
        return {uri: float(cost or 0.0) for uri, cost in rows}

    def report(
        self,
        since: datetime | None = None,
        workspace: str | Sequence[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> Report:
        """Totals by file, model, role and UTC day; ``workspace`` may list several spellings."""
        with self._read_lock:
            return query_report(
                self._reader, since=since, workspace=workspace, now=now or datetime.now(UTC)
            )

    def workspaces(self) -> list[str]:
        """Every workspace the committed rows were recorded in (for naming files in reports)."""
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT DISTINCT workspace FROM calls WHERE workspace IS NOT NULL"
            ).fetchall()
        return sorted(str(row[0]) for row in rows)

    def sent(
        self,
        spellings: Sequence[str],
        since: datetime | None = None,
        workspace: str | Sequence[str] | None = None,
    ) -> list[SentCall]:
        """The calls that sent any part of a file (named by any of `spellings`), oldest first."""
        with self._read_lock:
            return query_sent(self._reader, spellings, since=since, workspace=workspace)

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The committed row of ``request_id`` as a dict (for tests and debugging), or None."""
        with self._read_lock:
            cursor = self._reader.execute("SELECT * FROM calls WHERE request_id = ?", (request_id,))
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cursor.description], row, strict=True))

    # --- internals --------------------------------------------------------------------------------

    def _connect(self, *, check_same_thread: bool = True) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=check_same_thread)
        configure(conn)
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise LedgerError(f"no ledger at {self.path}")
        try:
            conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA busy_timeout = 5000")
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calls'"
            ).fetchone()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot read ledger {self.path}: {exc}") from exc
        if not found:
            conn.close()
            raise LedgerError(f"{self.path} is not a flashpro ledger (no 'calls' table)")
        return conn

    def _write_loop(self) -> None:
        conn = self._connect()
        try:
            stop = False
            while not stop:
                batch = [self._queue.get()]
                while len(batch) < _MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = any(item is _STOP for item in batch)
                self._commit(
                    conn, [item for item in batch if isinstance(item, (CallRecord, _Outcome, _Upsert))]
                )
                for item in batch:
                    if isinstance(item, _Flush):
                        item.done.set()
        except Exception:  # pragma: no cover - a bug; keep the event loop alive, say so
            logger.exception("ledger writer stopped")
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, writes: list[CallRecord | _Outcome | _Upsert]) -> None:
        if not writes:
            return
        try:
            self._transaction(conn, writes)
        except Exception:
            logger.warning(
                "ledger batch of %s failed; retrying one by one", len(writes), exc_info=True
            )
            for item in writes:
                try:
                    self._transaction(conn, [item])
                except Exception:
                    logger.exception("ledger dropped %s", _describe(item))

    def _transaction(
        self, conn: sqlite3.Connection, writes: list[CallRecord | _Outcome | _Upsert]
    ) -> None:
        # Outcomes that arrive before their record wait in self._pending; changes to it are
        # staged here and applied only once the transaction has committed.
        early: dict[str, _Outcome] = {}
        consumed: set[str] = set()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for item in writes:
                if isinstance(item, _Upsert):
                    if conn.execute(item.update, item.params).rowcount == 0:
                        conn.execute(item.insert, item.params)
                elif isinstance(item, CallRecord):
                    conn.execute(_UPSERT_SQL, item.to_row(keep_prompt_text=self.store_prompt_text))
                    waiting = early.pop(item.request_id, None)
                    if waiting is None and item.request_id not in consumed:
                        waiting = self._pending.get(item.request_id)
                    if waiting is not None:
                        consumed.add(item.request_id)
                        conn.execute(_OUTCOME_SQL, _outcome_params(waiting))
                elif conn.execute(_OUTCOME_SQL, _outcome_params(item)).rowcount == 0:
                    if conn.execute(_EXISTS_SQL, (item.request_id,)).fetchone() is None:
                        early[item.request_id] = item  # its row has not arrived yet
                        consumed.discard(item.request_id)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        for request_id in consumed:
            self._pending.pop(request_id, None)
        for request_id, item in early.items():
            self._pending[request_id] = item
            self._pending.move_to_end(request_id)
        while len(self._pending) > _MAX_PENDING_OUTCOMES:
            self._pending.popitem(last=False)


def _outcome_params(item: _Outcome) -> tuple[Any, ...]:
    return (item.outcome, item.accepted_chars, item.shown_chars, item.request_id, item.outcome)


def _describe(item: CallRecord | _Outcome | _Upsert) -> str:
    if isinstance(item, _Upsert):
        return item.insert.split("(", 1)[0].lower()
    if isinstance(item, CallRecord):
        return f"call {item.request_id}"
    return f"outcome {item.outcome} of {item.request_id}"
