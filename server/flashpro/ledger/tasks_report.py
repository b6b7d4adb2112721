"""Tasks in the ledger: every task measured, side by side per model combination.

A task's *combination* is the set of models that actually answered its calls (the API's reported
model, not the requested alias: DeepSeek has served one name with another model), e.g.
`executor=deepseek-v4-flash · planner=deepseek-v4-pro`. Per combination:

- completion rate: tasks applied ÷ tasks started (failed, cancelled and rejected ones count);
- human interventions, tool-call failure rate (failures ÷ attempts), check pass rate;
- reviewer findings, rework rounds, attempts per task;
- cost per task (every task's calls, failures included) and per completed task;
- time per task, and how much of the applied change was still there later (`accepted_share`).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["ComboStats", "TaskRow", "query_tasks", "render_tasks"]


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task as the report shows it."""

    id: str
    created_utc: str
    status: str
    combination: str  # requested: pro-flash / flash / pro
    models: str  # reported, e.g. "executor=deepseek-v4-flash · planner=deepseek-v4-pro"
    goal: str | None
    cost_usd: float
    calls: int
    attempts: int
    human_interventions: int
    tool_failures: int
    checks_run: int
    checks_passed: int
    review_findings: int
    rework_count: int
    applied: bool
    accepted_share: float | None
    wall_ms: int


@dataclass(frozen=True, slots=True)
class ComboStats:
    """Tasks of one model combination, summed."""

    models: str
    tasks: int
    completed: int
    completion_rate: float
    human_interventions: int
    tool_failure_rate: float | None
    check_pass_rate: float | None
    review_findings: int
    rework: int
    attempts_per_task: float
    cost_per_task: float
    cost_per_completed_task: float | None
    seconds_per_task: float
    accepted_share: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _has_tasks(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'").fetchone() is not None


def query_tasks(
    conn: sqlite3.Connection, since: str | None, workspaces: tuple[str, ...]
) -> tuple[list[TaskRow], list[ComboStats]]:
    """Tasks created since `since` (ISO text, None: all) in `workspaces` (empty: all)."""
    if not _has_tasks(conn):
        return [], []
    clauses, params = [], []
    if since is not None:
        clauses.append("t.created_utc >= ?")
        params.append(since)
    if workspaces:
        clauses.append(f"t.workspace IN ({', '.join('?' for _ in workspaces)})")
        params.extend(workspaces)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    models: dict[str, set[str]] = defaultdict(set)
    for task_id, role, model in conn.execute(
        "SELECT DISTINCT task_id, role, COALESCE(model_reported, model_requested) FROM calls WHERE task_id IS NOT NULL"
    ):
        models[task_id].add(f"{role}={model}")
    rows = conn.execute(
        "SELECT t.*, COALESCE(SUM(c.cost_usd), 0.0) AS cost, COUNT(c.id) AS calls FROM tasks t"
        f" LEFT JOIN calls c ON c.task_id = t.id{where} GROUP BY t.id ORDER BY t.created_utc",
        params,
    )
    names = [d[0] for d in rows.description]
    tasks = []
    for raw in rows.fetchall():
        row = dict(zip(names, raw, strict=True))
        tasks.append(
            TaskRow(
                id=row["id"],
                created_utc=row["created_utc"],
                status=row["status"],
                combination=row["combination"],
                models=" · ".join(sorted(models.get(row["id"], set()))) or "(no calls)",
                goal=row["goal"],
                cost_usd=float(row["cost"]),
                calls=int(row["calls"]),
                attempts=int(row["attempts"] or 0),
                human_interventions=int(row["human_interventions"] or 0),
                tool_failures=int(row["tool_failures"] or 0),
                checks_run=int(row["checks_run"] or 0),
                checks_passed=int(row["checks_passed"] or 0),
                review_findings=int(row["review_findings"] or 0),
                rework_count=int(row["rework_count"] or 0),
                applied=bool(row["applied"]),
                accepted_share=row["accepted_share"],
                wall_ms=int(row["wall_ms"] or 0),
            )
        )
    return tasks, _by_combination(tasks)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _by_combination(tasks: list[TaskRow]) -> list[ComboStats]:
    groups: dict[str, list[TaskRow]] = defaultdict(list)
    for task in tasks:
        groups[task.models].append(task)
    combos = []
    for models, group in sorted(groups.items()):
        n = len(group)
        done = [t for t in group if t.applied]
        attempts = sum(t.attempts for t in group)
        shares = [t.accepted_share for t in done if t.accepted_share is not None]
        cost = sum(t.cost_usd for t in group)
        combos.append(
            ComboStats(
                models=models,
                tasks=n,
                completed=len(done),
                completion_rate=len(done) / n,
                human_interventions=sum(t.human_interventions for t in group),
                tool_failure_rate=_ratio(sum(t.tool_failures for t in group), attempts),
                check_pass_rate=_ratio(sum(t.checks_passed for t in group), sum(t.checks_run for t in group)),
                review_findings=sum(t.review_findings for t in group),
                rework=sum(t.rework_count for t in group),
                attempts_per_task=attempts / n,
                cost_per_task=cost / n,
                cost_per_completed_task=cost / len(done) if done else None,
                seconds_per_task=sum(t.wall_ms for t in group) / n / 1000,
                accepted_share=sum(shares) / len(shares) if shares else None,
            )
        )
    return combos


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def render_tasks(tasks: list[TaskRow], combos: list[ComboStats], console: Console, usd: Any) -> None:
    """The tasks section of `flashpro report` (nothing when no task ran)."""
    if not tasks:
        return
    table = Table(title="Tasks by model combination", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("models", overflow="fold", ratio=1)
    for column in ("tasks", "done", "interv.", "tool fail", "checks ok", "findings", "$/task", "$/done", "s/task", "kept"):
        table.add_column(column, justify="right", no_wrap=True)
    for combo in combos:
        table.add_row(
            combo.models,
            f"{combo.tasks}",
            _pct(combo.completion_rate),
            f"{combo.human_interventions}",
            _pct(combo.tool_failure_rate),
            _pct(combo.check_pass_rate),
            f"{combo.review_findings}",
            usd(combo.cost_per_task),
            usd(combo.cost_per_completed_task),
            f"{combo.seconds_per_task:.1f}",
            _pct(combo.accepted_share),
        )
    console.print(table)
    recent = Table(title="Recent tasks", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for column in ("when (UTC)", "goal", "status", "attempts", "cost"):
        recent.add_column(column, overflow="fold")
    for task in tasks[-10:]:
        recent.add_row(task.created_utc[:16].replace("T", " "), task.goal or "-", task.status, f"{task.attempts}", usd(task.cost_usd))
    console.print(recent)
