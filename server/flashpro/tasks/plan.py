"""The JSON a task's models answer with — the plan, a node's edits, the verdict — and plan checks.

V4 Pro answers a `Plan`: a goal, the decisions behind it, risks, acceptance criteria and a graph
of `PlanNode`s, each with the files it reads and writes, its instructions and the checks the
server runs on its result. Before anything runs, `plan_problems` rejects a plan with a cycle, an
unknown dependency, a duplicate id, a path outside the workspace or excluded from the API, or more
nodes or files than the task limits allow. Model output is data: nothing in it is ever executed
(checks are names the server maps to its own tools).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Decision",
    "Edit",
    "NewFile",
    "NodeAnswer",
    "Plan",
    "PlanNode",
    "Verdict",
    "clean_path",
    "plan_problems",
    "topological_order",
]


class _Answer(BaseModel):
    """Lenient about extra keys, strict about the ones used."""

    model_config = ConfigDict(extra="ignore")


class Decision(_Answer):
    decision: str = Field(min_length=1)
    reason: str = ""


class PlanNode(_Answer):
    """One unit of work: run by one model call (plus retries), checked by the server."""

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = Field(min_length=1, max_length=200)
    role: Literal["implement", "test", "refactor", "docs"] = "implement"
    model: Literal["executor", "planner"] = "executor"
    deps: list[str] = Field(default_factory=list)
    reads: list[str] = Field(default_factory=list)
    writes: list[str] = Field(default_factory=list)
    instructions: str = Field(min_length=1)
    checks: list[str] = Field(default_factory=lambda: ["compiles"])
    replicas: int = Field(1, ge=1, le=16)


class Plan(_Answer):
    """V4 Pro's plan for a change."""

    goal: str = Field(min_length=1)
    decisions: list[Decision] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    acceptance: list[str] = Field(default_factory=list)
    nodes: list[PlanNode] = Field(min_length=1)

    def files(self) -> list[str]:
        """Every path the plan reads or writes, in first-mention order."""
        return list(dict.fromkeys(p for node in self.nodes for p in [*node.writes, *node.reads]))


class Edit(_Answer):
    """Replace the one place `search` occurs in `path` with `replace`."""

    path: str = Field(min_length=1)
    search: str = Field(min_length=1)
    replace: str


class NewFile(_Answer):
    path: str = Field(min_length=1)
    content: str


class NodeAnswer(_Answer):
    """What a node's model answers: edits to existing files, new files, and a short handoff."""

    edits: list[Edit] = Field(default_factory=list)
    new_files: list[NewFile] = Field(default_factory=list)
    summary: str = ""
    handoff: str = ""


class Verdict(_Answer):
    """The planner's acceptance of the combined change."""

    verdict: Literal["accept", "rework", "reject"]
    findings: list[str] = Field(default_factory=list)
    rework: list[str] = Field(default_factory=list)


def clean_path(path: str) -> str | None:
    """A plan path as a clean relative POSIX path, or None when it leaves the workspace."""
    text = path.strip().replace("\\", "/")
    candidate = PurePosixPath(text)
    if not text or candidate.is_absolute() or ".." in candidate.parts or text.startswith("~"):
        return None
    parts = [part for part in candidate.parts if part not in ("", ".")]
    return "/".join(parts) or None


def topological_order(nodes: Iterable[PlanNode]) -> list[str] | None:
    """Node ids with every node after its dependencies (plan order kept where free); None for
    a cycle. Unknown dependencies are ignored here (`plan_problems` reports them)."""
    nodes = list(nodes)
    known = {node.id for node in nodes}
    waiting = {node.id: {d for d in node.deps if d in known} for node in nodes}
    order: list[str] = []
    while waiting:
        ready = [node.id for node in nodes if node.id in waiting and not waiting[node.id]]
        if not ready:
            return None
        for node_id in ready:
            del waiting[node_id]
            order.append(node_id)
        for deps in waiting.values():
            deps.difference_update(ready)
    return order


def plan_problems(
    plan: Plan,
    root: Path,
    excluded: Callable[[str], bool],
    *,
    max_nodes: int,
    max_files: int,
    checks: Iterable[str] = (),
) -> list[str]:
    """Why `plan` must not run (empty: it may). `excluded(uri)` says whether a file may never be
    sent (flashpro.exclude, .gitignore, vendored folders); `checks` are the named checks known."""
    problems: list[str] = []
    ids = [node.id for node in plan.nodes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate node ids: {', '.join(duplicates)}")
    if len(plan.nodes) > max_nodes:
        problems.append(f"{len(plan.nodes)} nodes is more than flashpro.tasks.maxNodes ({max_nodes})")
    for node in plan.nodes:
        unknown = [d for d in node.deps if d not in ids]
        if unknown:
            problems.append(f"node {node.id} depends on unknown node(s) {', '.join(unknown)}")
        if node.id in node.deps:
            problems.append(f"node {node.id} depends on itself")
        for check in node.checks:
            if not _known_check(check, checks):
                problems.append(f"node {node.id} asks for an unknown check '{check}'")
    if not duplicates and topological_order(plan.nodes) is None:
        problems.append("the nodes' dependencies form a cycle")
    files = plan.files()
    for path in files:
        clean = clean_path(path)
        if clean is None:
            problems.append(f"'{path}' is outside the workspace")
        elif excluded((root / clean).as_uri()):
            problems.append(f"'{path}' is excluded from the API (flashpro.exclude or a secret-like file)")
    if len(files) > max_files:
        problems.append(f"{len(files)} files is more than flashpro.tasks.maxFiles ({max_files})")
    return problems


def _known_check(check: str, named: Iterable[str]) -> bool:
    if check in ("compiles", "lint") or check in set(named):
        return True
    return check.startswith("tests:") and bool(check[len("tests:") :].strip())
