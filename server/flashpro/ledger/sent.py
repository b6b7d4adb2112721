"""Which calls sent a given file: the query behind ``flashpro report --sent FILE``.

Each call records in its ``details`` the files and line ranges its prompt held, as
``"sent": [{"file": "src/app.py", "lines": [12, 40]}, ...]`` (1-based, inclusive; the file
relative to the call's workspace, or absolute outside it). :func:`query_sent` finds the calls
where any entry names the file, by any of its spellings: as given, or the workspace joined
with the recorded name equal to its absolute path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from flashpro.ledger.aggregates import build_filter

__all__ = ["SentCall", "file_spellings", "query_sent"]


@dataclass(frozen=True, slots=True)
class SentCall:
    """One call that sent part of the file: when, what kind, which model, which lines."""

    time_utc: str
    request_id: str
    kind: str
    role: str
    action: str | None
    model: str
    status: str
    file: str
    lines: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict ready for JSON (line ranges as two-element lists)."""
        data = asdict(self)
        data["lines"] = [list(span) for span in self.lines]
        return data

    def describe_lines(self) -> str:
        """`12-40, 88` (1-based)."""
        return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in self.lines)


def file_spellings(value: str, cwd: Path | None = None) -> tuple[str, ...]:
    """The ways `value` may be recorded: as given (a relative name), and as an absolute path."""
    spellings = [value.replace("\\", "/")]
    if value.startswith("file://"):
        spellings.append(unquote(urlparse(value).path))
    else:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        spellings += [path.as_posix(), path.resolve().as_posix()]
    return tuple(dict.fromkeys(s for s in spellings if s))


def query_sent(
    conn: sqlite3.Connection,
    spellings: Sequence[str],
    *,
    since: datetime | None = None,
    workspace: str | Sequence[str] | None = None,
) -> list[SentCall]:
    """The calls whose recorded `sent` ranges name the file (any of `spellings`), oldest first."""
    if not spellings:
        return []
    clause, params = build_filter(since=since, workspace=workspace)
    marks = ", ".join("?" for _ in spellings)
    sql = f"""
        SELECT c.id, c.time_utc, c.request_id, c.kind, c.role, c.model_requested,
               c.model_reported, c.status, json_extract(c.details, '$.action'),
               json_extract(s.value, '$.file'), json_extract(s.value, '$.lines')
        FROM (SELECT * FROM calls{clause}) AS c, json_each(c.details, '$.sent') AS s
        WHERE json_extract(s.value, '$.file') IN ({marks})
           OR (c.workspace IS NOT NULL
               AND rtrim(c.workspace, '/') || '/' || json_extract(s.value, '$.file') IN ({marks}))
        ORDER BY c.time_utc, c.id
    """
    rows = conn.execute(sql, [*params, *spellings, *spellings]).fetchall()
    calls: dict[int, SentCall] = {}
    for row_id, when, request_id, kind, role, requested, reported, status, action, file, lines in rows:
        span = _span(lines)
        found = calls.get(row_id)
        if found is None:
            calls[row_id] = SentCall(
                when, request_id, kind, role, action, reported or requested, status, file,
                (span,) if span else (),
            )  # fmt: skip
        elif span:
            calls[row_id] = SentCall(**{**asdict(found), "lines": (*found.lines, span)})
    return list(calls.values())


def _span(lines: object) -> tuple[int, int] | None:
    """A recorded `[first, last]` as a tuple (None when malformed)."""
    try:
        first, last = json.loads(lines) if isinstance(lines, str) else lines  # type: ignore[misc]
        return int(first), int(last)
    except (TypeError, ValueError):
        return None
