"""One node of a plan, run to a checked result: attempts, feedback, replicas, escalation.

A node runs on its routed model (V4 Flash by default) with its own context. Its answer is
applied to the shadow copy and the node's checks run; a failure (an edit that does not apply,
a check that fails) is undone and the node is asked again with what went wrong, up to
`flashpro.tasks.maxAttempts` times; then once with thinking on V4 Pro (on V4 Flash when the task
runs Flash only); then the user is asked:
Retry, Skip node or Abort (a human intervention). A node with `replicas > 1` runs that many
candidates at once each attempt; the ones failing checks are dropped and of the rest the one
with the smallest change wins. Nodes writing the same file run one after another (file locks).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flashpro.calls.structured import Unusable
from flashpro.providers import ProviderError
from flashpro.tasks.checks import Checker, CheckResult
from flashpro.tasks.context import TaskContext, TaskStopped
from flashpro.tasks.edits import apply_answer
from flashpro.tasks.plan import NodeAnswer, PlanNode
from flashpro.tasks.prompts import node_messages, retry_feedback
from flashpro.tasks.shadow import Shadow

__all__ = ["NodeRun", "NodeRunner"]

_NODE_OUTPUT_TOKENS = 8192


@dataclass(slots=True)
class NodeRun:
    """What became of one node."""

    node: PlanNode
    status: str = "pending"  # pending / running / passed / failed / skipped
    attempts: int = 0
    escalated: bool = False
    checks: list[CheckResult] = field(default_factory=list)
    summary: str = ""
    handoff: str = ""
    spent_usd: float = 0.0
    wall_ms: int = 0
    last_problem: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(slots=True)
class _Candidate:
    answer: NodeAnswer
    text: str
    problems: list[str]
    checks: list[CheckResult]
    size: int = 0


class NodeRunner:
    """Runs nodes of one task against its shadow copy."""

    def __init__(self, context: TaskContext, shadow: Shadow, checker: Checker, head: str) -> None:
        self.context = context
        self.shadow = shadow
        self.checker = checker
        self.head = head
        self._locks: dict[str, asyncio.Lock] = {}

    async def run(self, run: NodeRun, handoffs: Mapping[str, str], extra: str = "") -> None:
        """Run `run.node` until it passes, is skipped, or the user aborts (TaskStopped)."""
        node = run.node
        locks = [self._locks.setdefault(path, asyncio.Lock()) for path in sorted(set(node.writes))]
        started = time.monotonic()
        spent_before = self.context.spent_usd
        run.status = "running"
        for lock in locks:
            await lock.acquire()
        try:
            while True:
                if await self._attempts(run, handoffs, extra):
                    run.status = "passed"
                    return
                choice = await self._ask_user(run)
                self.context.counters.interventions += 1
                if choice == "Retry":
                    continue
                if choice == "Skip node":
                    run.status = "skipped"
                    return
                raise TaskStopped(
                    f"flashpro: the task was aborted at node {node.id} ({node.title}); nothing was applied",
                    status="aborted",
                )
        finally:
            for lock in reversed(locks):
                lock.release()
            run.wall_ms += int((time.monotonic() - started) * 1000)
            run.spent_usd += self.context.spent_usd - spent_before
            self.context.record(
                "nodes",
                task_id=self.context.task_id,
                node_id=node.id,
                title=node.title,
                role=node.role,
                model=self.context.role(node.model),
                status=run.status,
                attempts=run.attempts,
                escalated=int(run.escalated),
                replicas=min(node.replicas, self.context.settings.tasks.max_replicas),
                wall_ms=run.wall_ms,
            )

    async def _attempts(self, run: NodeRun, handoffs: Mapping[str, str], extra: str) -> bool:
        """One round: the executor's attempts, then one escalation. True when the node passed."""
        node, tasks = run.node, self.context.settings.tasks
        files = {path: self.shadow.read(path) for path in dict.fromkeys([*node.writes, *node.reads])}
        messages = node_messages(self.head, node, files, dict(handoffs), tasks.node_context_tokens, extra)
        for attempt in range(1, tasks.max_attempts + 2):
            escalate = attempt > tasks.max_attempts
            run.attempts += 1
            run.escalated = run.escalated or escalate
            self.context.counters.attempts += 1
            self.context.counters.escalations += int(escalate)
            suffix = f" ({self._escalation(node)}, thinking)" if escalate else ""
            self.context.progress(f"node {node.id} · attempt {attempt}{suffix}")
            replicas = 1 if escalate else min(node.replicas, tasks.max_replicas)
            candidates = await self._ask(run, messages, attempt, escalate, replicas)
            chosen = await self._choose(run, candidates, attempt)
            if chosen is not None:
                run.summary, run.handoff = chosen.answer.summary, chosen.answer.handoff
                return True
            failed = candidates[0]
            feedback = retry_feedback(failed.problems, [f"{c.name} failed:\n{c.detail}" for c in failed.checks if c.failed])
            run.last_problem = (failed.problems or [_gist(c) for c in failed.checks if c.failed] or [""])[0][:300]
            messages = [*messages, {"role": "assistant", "content": failed.text or "(no answer)"}]
            messages.append({"role": "user", "content": feedback})
        return False

    async def _ask(
        self, run: NodeRun, messages: list[dict[str, str]], attempt: int, escalate: bool, replicas: int
    ) -> list[_Candidate]:
        """`replicas` answers at once (an unusable one becomes a candidate with a problem)."""
        role = self.context.role(run.node.model, escalate)

        async def one() -> _Candidate:
            raw: list[str] = []
            try:
                answer = await self.context.ask_json(
                    messages,
                    NodeAnswer,
                    role=role,
                    thinking=escalate,
                    max_tokens=_NODE_OUTPUT_TOKENS * (2 if escalate else 1),
                    node_id=run.node.id,
                    attempt=attempt,
                    raw=raw,
                )
            except Unusable as error:
                self.context.counters.tool_failures += 1
                return _Candidate(NodeAnswer(), "", [f"the answer was not valid json: {error}"], [])
            except ProviderError as error:
                return _Candidate(NodeAnswer(), "", [f"the model call failed: {error.message}"], [])
            return _Candidate(answer, raw[-1] if raw else json.dumps(answer.model_dump()), [], [])

        return list(await asyncio.gather(*(one() for _ in range(replicas))))

    async def _choose(self, run: NodeRun, candidates: list[_Candidate], attempt: int) -> _Candidate | None:
        """Apply and check each candidate (undoing each); keep the smallest passing change."""
        node = run.node
        survivors: list[_Candidate] = []
        for replica, candidate in enumerate(candidates):
            if not candidate.problems:
                await self._try(node, candidate)
            if candidate.problems:
                outcome = "tool_failure"
            else:
                outcome = "check_failed" if any(c.failed for c in candidate.checks) else "passed"
            if outcome == "passed":
                survivors.append(candidate)
            self.context.record(
                "attempts",
                task_id=self.context.task_id,
                node_id=node.id,
                n=attempt,
                replica=replica,
                model=self.context.meter.model(
                    self.context.role(node.model, attempt > self.context.settings.tasks.max_attempts)
                ),
                outcome=outcome,
                checks_json=json.dumps([[c.name, c.status] for c in candidate.checks]),
            )
        if not survivors:
            return None
        best = min(survivors, key=lambda c: c.size)
        await self._try(node, best, keep=True, checked=True)  # checked above; now keep it
        run.checks = best.checks
        return best

    async def _try(self, node: PlanNode, candidate: _Candidate, keep: bool = False, checked: bool = False) -> None:
        """Apply `candidate` to the shadow and run the node's checks; undo unless `keep`."""
        applied = apply_answer(candidate.answer, self.shadow.read, node.writes)
        if not applied.ok:
            self.context.counters.tool_failures += 1
            candidate.problems = applied.problems
            return
        snapshot = self.shadow.snapshot(applied.files)
        before = {path: snapshot[path][0] for path in applied.files}
        for path, text in applied.files.items():
            self.shadow.write(path, text, node.id)
        candidate.size = sum(_changed(before[path] or "", text) for path, text in applied.files.items())
        if not checked:
            candidate.checks = await self.checker.run(node.checks, before, self.context.root)
            self.context.counters.checks_run += len(candidate.checks)
            self.context.counters.checks_passed += sum(c.status == "passed" for c in candidate.checks)
        if not keep:
            self.shadow.rollback(snapshot)

    async def _ask_user(self, run: NodeRun) -> str | None:
        node = run.node
        problem = f" (last problem: {run.last_problem})" if run.last_problem else ""
        message = (
            f"flashpro: node {node.id} '{node.title}' failed after {run.attempts} attempts, the last on "
            f"{self._escalation(node)} with thinking{problem}. Retry it, skip it (nodes that depend on it are "
            "skipped), or abort the task?"
        )
        return await self.context.host.ask(message, ["Retry", "Skip node", "Abort"])

    def _escalation(self, node: PlanNode) -> str:
        """The model an escalated attempt runs on, as the user knows it (Flash when the task's
        combination is Flash only)."""
        return "V4 Pro" if self.context.role(node.model, escalate=True) == "planner" else "V4 Flash"


def _gist(check: CheckResult) -> str:
    """What a failed check says went wrong, in a line: pytest's FAILED / ERROR summary lines, else
    the first line of its output (never the warnings and headers before pytest's summary)."""
    lines = [line.strip() for line in check.detail.splitlines() if line.strip()]
    summary = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return f"{check.name} failed: " + ("; ".join(summary) if summary else lines[0] if lines else "no output")


def _changed(old: str, new: str) -> int:
    """A cheap size of a change: characters outside the common start and end."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return len(old) + len(new) - 2 * (start + end)
