"""Aggregates over the ledger: :class:`Stats` for any filter, and the grouped :class:`Report`.

All figures come from one SQL expression list (``_STATS_SELECT``) so totals and groups agree.
Definitions, shared by the report and the editor diagnostics:

- ``cache_hit_ratio``: sum of hit tokens / sum of prompt tokens, over calls that reported usage.
- ``shown``: calls whose answer reached the user (outcome shown, accepted, partially accepted or
  rejected; a superseded or filtered answer never did).
- ``acceptance_rate``: (accepted + partially accepted) / shown.
- ``wasted_usd``: cost of calls cancelled, failed after being billed, interrupted, or whose outcome
  is superseded, rejected, filtered or unusable.
- ``usd_per_1k_accepted_chars``: cost / accepted characters x 1000.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flashpro.ledger.records import format_utc
from flashpro.ledger.tasks_report import ComboStats, TaskRow, query_tasks

__all__ = [
    "GroupStats",
    "Report",
    "Stats",
    "query_report",
    "query_stats",
]

_SHOWN = "('shown', 'accepted', 'partially_accepted', 'rejected')"
_WASTED = (
    "status IN ('cancelled', 'error', 'interrupted')"
    " OR outcome IN ('superseded', 'rejected', 'filtered', 'unusable')"
)
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("calls", "COUNT(*)"),
    ("calls_with_usage", "COALESCE(SUM(prompt_tokens IS NOT NULL), 0)"),
    ("prompt_tokens", "COALESCE(SUM(prompt_tokens), 0)"),
    ("cache_hit_tokens", "COALESCE(SUM(cache_hit_tokens), 0)"),
    ("cache_miss_tokens", "COALESCE(SUM(cache_miss_tokens), 0)"),
    ("output_tokens", "COALESCE(SUM(output_tokens), 0)"),
    ("reasoning_tokens", "COALESCE(SUM(reasoning_tokens), 0)"),
    ("cost_usd", "COALESCE(SUM(cost_usd), 0.0)"),
    ("ratio_prompt", "SUM(CASE WHEN cache_hit_tokens IS NOT NULL THEN prompt_tokens END)"),
    ("ratio_hit", "SUM(CASE WHEN prompt_tokens IS NOT NULL THEN cache_hit_tokens END)"),
    ("shown", f"COALESCE(SUM(outcome IN {_SHOWN}), 0)"),
    ("accepted", "COALESCE(SUM(outcome = 'accepted'), 0)"),
    ("partially_accepted", "COALESCE(SUM(outcome = 'partially_accepted'), 0)"),
    ("rejected", "COALESCE(SUM(outcome = 'rejected'), 0)"),
    ("superseded", "COALESCE(SUM(outcome = 'superseded'), 0)"),
    ("filtered", "COALESCE(SUM(outcome = 'filtered'), 0)"),
    ("unusable", "COALESCE(SUM(outcome = 'unusable'), 0)"),
    ("cancelled", "COALESCE(SUM(status = 'cancelled'), 0)"),
    ("errors", "COALESCE(SUM(status = 'error'), 0)"),
    ("interrupted", "COALESCE(SUM(status = 'interrupted'), 0)"),
    ("accepted_chars", "COALESCE(SUM(accepted_chars), 0)"),
    ("shown_chars", f"COALESCE(SUM(CASE WHEN outcome IN {_SHOWN} THEN shown_chars END), 0)"),
    ("wasted_usd", f"COALESCE(SUM(CASE WHEN {_WASTED} THEN cost_usd END), 0.0)"),
    ("unpriced_calls", "COALESCE(SUM(cost_usd IS NULL AND (prompt_tokens IS NOT NULL OR output_tokens IS NOT NULL)), 0)"),
    ("first_utc", "MIN(time_utc)"),
    ("last_utc", "MAX(time_utc)"),
)
_STATS_SELECT = ", ".join(sql for _, sql in _COLUMNS)
_NAMES = tuple(name for name, _ in _COLUMNS)


@dataclass(frozen=True, slots=True)
class Stats:
    """Totals over a set of ledger rows. Costs are USD floats; token counts are ints."""

    calls: int = 0
    calls_with_usage: int = 0
    prompt_tokens: int = 0
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    cache_hit_ratio: float | None = None
    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    rejected: int = 0
    superseded: int = 0
    filtered: int = 0
    unusable: int = 0
    cancelled: int = 0
    errors: int = 0
    interrupted: int = 0
    accepted_chars: int = 0
    shown_chars: int = 0
    wasted_usd: float = 0.0
    unpriced_calls: int = 0
    first_utc: str | None = None
    last_utc: str | None = None

    @property
    def acceptance_rate(self) -> float | None:
        """(accepted + partially accepted) / shown, or None when nothing was shown."""
        if self.shown <= 0:
            return None
        return (self.accepted + self.partially_accepted) / self.shown

    @property
    def usd_per_1k_accepted_chars(self) -> float | None:
        """Cost per 1,000 accepted characters, or None when nothing was accepted."""
        if self.accepted_chars <= 0:
            return None
        return self.cost_usd * 1000 / self.accepted_chars

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field plus the derived ratios."""
        data = asdict(self)
        data["acceptance_rate"] = self.acceptance_rate
        data["usd_per_1k_accepted_chars"] = self.usd_per_1k_accepted_chars
        return data

    @classmethod
    def _from_row(cls, row: Sequence[Any]) -> Stats:
        values = dict(zip(_NAMES, row, strict=True))
        ratio_prompt, ratio_hit = values.pop("ratio_prompt"), values.pop("ratio_hit")
        values["cost_usd"] = float(values["cost_usd"])
        values["wasted_usd"] = float(values["wasted_usd"])
        return cls(cache_hit_ratio=ratio_hit / ratio_prompt if ratio_prompt else None, **values)


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The :class:`Stats` of one group (a file, model, role or UTC day); ``key`` None = unknown."""

    key: str | None
    stats: Stats

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: ``key`` plus the stats fields."""
        return {"key": self.key, **self.stats.to_dict()}


@dataclass(frozen=True, slots=True)
class Report:
    """Ledger totals grouped by file, model, role and UTC day (files/models/roles by cost)."""

    generated_utc: str
    since_utc: str | None
    workspace: tuple[str, ...] | None
    total: Stats
    by_file: tuple[GroupStats, ...]
    by_model: tuple[GroupStats, ...]
    by_role: tuple[GroupStats, ...]
    by_day: tuple[GroupStats, ...]
    tasks: tuple[TaskRow, ...] = ()
    by_combination: tuple[ComboStats, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no call matched."""
        return self.total.calls == 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict ready for JSON."""
        return {
            "generated_utc": self.generated_utc,
            "since_utc": self.since_utc,
            "workspace": list(self.workspace) if self.workspace else None,
            "total": self.total.to_dict(),
            "by_file": [g.to_dict() for g in self.by_file],
            "by_model": [g.to_dict() for g in self.by_model],
            "by_role": [g.to_dict() for g in self.by_role],
            "by_day": [g.to_dict() for g in self.by_day],
            "tasks": [asdict(t) for t in self.tasks],
            "tasks_by_combination": [c.to_dict() for c in self.by_combination],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


Filter = tuple[str, list[Any]]


def build_filter(
    *,
    file_uri: str | None = None,
    since: datetime | None = None,
    session_id: str | None = None,
    workspace: str | Sequence[str] | None = None,
    role: str | None = None,
) -> Filter:
    """A ``WHERE`` clause (possibly empty) and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if role is not None:
        clauses.append("role = ?")
        params.append(role)
    if file_uri is not None:
        clauses.append("file_uri = ?")
        params.append(file_uri)
    if since is not None:
        clauses.append("time_utc >= ?")
        params.append(format_utc(since))
    if session_id is not None:
        clauses.append("session_id = ?")
        params.append(session_id)
    workspaces = _workspaces(workspace)
    if workspaces:
        clauses.append(f"workspace IN ({', '.join('?' for _ in workspaces)})")
        params.extend(workspaces)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _workspaces(workspace: str | Sequence[str] | None) -> tuple[str, ...]:
    if workspace is None:
        return ()
    if isinstance(workspace, str):
        return (workspace,)
    return tuple(workspace)


def query_stats(conn: sqlite3.Connection, where: Filter) -> Stats:
    """The :class:`Stats` of the rows matching ``where``."""
    clause, params = where
    row = conn.execute(f"SELECT {_STATS_SELECT} FROM calls{clause}", params).fetchone()
    return Stats._from_row(row)


def _query_groups(
    conn: sqlite3.Connection, key_sql: str, where: Filter, order: str
) -> tuple[GroupStats, ...]:
    clause, params = where
    sql = f"SELECT {key_sql} AS grp, {_STATS_SELECT} FROM calls{clause} GROUP BY grp"
    groups = [GroupStats(row[0], Stats._from_row(row[1:])) for row in conn.execute(sql, params)]
    if order == "key":
        groups.sort(key=lambda g: g.key or "")
    else:
        groups.sort(key=lambda g: (-g.stats.cost_usd, -g.stats.calls, g.key or ""))
    return tuple(groups)


def query_report(
    conn: sqlite3.Connection,
    *,
    since: datetime | None,
    workspace: str | Sequence[str] | None,
    now: datetime,
) -> Report:
    """Build the grouped :class:`Report`."""
    where = build_filter(since=since, workspace=workspace)
    workspaces = _workspaces(workspace)
    tasks, combos = query_tasks(conn, format_utc(since) if since is not None else None, workspaces)
    return Report(
        generated_utc=format_utc(now),
        since_utc=format_utc(since) if since is not None else None,
        workspace=workspaces or None,
        total=query_stats(conn, where),
        by_file=_query_groups(conn, "file_uri", where, "cost"),
        by_model=_query_groups(conn, "COALESCE(model_reported, model_requested)", where, "cost"),
        by_role=_query_groups(conn, "role", where, "cost"),
        by_day=_query_groups(conn, "substr(time_utc, 1, 10)", where, "key"),
        tasks=tuple(tasks),
        by_combination=tuple(combos),
    )
