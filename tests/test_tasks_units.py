"""The task domain on its own: plans, edits, the shadow copy, checks, rebasing, survival."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flashpro.config import TaskSettings
from flashpro.tasks.checks import Checker, clean_environment
from flashpro.tasks.delivery import FileChange, Hunk, file_changes, rebase
from flashpro.tasks.edits import apply_answer
from flashpro.tasks.plan import NodeAnswer, Plan, PlanNode, clean_path, plan_problems, topological_order
from flashpro.tasks.prompts import selection_request
from flashpro.tasks.shadow import Shadow
from flashpro.tasks.survival import added_lines, surviving_share
from flashpro.tokens import count


def _plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"goal": "g", "nodes": list(nodes)})


def _node(node_id: str, **fields: object) -> dict[str, object]:
    return {"id": node_id, "title": node_id, "instructions": "do it", **fields}


def test_plans_are_checked_before_anything_runs(tmp_path: Path) -> None:
    ok = _plan(_node("a", writes=["pkg/a.py"]), _node("b", deps=["a"], writes=["tests/test_a.py"], checks=["tests:tests"]))
    env = lambda uri: uri.endswith("/.env")  # noqa: E731 - the exclusion rule under test
    assert plan_problems(ok, tmp_path, env, max_nodes=5, max_files=5) == []
    assert topological_order(ok.nodes) == ["a", "b"]
    cycle = _plan(_node("a", deps=["b"]), _node("b", deps=["a"]))
    assert topological_order(cycle.nodes) is None
    assert plan_problems(cycle, tmp_path, env, max_nodes=5, max_files=5) == ["the nodes' dependencies form a cycle"]
    bad = _plan(
        _node("a", writes=["/etc/passwd", "../x.py", "ok.py", "config/.env"], deps=["zz"], checks=["make deploy"]),
        _node("a"),
    )
    problems = plan_problems(bad, tmp_path, env, max_nodes=1, max_files=3, checks=["mypy"])
    assert "duplicate node ids: a" in problems and "2 nodes is more than flashpro.tasks.maxNodes (1)" in problems
    assert "node a depends on unknown node(s) zz" in problems
    assert "node a asks for an unknown check 'make deploy'" in problems
    assert "'/etc/passwd' is outside the workspace" in problems and "'../x.py' is outside the workspace" in problems
    assert any("'config/.env' is excluded" in p for p in problems)
    assert "4 files is more than flashpro.tasks.maxFiles (3)" in problems
    assert clean_path("./pkg//a.py") == "pkg/a.py" and clean_path("~/.ssh/id_rsa") is None


def test_edits_must_match_exactly_once_in_declared_files() -> None:
    files = {"a.py": "x = 1\ny = 1\n", "b.py": "z = 1\n"}
    answer = NodeAnswer.model_validate(
        {
            "edits": [
                {"path": "a.py", "search": "x = 1\n", "replace": "x = 2\n"},
                {"path": "a.py", "search": "x = 2\n", "replace": "x = 3\n"},  # sees the first edit
            ],
            "new_files": [{"path": "c.py", "content": "c = 1\n"}],
        }
    )
    applied = apply_answer(answer, files.get, ["a.py", "c.py"])
    assert applied.ok and applied.files == {"a.py": "x = 3\ny = 1\n", "c.py": "c = 1\n"} and applied.created == {"c.py"}
    wrong = NodeAnswer.model_validate(
        {
            "edits": [
                {"path": "a.py", "search": "= 1\n", "replace": ""},
                {"path": "a.py", "search": "nope", "replace": ""},
                {"path": "b.py", "search": "z", "replace": "w"},
                {"path": "d.py", "search": "d", "replace": "e"},
            ],
            "new_files": [{"path": "a.py", "content": ""}],
        }
    )
    problems = apply_answer(wrong, files.get, ["a.py", "d.py"]).problems
    assert problems == [
        "edit 1: the search text occurs 2 times (add surrounding lines) in 'a.py'",
        "edit 2: the search text was not found in 'a.py'",
        "edit 3: 'b.py' is not among this node's writes",
        "edit 4: 'd.py' does not exist (create it with new_files)",
        "new file 'a.py' already exists (change it with edits)",
    ]


def test_the_shadow_copy_keeps_the_base_and_who_wrote_what(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("one\ntwo\nthree\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "big.js").write_text("x")
    shadow = Shadow(tmp_path, ["a.py", "new.py"], {"a.py": "one\ntwo\nthree\nfour\n"})  # an unsaved buffer
    try:
        assert not (shadow.dir / "node_modules").exists()
        assert shadow.base == {"a.py": "one\ntwo\nthree\nfour\n", "new.py": None}
        shadow.write("a.py", "one\nTWO\nthree\nfour\n", "n1")
        before = shadow.snapshot(["a.py", "new.py"])
        shadow.write("a.py", "one\nTWO\nthree\nFOUR\n", "n2")
        shadow.write("new.py", "new\n", "n2")
        assert shadow.owners("a.py", 0, 4) == {"n1", "n2"} and shadow.owners("a.py", 3, 4) == {"n2"}
        shadow.rollback(before)
        assert shadow.read("new.py") is None and shadow.owners("a.py", 0, 4) == {"n1"}
        (change,) = file_changes(shadow.changes(), shadow.owners, {})
        assert change.hunks == [Hunk(1, 2, "TWO\n", ("n1",))]
        assert (tmp_path / "a.py").read_text() == "one\ntwo\nthree\n"  # the user's file untouched
    finally:
        shadow.cleanup()
    assert not shadow.dir.exists()


def test_rebase_moves_over_the_users_edits_elsewhere_and_refuses_overlaps() -> None:
    base = "a\nb\nc\nd\ne\n"
    change = FileChange("f.py", base, "a\nb\nC\nd\ne\n", [Hunk(2, 3, "C\n", ("n1",))])
    assert rebase(change, base) == change.hunks
    assert rebase(change, "top\na\nb\nc\nd\ne\n") == [Hunk(3, 4, "C\n", ("n1",))]
    assert rebase(change, "a\nb\nc\nd\ne\nend\n") == change.hunks
    assert rebase(change, "a\nb\ncc\nd\ne\n") is None  # the same line
    assert rebase(change, "a\nB\nc\nd\ne\n") is None  # right next to it


def test_checks_count_only_what_the_change_introduced(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import os\nimport sys\n\nx = 1\n")
    checker = Checker(tmp_path, TaskSettings())
    before = {"m.py": "import os\n\nx = 1\n"}  # `os` was already unused
    results = asyncio.run(checker.run(["compiles", "lint", "tests:tests", "nope"], before, tmp_path))
    compiles, lint, tests, unknown = results
    assert compiles.status == "passed"
    assert lint.status == "failed" and "F401" in lint.detail and "sys" in lint.detail and "`os`" not in lint.detail
    assert tests.status == "skipped" and "runTests" in tests.detail
    assert unknown.status == "not_run"
    (tmp_path / "m.py").write_text("def broken(:\n")
    (failed,) = asyncio.run(checker.run(["compiles"], {"m.py": ""}, tmp_path))
    assert failed.failed and failed.detail.startswith("m.py:1:")
    (other,) = asyncio.run(checker.run(["compiles"], {"README.md": ""}, tmp_path))
    assert other.status == "not_run" and "not checked" in other.detail


def test_named_checks_run_without_secrets_and_stop_at_the_timeout(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DEEPSEEK_API_KEY": "sk-x", "GITHUB_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "s", "LANG": "C"}
    assert set(clean_environment(env)) == {"PATH", "LANG"}
    settings = TaskSettings(checks={"slow": ["sleep", "30"], "ghost": ["no-such-command-here"]}, check_timeout=0.5)
    slow, ghost = asyncio.run(Checker(tmp_path, settings, env).run(["slow", "ghost"], {}, tmp_path))
    assert slow.failed and "timed out" in slow.detail
    assert ghost.status == "not_run" and "command not found" in ghost.detail


def test_survival_is_the_share_of_added_lines_still_there() -> None:
    change = FileChange("a.py", "x\n", "x\ny = 1\nz = 2\n", [Hunk(1, 1, "y = 1\nz = 2\n")])
    added = added_lines([change])
    assert added == {"a.py": ["y = 1", "z = 2"]}
    assert surviving_share(added, {"a.py": "x\ny = 1\nz = 2\n"}) == 1.0
    assert surviving_share(added, {"a.py": "x\ny = 1\nz = 3\n"}) == 0.5
    assert surviving_share(added, {"a.py": None}) == 0.0
    assert surviving_share({}, {}) is None


@pytest.mark.parametrize("budget", [200, 2_000, 100_000])
def test_the_planners_request_fits_its_budget_and_keeps_the_selection(budget: int) -> None:
    lines = [f"def f{i}(x):\n    return x + {i}\n" for i in range(400)]
    text = selection_request("m.py", lines, 200, 201, budget)
    assert "  201| def f200(x):" in text and "lines 201-202 of m.py" in text
    body = text.split("\n", 1)[1]
    assert count(body) <= max(budget, count("".join(f"{i + 1:>5}| {lines[i]}" for i in (200, 201))) + 50)
