"""Smoke test of the tasks benchmark (bench/tasks.py): the fixtures are honest, the simulated model
answers from their keys, and `--quick` runs tasks through the real server under each combination.

Behaviour only — the run completes, tasks complete, the figures add up. Never timings.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from bench.tasks import main
from bench.tasks_report import render
from bench.tasks_sim import Rates, Simulator, diff_lines
from bench.tasks_suite import SUITE, check_fixture, derive_edits, load_suite, mismatch
from flashpro.tasks.plan import NodeAnswer, Plan, plan_problems
from flashpro.tasks.prompts import NODE_SYSTEM, PLAN_SYSTEM
from flashpro.tasks.runner import unified_diff


def test_the_keys_make_valid_plans_and_edits_the_server_accepts(tmp_path: Path) -> None:
    fixtures = load_suite()
    assert [f.name for f in fixtures] == list(SUITE) and len(fixtures) >= 8
    for fixture in fixtures:
        fixture.copy_into(tmp_path)
        for weak in (False, True):
            plan = Plan.model_validate(fixture.plan(weak=weak))
            assert plan_problems(plan, tmp_path, lambda uri: False, max_nodes=12, max_files=20) == [], fixture.name
        full, weak_plan = fixture.plan(), fixture.plan(weak=True)
        assert weak_plan != full, f"{fixture.name}: the gap changes the plan"
        for path, new in {**fixture.solution, **fixture.buggy}.items():
            old = fixture.project.get(path)
            if old is None:
                continue
            edits = derive_edits(path, old, new)
            text = old
            for edit in edits:
                assert text.count(edit["search"]) == 1
                text = text.replace(edit["search"], edit["replace"], 1)
            assert text == new
            assert mismatch(edits[0]["search"], old) not in old
        first, last = fixture.spot_lines
        assert 0 <= first <= last < len(fixture.project[fixture.spot_file].splitlines())


async def test_every_fixture_test_fails_before_and_passes_with_its_key() -> None:
    for fixture in load_suite():
        assert await check_fixture(fixture) == {
            "test_fails_before": True,
            "tests_pass_with_key": True,
            "buggy_fails": True,
        }, fixture.name


def test_the_simulator_answers_from_the_key_and_its_draws_are_seeded() -> None:
    (fixture,) = load_suite(("word_count",))
    plan = fixture.plan()
    node = "Your node: n1 — Write word_count\n"
    prompt = f"{node}\nFile word_count/textstats.py:\n```\n{fixture.project['textstats.py']}```\n"

    def answers(seed: int, rates: Rates) -> list[str]:
        sim = Simulator(rates, seed, reasoning_tokens=10)
        sim.begin(fixture)
        body = {
            "model": "deepseek-v4-flash",
            "messages": [{"role": "system", "content": NODE_SYSTEM}, {"role": "user", "content": prompt}],
        }
        return [sim(body).text for _ in range(5)]

    right = answers(1, Rates(flash_first=1.0, flash_retry=1.0))
    answer = NodeAnswer.model_validate_json(right[0])
    (edit,) = answer.edits
    assert (
        fixture.project["textstats.py"].replace(edit.search, edit.replace) == fixture.solution["textstats.py"]
    )
    assert answers(1, Rates()) == answers(1, Rates())  # seeded
    wrong = answers(1, Rates(flash_first=0.0, flash_retry=0.0))
    assert all(text not in right for text in wrong)
    sim = Simulator(Rates(flash_plan_gap=1.0, flash_plan_json=0.0), 1)
    sim.begin(fixture)
    body = {
        "model": "deepseek-v4-flash",
        "thinking": {"type": "enabled"},
        "messages": [{"role": "system", "content": PLAN_SYSTEM}, {"role": "user", "content": "x"}],
    }
    planned = sim(body)
    assert json.loads(planned.text) == fixture.plan(weak=True) != plan
    assert planned.reasoning and sim.events() == ["plan gap (drop_check n1)"]
    expected = unified_diff({"a.py": ("x = 1\n", "x = 2\n")})
    assert diff_lines(expected) == {"a.py": {"-x = 1": 1, "+x = 2": 1}}


def test_quick_run_completes_tasks_under_every_combination(tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    assert main(["--quick", "--seed", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert "simulated" in report["simulation"]["note"]
    assert set(report["simulation"]["rates"]) >= {"flash_first", "pro_first", "flash_plan_gap", "pro_review"}
    assert set(report["combinations"]) == {"pro-flash", "flash", "pro"}
    assert report["unplaced_requests"] == 0 and report["refused_edits"] == []
    for name, combo in report["combinations"].items():
        assert combo["tasks"] == 2, name
        assert combo["applied"] >= 1 and combo["confirmed"] >= 1, name  # at least one task done
        assert combo["confirmed"] <= combo["applied"] <= combo["tasks"], name
        assert combo["attempts"] >= combo["tasks"] and combo["cost_per_task"] > 0, name
        assert combo["unpriced_calls"] == 0 and 0 <= combo["node_cache_hit_ratio"] <= 1, name
    for task in report["tasks"]:
        ledger = task["ledger"]
        assert ledger["combination"] == task["combination"] and ledger["status"] == task["status"]
        assert bool(ledger["applied"]) == task["applied"]
        assert ledger["human_interventions"] == sum("Skip node" in q["options"] for q in task["questions"])
    own = report["flashpro_report"]
    assert own["match"] and own["tasks"] == 6
    console = Console(file=io.StringIO(), width=160)
    render(report, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "SIMULATION" in text and "Per model combination" in text and "word_count" in text
