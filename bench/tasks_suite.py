"""The fixture tasks of bench/tasks.py: tiny real projects, each with a failing test, and their keys.

Each folder under `bench/tasks_fixtures/` is one task:

    <name>/project/    the project as the user has it: module(s), tests/, pyproject.toml (pytest
                       runs from the project folder: `pythonpath = ["."]`); its test fails
    <name>/solution/   the files the correct change writes (changed or new), as they should end up
    <name>/buggy/      plausible wrong versions of some of those files (a test or lint catches them)
    <name>/task.json   the answer key: where the user asks (`spot`: the TODO or the function),
                       the fixture's failing test, the correct plan (paths relative to the
                       project), each node's handoff, and how a weak plan falls short (`gap`:
                       `drop_check` removes a node's `tests:` checks; `drop_node` removes a node
                       and moves its checks to the nodes it depended on)

In the bench every project is copied into one workspace folder, as `<name>/…`, so plan paths
and `tests:` selectors get the `<name>/` prefix (`Fixture.plan`). `derive_edits` turns a file's
text before and after into the search/replace edits a node answers with, checked the way the
server applies them.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FIXTURES",
    "PYTEST_ENV",
    "QUICK",
    "SUITE",
    "Fixture",
    "check_fixture",
    "derive_edits",
    "load_fixture",
    "load_suite",
    "mismatch",
    "run_pytest",
]

FIXTURES = Path(__file__).resolve().parent / "tasks_fixtures"
SUITE = (
    "word_count",
    "page_count",
    "price_symbol",
    "empty_stats",
    "rename_area",
    "signup_validation",
    "inventory_value",
    "slugify_dashes",
)
"""The default order (`--fixtures N` takes the first N)."""
QUICK = ("word_count", "rename_area")
"""`--quick`: one single-node task and one two-file task."""


def _texts(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@dataclass(frozen=True)
class Fixture:
    """One fixture task and its answer key (paths relative to the project folder)."""

    name: str
    kind: str
    project: dict[str, str]
    solution: dict[str, str]
    buggy: dict[str, str]
    spot_file: str
    spot_lines: tuple[int, int]
    test: str
    key_plan: dict[str, Any]
    handoffs: dict[str, str]
    gap: dict[str, str]

    def path(self, relative: str) -> str:
        """A project path as the workspace names it."""
        return f"{self.name}/{relative}"

    def local(self, path: str) -> str | None:
        """A workspace path back to the project's own (None: not in this project)."""
        prefix = f"{self.name}/"
        return path[len(prefix) :] if path.startswith(prefix) else None

    @property
    def node_ids(self) -> list[str]:
        return [node["id"] for node in self.key_plan["nodes"]]

    def node(self, node_id: str) -> dict[str, Any] | None:
        return next((n for n in self.key_plan["nodes"] if n["id"] == node_id), None)

    def plan(self, weak: bool = False) -> dict[str, Any]:
        """The plan as the planner answers it in the workspace: the key's, or with its gap."""
        nodes = [dict(node) for node in self.key_plan["nodes"]]
        if weak:
            target = self.gap["node"]
            if self.gap["kind"] == "drop_check":
                for node in nodes:
                    if node["id"] == target:
                        node["checks"] = [c for c in node.get("checks", []) if not c.startswith("tests:")]
            else:  # drop_node: its checks move to the nodes it depended on
                dropped = next(node for node in nodes if node["id"] == target)
                nodes = [node for node in nodes if node["id"] != target]
                for node in nodes:
                    node["deps"] = [d for d in node.get("deps", []) if d != target]
                    if node["id"] in dropped.get("deps", []):
                        node["checks"] = list(
                            dict.fromkeys([*node.get("checks", []), *dropped.get("checks", [])])
                        )
        for node in nodes:
            node["writes"] = [self.path(p) for p in node.get("writes", [])]
            node["reads"] = [self.path(p) for p in node.get("reads", [])]
            node["checks"] = [
                f"tests:{self.path(c[len('tests:') :])}" if c.startswith("tests:") else c
                for c in node.get("checks", [])
            ]
            node.setdefault("deps", [])
            node.setdefault("model", "executor")
            node.setdefault("replicas", 1)
        return {**{k: v for k, v in self.key_plan.items() if k != "nodes"}, "nodes": nodes}

    def copy_into(self, workspace: Path) -> Path:
        """Copy the project into `workspace/<name>/`; returns that folder."""
        target = workspace / self.name
        shutil.copytree(
            FIXTURES / self.name / "project", target, ignore=shutil.ignore_patterns("__pycache__")
        )
        return target


def _spot(project: dict[str, str], spot: dict[str, Any]) -> tuple[int, int]:
    lines = project[spot["file"]].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(spot["pattern"]))
    return first, first + int(spot.get("lines", 1)) - 1


def load_fixture(name: str) -> Fixture:
    folder = FIXTURES / name
    key = json.loads((folder / "task.json").read_text(encoding="utf-8"))
    project = _texts(folder / "project")
    return Fixture(
        name=name,
        kind=key["kind"],
        project=project,
        solution=_texts(folder / "solution"),
        buggy=_texts(folder / "buggy"),
        spot_file=key["spot"]["file"],
        spot_lines=_spot(project, key["spot"]),
        test=key["test"],
        key_plan=key["plan"],
        handoffs=dict(key.get("handoffs", {})),
        gap=dict(key["gap"]),
    )


def load_suite(names: tuple[str, ...] = SUITE) -> list[Fixture]:
    """The fixtures named, in that order."""
    return [load_fixture(name) for name in names]


def _apply(text: str, edits: list[dict[str, str]]) -> str | None:
    """`edits` applied as the server applies them (each search exactly once), None if one fails."""
    for edit in edits:
        if text.count(edit["search"]) != 1:
            return None
        text = text.replace(edit["search"], edit["replace"], 1)
    return text


def derive_edits(path: str, old: str, new: str, context: int = 1) -> list[dict[str, str]]:
    """Search/replace edits that turn `old` into `new`: one per changed region with `context`
    lines around it (more where the search text would not be unique), else one whole-file edit."""
    if old == new:
        return []
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    for n in range(context, context + 4):
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        edits = [
            {
                "path": path,
                "search": "".join(a[group[0][1] : group[-1][2]]),
                "replace": "".join(b[group[0][3] : group[-1][4]]),
            }
            for group in matcher.get_grouped_opcodes(n)
        ]
        if all(edit["search"] for edit in edits) and _apply(old, edits) == new:
            return edits
    return [{"path": path, "search": old, "replace": new}]


def mismatch(search: str, text: str) -> str:
    """`search` as a model misremembers it: one line re-indented, a trailing space, or other
    quotes — whichever no longer occurs in `text`."""
    lines = search.splitlines(keepends=True)
    index = max(range(len(lines)), key=lambda i: len(lines[i].strip()))
    line = lines[index]
    body = line.rstrip("\n")
    tries = [
        line[2:] if line.startswith("  ") else "  " + line,
        body + " \n" if line.endswith("\n") else body + " ",
        line.replace('"', "'") if '"' in line else line.replace("'", '"'),
    ]
    for changed in tries:
        candidate = "".join([*lines[:index], changed, *lines[index + 1 :]])
        if candidate != search and candidate not in text:
            return candidate
    return search + "# (as remembered)\n"


PYTEST_ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""How the fixtures' tests run, in the bench's checks and in the server's: plain pytest, without
the plugins of flashpro's development environment (pytest-lsp, pytest-asyncio), which the
fixture projects do not use and which would load into every run."""


async def run_pytest(folder: Path, selector: str) -> tuple[bool, str]:
    """pytest on `selector` in `folder` (its pyproject.toml decides the root); (passed, output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPSEEK_", "FLASHPRO_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", selector,
        cwd=folder, env={**env, **PYTEST_ENV},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode == 0, out.decode("utf-8", "replace")


async def check_fixture(fixture: Fixture) -> dict[str, bool]:
    """Whether the fixture is honest: its test fails on the project, every test passes with the
    key's files, and some test fails with the buggy files (over the key's)."""
    with tempfile.TemporaryDirectory(prefix="flashpro-fixture-") as tmp:
        folders = {name: Path(tmp) / name for name in ("before", "key", "buggy")}
        layers = {"before": [], "key": [fixture.solution], "buggy": [fixture.solution, fixture.buggy]}
        for name, folder in folders.items():
            for layer in [fixture.project, *layers[name]]:
                for path, text in layer.items():
                    (folder / path).parent.mkdir(parents=True, exist_ok=True)
                    (folder / path).write_text(text, encoding="utf-8")
        before = await run_pytest(folders["before"], fixture.test)
        key = await run_pytest(folders["key"], "tests")
        buggy = await run_pytest(folders["buggy"], "tests")
    return {"test_fails_before": not before[0], "tests_pass_with_key": key[0], "buggy_fails": not buggy[0]}
