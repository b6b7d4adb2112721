"""Tasks benchmark: "Implement this" on small fixture projects through the REAL flashpro server (LSP
over stdio), under the three model combinations, against the fake DeepSeek with SIMULATED answers.

    python bench/tasks.py                  # 8 fixtures x 3 combinations (about a minute on 2 cores)
    python bench/tasks.py --quick          # 2 fixtures, the combinations at once (a smoke run)
    python bench/tasks.py --seed 2 --fixtures 4 --json out.json
    python bench/tasks.py --flash-first 0.4 --pro-review 0.8    # other assumed odds

What happens:

* fixtures (`tasks_suite`, data in bench/tasks_fixtures/): 8 tiny real projects, each with a
  failing test — implement a missing function, fix an off-by-one, add a parameter (plus a
  changelog node), handle an edge case (plus a test node), rename across two files, add input
  validation, add a method to a class, fix a bug a test exposes. For each combination (the
  setting `flashpro.actions.implement.combination`: pro-flash, flash, pro) every project is
  copied into one fresh workspace folder and one server is started on it, with
  `flashpro.tasks.runTests: true` and VS Code's captured capabilities (`--editor` for others);
* the editor (`tasks_editor`) opens the fixture's file, lists the code actions on its TODO or
  function, runs "Implement this", answers the server's questions — a stuck node is answered
  Skip node or Abort by a fixed rule (`--stuck`) — and applies the returned workspace edit to
  the files; the bench then runs the fixture's own test on the result ("confirmed");
* the model is a SIMULATION (`tasks_sim`): a seeded planner / executor / reviewer built from
  each fixture's answer key (right answers, buggy code, search text that does not match,
  invalid JSON, plans missing a check or a node), with odds per model given as flags and
  printed at the top. The fake DeepSeek does the token accounting (its prompt cache follows
  DeepSeek's documented rules) and flashpro's ledger prices every call;
* costs are priced off-peak (a `flashpro.prices` override with no peak hours), so a run at any
  hour of any day gives the same figures for the same seed.

The bench prints figures; it never asserts. Wall times depend on the machine and its load,
which the output states; the model answers take no time (the fake answers at once unless
`--latency` says otherwise), so wall time is the harness's own: plans, checks, pytest runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flashpro.ledger import Ledger  # noqa: E402
from flashpro.tokens import count  # noqa: E402

from bench.tasks_editor import Editor  # noqa: E402
from bench.tasks_report import COLUMNS, combination_figures, ledger_tasks, render  # noqa: E402
from bench.tasks_sim import RATE_HELP, Rates, Simulator  # noqa: E402
from bench.tasks_suite import (  # noqa: E402
    PYTEST_ENV,
    QUICK,
    SUITE,
    Fixture,
    check_fixture,
    load_suite,
    run_pytest,
)
from tests.fakes import FakeDeepSeek  # noqa: E402
from tests.lsp_session import INLINE_CLIENTS, OTHER_CLIENTS  # noqa: E402

__all__ = ["Config", "main", "run", "run_async"]

NOTE = (
    "the model answers are simulated, not produced by a language model: a seeded planner, executor "
    "and reviewer built from each fixture's answer key, right or wrong by draws whose odds per "
    "model are ASSUMED (below). The figures measure flashpro's harness (retries, escalation, "
    "checks, acceptance, delivery, accounting) under those odds, not DeepSeek's models."
)
STUCK = {
    "role": "Skip node for a test or docs node, Abort for an implement node",
    "skip": "always Skip node",
    "abort": "always Abort",
}
OFF_PEAK = {"peak_hours_utc": {"weekdays": [], "ranges": []}}


@dataclass
class Config:
    seed: int = 1
    fixtures: tuple[str, ...] = SUITE
    combinations: tuple[str, ...] = COLUMNS
    rates: Rates = field(default_factory=Rates)
    reasoning_tokens: int = 400
    stuck: str = "role"
    editor: str = "vscode"
    latency_s: float = 0.0
    parallel: bool = False
    pytest_plugins: bool = False  # let the checks' pytest load the venv's plugins (slower)
    tasks: dict[str, Any] = field(default_factory=dict)  # extra flashpro.tasks settings


def stuck_answer(rule: str, fixture: Fixture, message: str, options: list[str]) -> str | None:
    """The user's answer to a question the server asks during a task."""
    if "Skip node" in options:
        if rule in ("skip", "abort"):
            return "Skip node" if rule == "skip" else "Abort"
        found = re.search(r"node (\S+) '", message)
        node = fixture.node(found.group(1)) if found else None
        return "Skip node" if node is not None and node.get("role") in ("test", "docs") else "Abort"
    for choice in ("Apply", "Close"):
        if choice in options:
            return choice
    return None


async def confirm(workspace: Path, fixture: Fixture) -> tuple[bool, str]:
    """Run the fixture's own test on the workspace as it is now; (passed, the output's tail)."""
    passed, output = await run_pytest(workspace, fixture.path(fixture.test))
    return passed, output.strip()[-400:]


async def run_task(editor: Editor, sim: Simulator, fixture: Fixture, workspace: Path) -> dict[str, Any]:
    """One fixture task: implement, apply, confirm."""
    sim.begin(fixture)
    questions = len(editor.questions)
    uri = editor.open(workspace / fixture.path(fixture.spot_file))
    began = time.monotonic()
    result = await editor.implement(uri, fixture.spot_lines)
    wall = time.monotonic() - began
    editor.close(uri)
    applied = result.get("status") == "applied"
    confirmed, output = await confirm(workspace, fixture) if applied else (False, "")
    return {
        "fixture": fixture.name,
        "task_id": result.get("taskId"),
        "status": result.get("status", "unknown"),
        "message": str(result.get("message", ""))[:300],
        "nodes": result.get("nodes", {}),
        "applied": applied,
        "confirmed": confirmed,
        "confirm_output": "" if confirmed else output,
        "questions": editor.questions[questions:],
        "events": sim.events(),
        "wall_s": wall,
    }


async def run_combination(
    cfg: Config, combination: str, fixtures: list[Fixture], scratch: Path, ledger: Path
) -> dict[str, Any]:
    """Every fixture under one combination: one workspace, one fake, one server."""
    workspace = scratch / combination
    workspace.mkdir()
    for fixture in fixtures:
        fixture.copy_into(workspace)
    sim = Simulator(cfg.rates, cfg.seed, cfg.reasoning_tokens)
    current: dict[str, Fixture] = {}
    options = {
        "apiKey": "sk-test",
        "actions": {"implement": {"combination": combination}},
        "tasks": {"runTests": True, **cfg.tasks},
        "prices": OFF_PEAK,
    }
    with FakeDeepSeek(latency_s=cfg.latency_s) as fake:
        fake.script_chat(sim)
        editor = Editor(
            workspace, {**options, "baseUrl": fake.url}, ledger,
            lambda message, choices: stuck_answer(cfg.stuck, current["fixture"], message, choices),
            cfg.editor, {} if cfg.pytest_plugins else PYTEST_ENV,
        )  # fmt: skip
        began = time.monotonic()
        await editor.start()
        try:
            await _warm_up(editor, workspace, fixtures[0])
            started = time.monotonic() - began
            records = []
            for fixture in fixtures:
                current["fixture"] = fixture
                record = await run_task(editor, sim, fixture, workspace)
                records.append({**record, "combination": combination})
        finally:
            await editor.stop()
    return {"records": records, "server_start_s": started, "unplaced": sim.unknown, "refused": editor.refused}


async def _warm_up(editor: Editor, workspace: Path, fixture: Fixture) -> None:
    """What an editor does first: open a file and list its code actions (the server loads its
    tokenizer here, once; the first task's wall time should not carry it)."""
    uri = editor.open(workspace / fixture.path(fixture.spot_file))
    try:
        await editor.actions(uri, fixture.spot_lines)
    finally:
        editor.close(uri)


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


async def run_async(cfg: Config) -> dict[str, Any]:
    """Run every fixture under every combination; the figures as a dict."""
    began = time.monotonic()
    load_before = _load()
    fixtures = load_suite(cfg.fixtures)
    count("warm up")  # the fake lays prompts out with flashpro's tokenizer: load it now, not in a task
    with tempfile.TemporaryDirectory(prefix="flashpro-tasks-bench-") as tmp:
        scratch = Path(tmp)
        ledger = scratch / "ledger.sqlite3"
        jobs = [run_combination(cfg, c, fixtures, scratch, ledger) for c in cfg.combinations]
        if cfg.parallel:
            runs = await asyncio.gather(*jobs)
        else:
            runs = [await job for job in jobs]
        rows = ledger_tasks(ledger)
        with Ledger(ledger, read_only=True) as opened:
            own = opened.report().to_dict()
    records = [record for run in runs for record in run["records"]]
    for record in records:
        record["ledger"] = rows.get(record["task_id"] or "", {})
        record["ledger"].pop("plan_json", None)
    combinations = {
        c: combination_figures([r for r in records if r["combination"] == c]) for c in cfg.combinations
    }
    bench_cost = sum(float(r["ledger"].get("cost_usd") or 0) for r in records)
    report_cost = sum(c["cost_per_task"] * c["tasks"] for c in own["tasks_by_combination"])
    return {
        "simulation": {
            "note": NOTE,
            "seed": cfg.seed,
            "rates": cfg.rates.to_dict(),
            "reasoning_tokens": cfg.reasoning_tokens,
            "stuck_policy": STUCK[cfg.stuck],
        },
        "pricing": (
            "flashpro's ledger (the calls' cost_usd, from the usage the fake reported), priced with peak "
            "hours switched off (a flashpro.prices override): off-peak prices of the table entries in "
            f"effect on {datetime.now(UTC):%Y-%m-%d} UTC"
        ),
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": _load()},
        "config": {
            "fixtures": list(cfg.fixtures),
            "combinations": list(cfg.combinations),
            "editor": cfg.editor,
            "latency_s": cfg.latency_s,
            "parallel": cfg.parallel,
            "pytest_plugins": cfg.pytest_plugins,
            "tasks_settings": {"runTests": True, **cfg.tasks},
        },
        "fixtures": [
            {"name": f.name, "kind": f.kind, "nodes": len(f.key_plan["nodes"]), "test": f.test}
            for f in fixtures
        ],
        "tasks_run": len(records),
        "combinations": combinations,
        "tasks": records,
        "flashpro_report": {
            "tasks_by_combination": own["tasks_by_combination"],
            "tasks": len(own["tasks"]),
            "total_cost_usd": report_cost,
            "bench_cost_usd": bench_cost,
            "match": abs(report_cost - bench_cost) < 1e-9 and len(own["tasks"]) == len(rows),
        },
        "server_start_s": {c: run["server_start_s"] for c, run in zip(cfg.combinations, runs, strict=True)},
        "unplaced_requests": sum(run["unplaced"] for run in runs),
        "refused_edits": [problem for run in runs for problem in run["refused"]],
        "wall_s": time.monotonic() - began,
    }


def run(cfg: Config) -> dict[str, Any]:
    return asyncio.run(run_async(cfg))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fixtures", type=int, help=f"run the first N fixtures (of {len(SUITE)})")
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK)}, the combinations at once")
    parser.add_argument(
        "--combinations", default=",".join(COLUMNS), help="comma list of pro-flash, flash, pro"
    )
    parser.add_argument(
        "--parallel", action="store_true", help="run the combinations at once (wall times suffer)"
    )
    parser.add_argument(
        "--stuck", choices=sorted(STUCK), default="role", help="how the user answers a stuck node"
    )
    parser.add_argument("--editor", choices=sorted({*INLINE_CLIENTS, *OTHER_CLIENTS}), default="vscode")
    parser.add_argument("--latency", type=float, default=0.0, help="fake: seconds before each answer")
    parser.add_argument("--max-attempts", type=int, help="flashpro.tasks.maxAttempts (default: the server's)")
    parser.add_argument(
        "--reasoning-tokens", type=int, default=400, help="reasoning per thinking answer (about)"
    )
    rates = parser.add_argument_group("assumed odds of the simulation")
    defaults = Rates()
    for item in fields(Rates):
        if item.name == "wrong_mix":
            continue
        model, _, what = item.name.partition("_")
        rates.add_argument(
            f"--{item.name.replace('_', '-')}", type=float, default=getattr(defaults, item.name),
            help=f"{model}: {RATE_HELP[what]}",
        )  # fmt: skip
    rates.add_argument(
        "--wrong-mix",
        default=",".join(f"{w:g}" for w in defaults.wrong_mix),
        help="weights of a wrong executor answer's kind: buggy code, non-matching search, invalid JSON",
    )
    parser.add_argument(
        "--pytest-plugins", action="store_true",
        help="let the checks' pytest load the plugins installed with flashpro (off: plain pytest)",
    )  # fmt: skip
    parser.add_argument(
        "--check-fixtures", action="store_true", help="check the fixtures' tests and keys, then exit"
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    return parser


def check_fixtures(fixtures: list[Fixture]) -> int:
    """Print whether each fixture is honest (test fails before, passes with the key, the buggy
    files fail); 0 when all are."""
    results = asyncio.run(_check_all(fixtures))
    bad = 0
    for fixture, result in zip(fixtures, results, strict=True):
        ok = all(result.values())
        bad += not ok
        marks = "  ".join(f"{name} {'yes' if value else 'NO'}" for name, value in result.items())
        print(f"{'ok ' if ok else 'BAD'} {fixture.name:18} {marks}")
    return 1 if bad else 0


async def _check_all(fixtures: list[Fixture]) -> list[dict[str, bool]]:
    return [await check_fixture(fixture) for fixture in fixtures]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet = logging.getLogger("pytest_lsp")  # it re-logs the server's window/logMessage lines
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    combinations = tuple(c.strip() for c in args.combinations.split(",") if c.strip())
    if not combinations or any(c not in COLUMNS for c in combinations):
        print(f"--combinations: a comma list of {', '.join(COLUMNS)}", file=sys.stderr)
        return 2
    names = QUICK if args.quick else SUITE
    if args.fixtures:
        names = names[: args.fixtures]
    try:
        mix = tuple(float(w) for w in args.wrong_mix.split(","))
        assert len(mix) == 3 and all(w >= 0 for w in mix) and sum(mix) > 0
    except (ValueError, AssertionError):
        print("--wrong-mix: three non-negative weights, e.g. 0.5,0.3,0.2", file=sys.stderr)
        return 2
    if args.check_fixtures:
        return check_fixtures(load_suite(names))
    rates = replace(
        Rates(), wrong_mix=mix,
        **{f.name: getattr(args, f.name) for f in fields(Rates) if f.name != "wrong_mix"},
    )  # fmt: skip
    cfg = Config(
        seed=args.seed,
        fixtures=names,
        combinations=combinations,
        rates=rates,
        reasoning_tokens=args.reasoning_tokens,
        stuck=args.stuck,
        editor=args.editor,
        latency_s=args.latency,
        parallel=args.parallel or args.quick,
        pytest_plugins=args.pytest_plugins,
        tasks={"maxAttempts": args.max_attempts} if args.max_attempts else {},
    )
    report = run(cfg)
    render(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
