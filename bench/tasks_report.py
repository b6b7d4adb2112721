"""Figures and printing for bench/tasks.py: the ledger's rows per task, sums per combination, tables.

Every cost and token figure comes from flashpro's own ledger (the `calls` rows the server wrote,
priced by its price table from the usage the fake DeepSeek reported), joined to the `tasks` row
by task id; `flashpro report`'s own `tasks_by_combination` is read back through the same code
the command uses (`Ledger.report`) and printed alongside, with a cross-check of the totals.
"""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["COLUMNS", "combination_figures", "ledger_tasks", "render"]

COLUMNS = ("pro-flash", "flash", "pro")


def ledger_tasks(path: Path) -> dict[str, dict[str, Any]]:
    """Per task id: its `tasks` row and its calls summed (cost, tokens; node calls apart)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        tasks = {row["id"]: dict(row) for row in conn.execute("SELECT * FROM tasks")}
        for row in conn.execute(
            """SELECT task_id, COUNT(*) AS calls, COALESCE(SUM(cost_usd), 0) AS cost_usd,
                      COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
                      COALESCE(SUM(cache_hit_tokens), 0) AS hit_tokens,
                      COALESCE(SUM(output_tokens), 0) AS output_tokens,
                      COALESCE(SUM(CASE WHEN node_id IS NOT NULL THEN prompt_tokens END), 0) AS node_prompt_tokens,
                      COALESCE(SUM(CASE WHEN node_id IS NOT NULL THEN cache_hit_tokens END), 0) AS node_hit_tokens,
                      SUM(CASE WHEN node_id IS NOT NULL THEN 1 ELSE 0 END) AS node_calls,
                      SUM(CASE WHEN outcome = 'unusable' THEN 1 ELSE 0 END) AS unusable,
                      SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced
               FROM calls WHERE task_id IS NOT NULL GROUP BY task_id"""
        ):
            if row["task_id"] in tasks:
                tasks[row["task_id"]].update({k: row[k] for k in row.keys() if k != "task_id"})  # noqa: SIM118
    finally:
        conn.close()
    return tasks


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def combination_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One combination's figures from its task records (bench side + ledger side)."""
    n = len(records)
    applied = [r for r in records if r["applied"]]
    confirmed = [r for r in records if r["confirmed"]]
    ledger = [r.get("ledger") or {} for r in records]

    def total(key: str) -> float:
        return sum(float(row.get(key) or 0) for row in ledger)

    cost = total("cost_usd")
    attempts = total("attempts")
    walls = [r["wall_s"] for r in records]
    statuses: dict[str, int] = {}
    for r in records:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    stuck = [q["answer"] for r in records for q in r["questions"] if "Skip node" in q["options"]]
    other = [q["answer"] for r in records for q in r["questions"] if "Skip node" not in q["options"]]
    return {
        "tasks": n,
        "applied": len(applied),
        "completion_rate": _ratio(len(applied), n),
        "confirmed": len(confirmed),
        "confirmed_rate": _ratio(len(confirmed), n),
        "statuses": statuses,
        "attempts": int(attempts),
        "attempts_per_task": _ratio(attempts, n),
        "escalations": int(total("escalations")),
        "tool_failures": int(total("tool_failures")),
        "tool_failure_rate": _ratio(total("tool_failures"), attempts),
        "human_interventions": int(total("human_interventions")),
        "stuck_answers": {title or "(none)": stuck.count(title) for title in dict.fromkeys(stuck)},
        "other_answers": {title or "(none)": other.count(title) for title in dict.fromkeys(other)},
        "rework_rounds": int(total("rework_count")),
        "checks_run": int(total("checks_run")),
        "check_pass_rate": _ratio(total("checks_passed"), total("checks_run")),
        "calls": int(total("calls")),
        "prompt_tokens_per_task": _ratio(total("prompt_tokens"), n),
        "output_tokens_per_task": _ratio(total("output_tokens"), n),
        "invalid_json_answers": int(total("unusable")),
        "unpriced_calls": int(total("unpriced")),
        "cost_usd": cost,
        "cost_per_task": _ratio(cost, n),
        "cost_per_applied_task": _ratio(cost, len(applied)),
        "cost_per_confirmed_task": _ratio(cost, len(confirmed)),
        "cache_hit_ratio": _ratio(total("hit_tokens"), total("prompt_tokens")),
        "node_cache_hit_ratio": _ratio(total("node_hit_tokens"), total("node_prompt_tokens")),
        "wall_s_per_task": statistics.fmean(walls) if walls else None,
        "wall_s_max": max(walls) if walls else None,
        "ledger_s_per_task": _ratio(total("wall_ms") / 1000, n),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def _num(value: float | None, spec: str = "{:.1f}") -> str:
    return "-" if value is None else spec.format(value)


def _interventions(combo: dict[str, Any]) -> str:
    answers = ", ".join(f"{title} {n}" for title, n in combo["stuck_answers"].items())
    return f"{combo['human_interventions']}" + (f" ({answers})" if answers else "")


def _mark(record: dict[str, Any]) -> str:
    if record["confirmed"]:
        return "✓"
    if record["applied"]:
        return "✗ applied, test fails"
    return record["status"]


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the bench's report."""
    console = console or Console(width=120)
    sim = report["simulation"]
    console.print(f"[bold]flashpro tasks bench[/bold] — {report['tasks_run']} tasks, seed {sim['seed']}")
    console.print(f"[bold yellow]SIMULATION:[/bold yellow] {sim['note']}")
    rates = sim["rates"]
    for model in ("flash", "pro"):
        console.print(
            f"  {model:5}: first {rates[f'{model}_first']:.2f} · retry {rates[f'{model}_retry']:.2f} · "
            f"thinking {rates[f'{model}_thinking']:.2f} · plan gap {rates[f'{model}_plan_gap']:.2f} · "
            f"plan invalid json {rates[f'{model}_plan_json']:.2f} · reviewer catches {rates[f'{model}_review']:.2f}"
        )
    mix = rates["wrong_mix"]
    console.print(
        f"  a wrong executor answer is buggy code / a non-matching search / invalid JSON: "
        f"{mix[0]:.2f} / {mix[1]:.2f} / {mix[2]:.2f}; thinking answers carry ~{sim['reasoning_tokens']} reasoning tokens"
    )
    console.print(f"  stuck nodes: {sim['stuck_policy']}")
    console.print(f"[bold]Cost:[/bold] {report['pricing']}")
    machine, config = report["machine"], report["config"]
    console.print(
        f"[bold]Machine:[/bold] {machine['cpus']} CPUs, load average {machine['load_before']} before, "
        f"{machine['load_after']} after; bench wall time {report['wall_s']:.1f} s; "
        f"server start {', '.join(f'{k} {v:.1f} s' for k, v in report['server_start_s'].items())}"
    )
    console.print(
        "[bold]Wall time[/bold] is the harness's own: the fake answers "
        + (f"after {config['latency_s']:g} s" if config["latency_s"] else "at once")
        + f"; checks run pytest {'with' if config['pytest_plugins'] else 'without'} the plugins installed with "
        f"flashpro; combinations {'at once' if config['parallel'] else 'one after another'}; editor {config['editor']}"
    )
    combos = report["combinations"]
    names = [c for c in COLUMNS if c in combos]
    table = Table(title="Per model combination", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("")
    for name in names:
        table.add_column(name, justify="right")
    rows: list[tuple[str, Any]] = [
        ("tasks started", lambda c: f"{c['tasks']}"),
        ("completion (applied ÷ started)", lambda c: f"{_pct(c['completion_rate'])} ({c['applied']})"),
        ("confirmed by the fixture's test", lambda c: f"{_pct(c['confirmed_rate'])} ({c['confirmed']})"),
        ("attempts per task", lambda c: _num(c["attempts_per_task"], "{:.2f}")),
        ("escalations", lambda c: f"{c['escalations']}"),
        (
            "tool-call failures (÷ attempts)",
            lambda c: f"{c['tool_failures']} ({_pct(c['tool_failure_rate'])})",
        ),
        ("human interventions (answers)", _interventions),
        ("invalid-JSON answers (asked again)", lambda c: f"{c['invalid_json_answers']}"),
        ("rework rounds", lambda c: f"{c['rework_rounds']}"),
        ("check pass rate", lambda c: _pct(c["check_pass_rate"])),
        ("calls per task", lambda c: _num(c["calls"] / c["tasks"] if c["tasks"] else None)),
        (
            "tokens per task (prompt / output)",
            lambda c: (
                f"{_num(c['prompt_tokens_per_task'], '{:,.0f}')} / {_num(c['output_tokens_per_task'], '{:,.0f}')}"
            ),
        ),
        ("cost per task", lambda c: _usd(c["cost_per_task"])),
        ("cost per applied task", lambda c: _usd(c["cost_per_applied_task"])),
        ("cost per confirmed task", lambda c: _usd(c["cost_per_confirmed_task"])),
        ("cache-hit ratio, node calls", lambda c: _pct(c["node_cache_hit_ratio"])),
        ("cache-hit ratio, all task calls", lambda c: _pct(c["cache_hit_ratio"])),
        ("wall s per task (mean / max)", lambda c: f"{_num(c['wall_s_per_task'])} / {_num(c['wall_s_max'])}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(combos[name]) for name in names))
    console.print(table)
    fixtures = Table(
        title="Per fixture (result · attempts · cost · wall s; what the draws did)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    fixtures.add_column("fixture")
    for name in names:
        fixtures.add_column(name, overflow="fold")
    by_key = {(r["fixture"], r["combination"]): r for r in report["tasks"]}
    for fixture in report["fixtures"]:
        cells = []
        for name in names:
            r = by_key.get((fixture["name"], name))
            if r is None:
                cells.append("-")
                continue
            ledger = r.get("ledger") or {}
            line = f"{_mark(r)} · {ledger.get('attempts', '-')} · {_usd(ledger.get('cost_usd'))} · {r['wall_s']:.1f}"
            cells.append(line + (f"\n[dim]{', '.join(r['events'])}[/dim]" if r["events"] else ""))
        fixtures.add_row(f"{fixture['name']}\n[dim]{fixture['kind']}[/dim]", *cells)
    console.print(fixtures)
    own = Table(
        title="flashpro report --json: tasks_by_combination (models that answered)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for column in (
        "models",
        "tasks",
        "done",
        "interv.",
        "tool fail",
        "checks ok",
        "$/task",
        "$/done",
        "s/task",
    ):
        own.add_column(column, justify="left" if column == "models" else "right")
    for combo in report["flashpro_report"]["tasks_by_combination"]:
        own.add_row(
            combo["models"], f"{combo['tasks']}", _pct(combo["completion_rate"]), f"{combo['human_interventions']}",
            _pct(combo["tool_failure_rate"]), _pct(combo["check_pass_rate"]), _usd(combo["cost_per_task"]),
            _usd(combo["cost_per_completed_task"]), _num(combo["seconds_per_task"]),
        )  # fmt: skip
    console.print(own)
    check = report["flashpro_report"]
    console.print(
        f"ledger cross-check: report total ${check['total_cost_usd']:.6f} over {check['tasks']} tasks, "
        f"bench total ${check['bench_cost_usd']:.6f} — {'ok' if check['match'] else 'MISMATCH'}; "
        f"simulator requests it could not place: {report['unplaced_requests']}"
    )
