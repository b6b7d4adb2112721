"""A SIMULATED planner, executor and reviewer for bench/tasks.py: the fake DeepSeek's chat responder.

Nothing here is a language model. Each answer is built from the fixture's answer key, right or
wrong by a seeded draw whose odds depend on the model the request names and on the situation:

- planner (the `plan` call): invalid JSON with `plan_json` odds (the server asks once more); else
  the key's plan, or — with `plan_gap` odds — a weaker plan with the fixture's gap (a `tests:`
  check left out, or a needed node left out);
- executor (node calls): right with `first` odds on a node's first call in a task, `retry` odds
  on later calls (a retry carries the failing check's output; rework and JSON re-asks count as
  retries), `thinking` odds on an escalated call (thinking on). A wrong answer is, by the
  `wrong_mix` weights, a buggy implementation (the fixture's `buggy/` file: a test or lint
  catches it, unless the plan has no such check), an edit whose search text does not match the
  file (a tool-call failure), or invalid JSON (truncated). Edits are derived from the file text
  the node's prompt shows, so a retry or a rework starts from what the node sees;
- reviewer (the `accept` call): compares the diff it is shown with the key's; a wrong or
  incomplete change is caught with `review` odds (rework of the wrong nodes once, else reject)
  and otherwise accepted — a miss, which the bench's re-run of the fixture's test then exposes.

Draws use common random numbers: the uniform number for (seed, fixture, call, node, n-th call)
is the same for every model combination, so Pro's higher odds never make it fail a draw that
Flash passed. Models with thinking on get `reasoning_tokens` of reasoning text (billed as output
by the fake, as DeepSeek bills it).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from flashpro.tasks.prompts import ACCEPT_SYSTEM, NODE_SYSTEM, PLAN_SYSTEM
from flashpro.tasks.runner import unified_diff

from bench.tasks_suite import Fixture, derive_edits, mismatch
from tests.fakes import Answer

__all__ = ["RATE_HELP", "Rates", "Simulator", "diff_lines"]

_NODE = re.compile(r"Your node: (\S+) — ")
_FILE = re.compile(r"\nFile (\S+):\n```\n(.*?)```\n", re.DOTALL)
_MISSING = re.compile(r"\nFile (\S+) does not exist yet\.\n")


@dataclass(frozen=True)
class Rates:
    """The simulation's assumed odds (flags of bench/tasks.py: --flash-first 0.6 ...)."""

    flash_first: float = 0.6
    flash_retry: float = 0.65
    flash_thinking: float = 0.75
    pro_first: float = 0.85
    pro_retry: float = 0.85
    pro_thinking: float = 0.95
    flash_plan_gap: float = 0.4
    pro_plan_gap: float = 0.05
    flash_plan_json: float = 0.1
    pro_plan_json: float = 0.03
    flash_review: float = 0.6
    pro_review: float = 0.95
    wrong_mix: tuple[float, float, float] = (0.5, 0.3, 0.2)  # buggy code, search mismatch, bad JSON

    def odds(self, model: str, name: str) -> float:
        value: float = getattr(self, f"{model}_{name}")
        return value

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


RATE_HELP = {
    "first": "chance a node's first answer is right",
    "retry": "chance a retry (with the check output), rework or JSON re-ask is right",
    "thinking": "chance an escalated answer (thinking on) is right",
    "plan_gap": "chance a plan misses a needed check or node",
    "plan_json": "chance a plan answer is invalid JSON",
    "review": "chance the reviewer catches a wrong or incomplete change",
}


def diff_lines(diff: str) -> dict[str, Counter[str]]:
    """Per file of a unified diff, its added and removed lines (`+x`, `-y`) as a multiset."""
    found: dict[str, Counter[str]] = {}
    current: Counter[str] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            current = found.setdefault(line[4:].removeprefix("b/"), Counter())
        elif line.startswith(("--- ", "@@")):
            continue
        elif current is not None and line[:1] in "+-" and line:
            current[line] += 1
    return found


@dataclass
class _Task:
    """What the simulator keeps about the task running now."""

    fixture: Fixture
    calls: Counter[str] = field(default_factory=Counter)
    plan: dict[str, Any] | None = None
    reviews: int = 0
    events: list[str] = field(default_factory=list)


class Simulator:
    """The chat responder for one model combination (`begin(fixture)` before each task)."""

    def __init__(self, rates: Rates, seed: int, reasoning_tokens: int = 400) -> None:
        self.rates = rates
        self.seed = seed
        self.reasoning_tokens = reasoning_tokens
        self.task: _Task | None = None
        self.unknown = 0  # requests the simulator could not place (should stay 0)
        self._lock = threading.Lock()

    def begin(self, fixture: Fixture) -> None:
        with self._lock:
            self.task = _Task(fixture)

    def events(self) -> list[str]:
        """What the draws did in the task that ran last (`gap`, `bug n1`, `review miss`, ...)."""
        return list(self.task.events) if self.task is not None else []

    # -- the responder -------------------------------------------------------------------------
    def __call__(self, body: dict[str, Any]) -> Answer:
        messages = body.get("messages") or []
        system = messages[0]["content"] if messages else ""
        model = "pro" if "pro" in str(body.get("model")) else "flash"
        thinking = (body.get("thinking") or {}).get("type") == "enabled"
        with self._lock:
            task = self.task
            if task is None or system not in (PLAN_SYSTEM, NODE_SYSTEM, ACCEPT_SYSTEM):
                self.unknown += 1
                return Answer('{"answer": "ok"}')
            if system == PLAN_SYSTEM:
                text = self._plan(task, model)
            elif system == ACCEPT_SYSTEM:
                text = self._review(task, model, messages[1]["content"])
            else:
                found = _NODE.search(messages[1]["content"])
                text = self._node(
                    task, model, thinking, found.group(1) if found else "?", messages[1]["content"]
                )
        return Answer(text, reasoning=self._reasoning(task) if thinking else None)

    def _draw(self, task: _Task, what: str) -> random.Random:
        n = task.calls[what]
        task.calls[what] += 1
        return random.Random(f"{self.seed}|{task.fixture.name}|{what}|{n}")

    def _reasoning(self, task: _Task) -> str:
        plan = task.fixture.key_plan
        words = " ".join(
            [
                plan["goal"],
                *(d["decision"] for d in plan.get("decisions", [])),
                *(n["instructions"] for n in plan["nodes"]),
            ]
        ).split()
        count = max(self.reasoning_tokens * 3 // 4, 1)  # about 4 words per 3 tokens of English
        return " ".join(words[i % len(words)] for i in range(count))

    # -- planner -------------------------------------------------------------------------------
    def _plan(self, task: _Task, model: str) -> str:
        draw = self._draw(task, "plan")
        bad_json, gap = draw.random(), draw.random()
        weak = gap < self.rates.odds(model, "plan_gap")
        plan = task.fixture.plan(weak=weak)
        text = json.dumps(plan)
        if bad_json < self.rates.odds(model, "plan_json"):
            task.events.append("plan json")
            return text[: len(text) * 2 // 3]
        if weak:
            task.events.append(f"plan gap ({task.fixture.gap['kind']} {task.fixture.gap['node']})")
        task.plan = plan
        return text

    # -- executor ------------------------------------------------------------------------------
    def _node(self, task: _Task, model: str, thinking: bool, node_id: str, prompt: str) -> str:
        fixture = task.fixture
        key_node = fixture.node(node_id)
        first = task.calls[f"node {node_id}"] == 0
        draw = self._draw(task, f"node {node_id}")
        right, kind = draw.random(), draw.random()
        if key_node is None:
            self.unknown += 1
            return json.dumps({"edits": [], "new_files": [], "summary": "?", "handoff": ""})
        odds = self.rates.odds(model, "thinking" if thinking else "first" if first else "retry")
        files = {path: text for path, text in _FILE.findall(prompt)}
        missing = set(_MISSING.findall(prompt))
        writes = [fixture.path(p) for p in key_node.get("writes", [])]
        if right < odds:
            return self._answer(task, node_id, writes, files, missing, fixture.solution)
        mix = self.rates.wrong_mix
        bug = any(
            fixture.local(p) in fixture.buggy and fixture.buggy[fixture.local(p) or ""] != files.get(p)
            for p in writes
        )
        weights = [mix[0] if bug else 0.0, mix[1], mix[2]]
        pick = kind * sum(weights)
        if pick < weights[0]:
            task.events.append(f"bug {node_id}")
            return self._answer(task, node_id, writes, files, missing, {**fixture.solution, **fixture.buggy})
        if pick < weights[0] + weights[1]:
            task.events.append(f"search miss {node_id}")
            return self._mismatch(task, node_id, writes, files, missing)
        task.events.append(f"bad json {node_id}")
        text = self._answer(task, node_id, writes, files, missing, fixture.solution)
        return text[: len(text) * 2 // 3]

    def _answer(
        self,
        task: _Task,
        node_id: str,
        writes: list[str],
        files: dict[str, str],
        missing: set[str],
        targets: dict[str, str],
    ) -> str:
        fixture = task.fixture
        edits: list[dict[str, str]] = []
        new_files: list[dict[str, str]] = []
        for path in writes:
            target = targets.get(fixture.local(path) or "")
            if target is None:
                continue
            if path in missing:
                new_files.append({"path": path, "content": target})
            elif path in files:
                edits += derive_edits(path, files[path], target)
        handoff = fixture.handoffs.get(node_id, "")
        return json.dumps(
            {"edits": edits, "new_files": new_files, "summary": f"{node_id} done", "handoff": handoff}
        )

    def _mismatch(
        self, task: _Task, node_id: str, writes: list[str], files: dict[str, str], missing: set[str]
    ) -> str:
        answer = json.loads(self._answer(task, node_id, writes, files, missing, task.fixture.solution))
        if answer["edits"]:
            edit = answer["edits"][0]
            edit["search"] = mismatch(edit["search"], files.get(edit["path"], ""))
        elif answer["new_files"]:  # an edit to a file that does not exist yet
            new = answer["new_files"].pop(0)
            answer["edits"].append(
                {"path": new["path"], "search": new["content"][:40] or "x", "replace": new["content"]}
            )
        return json.dumps(answer)

    # -- reviewer ------------------------------------------------------------------------------
    def _review(self, task: _Task, model: str, message: str) -> str:
        fixture = task.fixture
        draw = self._draw(task, "review")
        caught = draw.random() < self.rates.odds(model, "review")
        diff = message.split("\nDiff:\n", 1)[-1]
        seen = diff_lines(diff)
        plan = task.plan or fixture.plan()
        expected = diff_lines(
            unified_diff(
                {fixture.path(p): (fixture.project.get(p), text) for p, text in fixture.solution.items()}
            )
        )
        wrong, findings = [], []
        for node in plan["nodes"]:
            optional = node.get("role") in ("test", "docs")
            for path in node["writes"]:
                if path not in seen and optional:
                    continue
                if seen.get(path, Counter()) != expected.get(path, Counter()):
                    wrong.append(node["id"])
                    findings.append(f"{node['id']}: {path} does not do what the plan asks")
                    break
        covered = {path for node in plan["nodes"] for path in node["writes"]}
        incomplete = [path for path in expected if path not in covered]
        findings += [f"{path} still needs its change" for path in incomplete]
        task.reviews += 1
        if not findings:
            return json.dumps({"verdict": "accept", "findings": [], "rework": []})
        if not caught:
            task.events.append("review miss")
            return json.dumps({"verdict": "accept", "findings": [], "rework": []})
        if wrong and task.reviews == 1:
            task.events.append("review rework")
            return json.dumps({"verdict": "rework", "findings": findings, "rework": wrong})
        task.events.append("review reject")
        return json.dumps({"verdict": "reject", "findings": findings, "rework": []})
