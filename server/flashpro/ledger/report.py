"""``flashpro report``: the ledger rendered as rich tables, or as JSON.

:func:`render_report` draws spend by file, model, role and UTC day (tokens, cache-hit %,
acceptance %, $ per 1k accepted characters, wasted $). :func:`run_report` is the command line::

    flashpro report [--ledger PATH] [--json] [--since YYYY-MM-DD|7d|24h] [--workspace PATH]
    flashpro report --sent FILE [--ledger PATH] [--json] [--since ...] [--workspace PATH]

``--sent FILE`` lists instead the calls that sent any part of FILE to the API (time, kind,
role, model, line ranges; :func:`render_sent`), from the ranges each call recorded.

Exit status: 0 on success (an empty ledger included), 2 for a missing or unreadable ledger or bad
arguments, each with one line on stderr (with ``--json``: ``{"error": "..."}`` on stdout). The
ledger is opened read-only; this command never creates or migrates it. Files are shown relative to
their workspace (prefixed with the workspace's folder name when the rows span several).
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlparse

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from flashpro.ledger.aggregates import GroupStats, Report, Stats
from flashpro.ledger.sent import SentCall, file_spellings
from flashpro.ledger.store import Ledger, LedgerError, default_ledger_path
from flashpro.ledger.tasks_report import render_tasks

__all__ = ["parse_since", "render_report", "render_sent", "run_report"]

MAX_FILE_ROWS = 25
"""Files beyond this many (by cost) are summarised in one line in the rich output."""

_RELATIVE = re.compile(r"^\s*(\d+)\s*([dhw])\s*$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``YYYY-MM-DD`` (00:00 UTC that day), an ISO datetime, or ``7d`` / ``24h`` / ``2w`` ago.

    Raises ``ValueError`` (with a message fit for the user) for anything else, an empty text and
    a span reaching back before year 1 included.
    """
    if not text.strip():
        raise ValueError("expected YYYY-MM-DD, an ISO time, or a span like 7d / 24h, not ''")
    match = _RELATIVE.match(text)
    if match:
        current = now or datetime.now(UTC)
        try:
            return current - int(match.group(1)) * _UNITS[match.group(2).lower()]
        except OverflowError:
            raise ValueError(f"{text.strip()!r} reaches back before the year 1") from None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected YYYY-MM-DD, an ISO time, or a span like 7d / 24h, not {text!r}"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if abs(value) >= 0.01:
        return f"${value:.4f}"
    if abs(value) >= 0.00001:
        return f"${value:.5f}"
    return "<$0.00001"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _tokens(value: int) -> str:
    if value < 100_000:
        return f"{value:,}"
    if value < 10_000_000:
        return f"{value / 1000:,.0f}k"
    return f"{value / 1_000_000:,.1f}M"


def _local_path(value: str) -> str:
    """A file URI or path as a plain path (no trailing slash)."""
    path = unquote(urlparse(value).path) if value.startswith("file://") else value
    return path.rstrip("/") or path


class _Names:
    """Short names for files: relative to the workspace holding them (the longest root that
    contains the file); prefixed with that workspace's folder name when there are several."""

    def __init__(self, roots: Sequence[str]) -> None:
        self._roots = sorted({_local_path(r) for r in roots if r}, key=len, reverse=True)
        self._home = str(Path.home())

    def _root(self, path: str) -> str | None:
        for root in self._roots:
            if path.startswith(root.rstrip("/") + "/"):
                return root
        return None

    def names(self, keys: Sequence[str | None]) -> list[str]:
        """The display name of each file key (a URI or path; None for calls with no file)."""
        paths = [_local_path(k) if k is not None else None for k in keys]
        used = {self._root(p) for p in paths if p is not None} - {None}
        several = len(used) > 1
        return [self._name(p, several) for p in paths]

    def _name(self, path: str | None, several: bool) -> str:
        if path is None:
            return "(no file)"
        root = self._root(path)
        if root is None:
            home = self._home.rstrip("/") + "/"
            return "~/" + path[len(home) :] if path.startswith(home) else path
        relative = path[len(root.rstrip("/")) + 1 :]
        return f"{Path(root).name}/{relative}" if several else relative


_COLUMNS = ("calls", "prompt", "hit %", "output", "cost", "accept %", "$/1k acc", "wasted")
_DROPPABLE = ("$/1k acc", "output", "prompt")
"""Columns left out, in this order, when a terminal is too narrow for the names."""
_NAME_WIDTH = 24


def _shorten(name: str, width: int) -> str:
    """``name`` cut to ``width`` characters at a ``/``, keeping its end (``…/pkg/mod.py``)."""
    if len(name) <= width:
        return name
    parts = name.split("/")
    kept = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + 1 + len(kept) + 2 > width:
            break
        kept = f"{part}/{kept}"
    short = "…/" + kept
    return short if len(short) <= width else "…" + name[-(width - 1) :]


def _new_table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def _table(
    title: str, label: str, groups: tuple[GroupStats, ...], names: list[str], console: Console
) -> Table:
    rows = [_cells(group.stats) for group in groups]
    longest = max([len(label), *(len(name) for name in names)])
    # The numbers never wrap; names get the rest of the line and are cut at a `/`, never
    # mid-name. On a narrow terminal the least useful columns make room for the names first.
    columns = list(range(len(_COLUMNS)))
    while True:
        numbers = _new_table(title)
        for index in columns:
            numbers.add_column(_COLUMNS[index], justify="right", no_wrap=True)
        for cells in rows:
            numbers.add_row(*(cells[i] for i in columns))
        room = console.width - Measurement.get(console, console.options, numbers).maximum - 2
        droppable = [i for i in columns if _COLUMNS[i] in _DROPPABLE]
        if room >= min(longest, _NAME_WIDTH) or not droppable:
            break
        columns.remove(min(droppable, key=lambda i: _DROPPABLE.index(_COLUMNS[i])))
    room = max(room, 10)
    table = _new_table(title)
    table.add_column(label, no_wrap=True, overflow="ellipsis", width=min(longest, room))
    for index in columns:
        table.add_column(_COLUMNS[index], justify="right", no_wrap=True)
    for name, cells in zip(names, rows, strict=True):
        table.add_row(_shorten(name, room), *(cells[i] for i in columns))
    return table


def _cells(stats: Stats) -> list[str]:
    return [
        f"{stats.calls:,}",
        _tokens(stats.prompt_tokens),
        _pct(stats.cache_hit_ratio),
        _tokens(stats.output_tokens),
        _usd(stats.cost_usd) + ("*" if stats.unpriced_calls else ""),
        _pct(stats.acceptance_rate),
        _usd(stats.usd_per_1k_accepted_chars),
        _usd(stats.wasted_usd),
    ]


def render_report(report: Report, console: Console, roots: Sequence[str] = ()) -> None:
    """Draw ``report`` on ``console``: a summary line, then spend by file, model, role and day.

    File names are shown relative to ``roots`` (the workspaces the rows were made in) and to the
    report's own ``--workspace``.
    """
    total = report.total
    scope = []
    if report.since_utc:
        scope.append(f"since {report.since_utc[:16].replace('T', ' ')} UTC")
    if report.workspace:
        scope.append(f"workspace {report.workspace[0]}")
    suffix = f" ({', '.join(scope)})" if scope else ""
    if report.empty:
        console.print(f"No calls recorded yet{suffix}.")
        return
    console.print(
        f"[bold]flashpro spend{suffix}[/bold]: {_count(total.calls, 'call')}, "
        f"{_usd(total.cost_usd)}, "
        f"cache hit {_pct(total.cache_hit_ratio)}, accepted {_pct(total.acceptance_rate)}, "
        f"wasted {_usd(total.wasted_usd)}"
    )
    if total.cancelled or total.errors:
        console.print(f"{total.cancelled:,} cancelled, {total.errors:,} failed")
    if total.unpriced_calls:
        console.print(
            f"[yellow]* {_count(total.unpriced_calls, 'call')} used a model with no known price; "
            "their cost is not included.[/yellow]"
        )
    names = _Names([*(report.workspace or ()), *roots])
    files = report.by_file[:MAX_FILE_ROWS]
    console.print(_table("Spend by file", "file", files, names.names([g.key for g in files]), console))
    if len(report.by_file) > MAX_FILE_ROWS:
        rest = report.by_file[MAX_FILE_ROWS:]
        cost = sum(g.stats.cost_usd for g in rest)
        console.print(f"... and {len(rest):,} more files costing {_usd(cost)} (use --json for all)")
    for title, label, groups in (
        ("Spend by model", "model", report.by_model),
        ("Spend by role", "role", report.by_role),
        ("Spend by day (UTC)", "day", report.by_day),
    ):
        console.print(_table(title, label, groups, [g.key or "(unknown)" for g in groups], console))
    render_tasks(list(report.tasks), list(report.by_combination), console, _usd)


class _UsageError(Exception):
    """A bad command line (argparse's complaint, without the exit)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so every error is one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def render_sent(file: str, calls: list[SentCall], console: Console) -> None:
    """Draw the calls that sent part of `file`: one row per call with the lines it sent."""
    if not calls:
        console.print(f"No recorded call sent any part of {file}.")
        return
    table = _new_table(f"Calls that sent {file} ({_count(len(calls), 'call')})")
    for column in ("time (UTC)", "kind", "role", "model", "status", "lines"):
        table.add_column(column, overflow="fold", no_wrap=column != "lines")
    for call in calls:
        kind = f"{call.kind} ({call.action})" if call.action else call.kind
        table.add_row(
            call.time_utc[:19].replace("T", " "), kind, call.role, call.model, call.status, call.describe_lines()
        )
    console.print(table)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="flashpro report",
        description="Show what flashpro's model calls cost: by file, model, role and day.",
    )
    parser.add_argument(
        "--ledger",
        metavar="PATH",
        help="ledger file (default: $FLASHPRO_LEDGER, else the user data dir)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--since", metavar="WHEN", help="only calls since YYYY-MM-DD (UTC) or a span: 7d, 24h, 2w"
    )
    parser.add_argument(
        "--workspace", metavar="PATH", help="only calls made in this workspace (path or URI)"
    )
    parser.add_argument(
        "--sent", metavar="FILE", help="list the calls that sent any part of FILE, with the lines sent"
    )
    return parser


def _workspace_spellings(value: str) -> tuple[str, ...]:
    """The ways a workspace may have been stored: as given, as an absolute path, as a file URI."""
    spellings = [value]
    if "://" not in value:
        absolute = Path(value).expanduser().resolve()
        spellings += [str(absolute), absolute.as_uri()]
    else:
        parsed = urlparse(value)
        if parsed.scheme == "file":
            spellings.append(unquote(parsed.path))
    return tuple(dict.fromkeys(s.rstrip("/") or s for s in spellings))


def _fail(message: str, as_json: bool) -> int:
    """Report one error: a JSON object on stdout with --json, else one line on stderr; exit 2."""
    if as_json:
        sys.stdout.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
    else:
        print(f"flashpro report: {message}", file=sys.stderr)
    return 2


def run_report(argv: list[str] | None = None, *, console: Console | None = None) -> int:
    """Run ``flashpro report`` with ``argv`` (the arguments after ``report``); return exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in argv
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except _UsageError as exc:
        return _fail(f"{exc} (see flashpro report --help)", wants_json)
    try:
        since = parse_since(args.since) if args.since is not None else None
    except ValueError as exc:
        return _fail(f"--since: {exc}", args.json)
    if args.workspace is not None and not args.workspace.strip():
        return _fail("--workspace: expected a path or a file URI, not ''", args.json)
    if args.ledger is not None and not args.ledger.strip():
        return _fail("--ledger: expected a file path, not ''", args.json)
    path = Path(args.ledger).expanduser() if args.ledger else default_ledger_path(None)
    workspace = _workspace_spellings(args.workspace) if args.workspace else None
    try:
        ledger = Ledger(path, read_only=True)
    except LedgerError as exc:
        hint = " (nothing recorded yet, or pass --ledger PATH)" if not path.exists() else ""
        return _fail(f"{exc}{hint}", args.json)
    try:
        if args.sent:
            calls = ledger.sent(file_spellings(args.sent), since=since, workspace=workspace)
        else:
            report = ledger.report(since=since, workspace=workspace)
            roots = ledger.workspaces()
    except (sqlite3.Error, OverflowError, ValueError) as exc:  # a damaged or foreign database
        return _fail(f"cannot read ledger {path}: {exc}", args.json)
    finally:
        ledger.close()
    if args.sent:
        if args.json:
            payload = {"file": args.sent, "calls": [call.to_dict() for call in calls]}
            sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        else:
            render_sent(args.sent, calls, console or Console())
        return 0
    if args.json:
        sys.stdout.write(report.to_json() + "\n")
        return 0
    render_report(report, console or Console(), roots)
    return 0
