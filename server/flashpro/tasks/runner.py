"""A task end to end: the plan, its checks, the nodes in dependency order, acceptance.

1. V4 Pro (the planner of the task's combination) answers a `Plan` (JSON Output, one more try
   when invalid); a plan with a cycle, an unknown dependency, a path outside the workspace or
   excluded, or too many nodes or files is rejected with a clear message and nothing runs.
2. A shadow copy of the workspace is made (unsaved buffers laid over it).
3. Nodes whose dependencies passed run concurrently (`flashpro.tasks.concurrency`); a node
   whose dependency failed or was skipped is skipped.
4. Every check of every node runs once more over the final state; then the planner reviews the
   combined diff, the check report and the plan's acceptance criteria: accept, rework (the named
   nodes run once more with its findings; one round at most) or reject.
5. The result — the shadow's changes against the base, with which node made each — goes back
   to the caller, which shows it to the user as one reviewed edit. The task's row in the ledger
   follows every step.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flashpro.calls.structured import Unusable
from flashpro.ledger.records import format_utc
from flashpro.providers import ProviderError
from flashpro.tasks.checks import Checker, CheckResult
from flashpro.tasks.context import TaskContext, TaskStopped
from flashpro.tasks.node import NodeRun, NodeRunner
from flashpro.tasks.plan import Plan, Verdict, clean_path, plan_problems, topological_order
from flashpro.tasks.prompts import ACCEPT_SYSTEM, PLAN_SYSTEM, acceptance_message, plan_head, planning_message
from flashpro.tasks.shadow import Shadow, walk

__all__ = ["TaskResult", "TaskRunner", "workspace_files"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class TaskResult:
    """How a task ended; `status` ready means there is a change for the user to review."""

    status: str  # ready / plan_rejected / rejected / failed / aborted / stopped / cancelled
    message: str
    plan: Plan | None = None
    runs: dict[str, NodeRun] = field(default_factory=dict)
    shadow: Shadow | None = None
    verdict: Verdict | None = None
    final_checks: list[CheckResult] = field(default_factory=list)
    skipped_checks: list[str] = field(default_factory=list)  # checks the settings leave off
    wall_ms: int = 0

    def diff(self) -> str:
        """The unified diff of the change (empty when there is none)."""
        if self.shadow is None:
            return ""
        return unified_diff(self.shadow.changes())


def unified_diff(changes: dict[str, tuple[str | None, str | None]]) -> str:
    """One unified diff of every changed file (base -> now)."""
    out: list[str] = []
    for path, (base, now) in sorted(changes.items()):
        out += difflib.unified_diff(
            (base or "").splitlines(keepends=True),
            (now or "").splitlines(keepends=True),
            fromfile=f"a/{path}" if base is not None else "/dev/null",
            tofile=f"b/{path}",
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def workspace_files(root: Path, excluded: Callable[[str], bool], limit: int = 400) -> list[str]:
    """Relative paths of the workspace's files for the planner (vendored, generated and excluded
    files left out), at most `limit`."""
    found: list[str] = []
    for path in walk(root):
        if excluded(path.as_uri()):
            continue
        found.append(path.relative_to(root).as_posix())
        if len(found) >= limit:
            found.append("… (more files not listed)")
            break
    return found


class TaskRunner:
    """Runs one task for the session."""

    def __init__(self, context: TaskContext, buffers: dict[str, str]) -> None:
        self.context = context
        self.buffers = buffers
        self.started = time.monotonic()
        self.result = TaskResult("running", "")

    async def run(self, request: str) -> TaskResult:
        """Plan and execute `request` (what to implement, with its context)."""
        context = self.context
        self._row(
            status="running",
            created_utc=format_utc(datetime.now(UTC)),
            combination=context.route.combination,
            workspace=str(context.root),
            source_uri=context.source_uri,
            max_usd=context.settings.tasks.max_usd,
        )
        try:
            await self._run(request)
        except TaskStopped as stop:
            self.result.status, self.result.message = stop.status, str(stop)
        except asyncio.CancelledError:
            self.result.status, self.result.message = "cancelled", "flashpro: the task was cancelled; nothing was applied"
            self._finish()
            raise
        except Exception as error:  # noqa: BLE001 - a bug must end the task, not the server
            logger.warning("task %s failed: %r", context.task_id, error)
            logger.debug("task failure", exc_info=True)
            self.result.status = "failed"
            self.result.message = f"flashpro: the task failed ({error}); nothing was applied"
        self._finish()
        return self.result

    async def _run(self, request: str) -> None:
        context, tasks = self.context, self.context.settings.tasks
        context.progress("planning")
        plan = await self._plan(request)
        self.result.plan = plan
        self._row(goal=plan.goal, plan_json=plan.model_dump_json(), nodes_total=len(plan.nodes))
        problems = plan_problems(
            plan, context.root, context.excluded, max_nodes=tasks.max_nodes,
            max_files=tasks.max_files, checks=tasks.checks,
        )  # fmt: skip
        if problems:
            raise TaskStopped("flashpro: the plan was rejected, nothing ran: " + "; ".join(problems), "plan_rejected")
        for node in plan.nodes:  # clean paths from here on
            node.writes = [clean_path(p) or p for p in node.writes]
            node.reads = [clean_path(p) or p for p in node.reads]
        if not tasks.run_tests:
            skipped = list(dict.fromkeys(c for node in plan.nodes for c in node.checks if c.startswith("tests:")))
            self.result.skipped_checks = skipped
            if skipped:
                context.progress(f"{len(plan.nodes)} nodes planned · {len(skipped)} test check(s) skipped: flashpro.tasks.runTests is off")
        shadow = await asyncio.to_thread(Shadow, context.root, plan.files(), self.buffers)  # off the loop
        self.result.shadow = shadow
        checker = Checker(shadow.dir, tasks)
        runner = NodeRunner(context, shadow, checker, plan_head(plan))
        self.result.runs = {node.id: NodeRun(node) for node in plan.nodes}
        await self._schedule(runner, list(self.result.runs))
        verdict = await self._accept(checker)
        if verdict.verdict == "rework" and verdict.rework:
            context.counters.rework += 1
            rework = [node_id for node_id in verdict.rework if node_id in self.result.runs]
            findings = "The reviewer asked for rework: " + "; ".join(verdict.findings)
            await self._schedule(runner, rework, extra=findings, again=True)
            verdict = await self._accept(checker)
        self.result.verdict = verdict
        if not shadow.changes():
            raise TaskStopped("flashpro: the task ended with no change to apply", "failed")
        if verdict.verdict != "accept":
            findings = "; ".join(verdict.findings) or "no reason given"
            raise TaskStopped(f"flashpro: the reviewer did not accept the change ({findings}); nothing was applied", "rejected")
        self.result.status = "ready"
        passed = sum(run.passed for run in self.result.runs.values())
        self.result.message = f"flashpro: {passed}/{len(plan.nodes)} nodes done and accepted"
        if self.result.skipped_checks:
            self.result.message += " (tests not run: flashpro.tasks.runTests is off)"

    async def _plan(self, request: str) -> Plan:
        context, tasks = self.context, self.context.settings.tasks
        files = await asyncio.to_thread(workspace_files, context.root, context.excluded)
        message = planning_message(request, files, tasks.checks, tasks.run_tests, (tasks.max_nodes, tasks.max_files))
        messages = [{"role": "system", "content": PLAN_SYSTEM}, {"role": "user", "content": message}]
        try:
            plan: Plan = await context.ask_planner(messages, Plan, "plan")
        except Unusable as error:
            raise TaskStopped(f"flashpro: the planner's answer was unusable twice ({error}); nothing ran", "failed") from error
        except ProviderError as error:
            raise TaskStopped(error.user_message(), "failed") from error
        return plan

    async def _schedule(self, runner: NodeRunner, ids: list[str], extra: str = "", again: bool = False) -> None:
        """Run `ids` in dependency order, concurrently where the graph allows."""
        runs = self.result.runs
        plan = self.result.plan
        assert plan is not None
        order = [node_id for node_id in topological_order(plan.nodes) or [] if node_id in ids]
        done = {node_id: asyncio.Event() for node_id in order}
        gate = asyncio.Semaphore(self.context.settings.tasks.concurrency)
        total = len(plan.nodes)

        async def one(node_id: str) -> None:
            run = runs[node_id]
            try:
                for dep in run.node.deps:
                    if dep in done:
                        await done[dep].wait()
                    if not runs[dep].passed:
                        run.status = "skipped"
                        return
                async with gate:
                    index = order.index(node_id) + 1
                    self.context.progress(f"node {index}/{total}")
                    handoffs = {dep: runs[dep].handoff for dep in run.node.deps if runs[dep].handoff}
                    if again:
                        run.status = "pending"
                    await runner.run(run, handoffs, extra)
            finally:
                done[node_id].set()

        jobs = [asyncio.ensure_future(one(node_id)) for node_id in order]
        try:
            await asyncio.gather(*jobs)
        except BaseException:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            raise

    async def _accept(self, checker: Checker) -> Verdict:
        """Every node's checks once more over the final state, then the planner's verdict."""
        context, shadow = self.context, self.result.shadow
        assert shadow is not None and self.result.plan is not None
        changes = shadow.changes()
        written = {path: base for path, (base, _) in changes.items()}
        names = list(dict.fromkeys(c for run in self.result.runs.values() if run.passed for c in run.node.checks))
        context.progress("final checks")
        self.result.final_checks = await checker.run(names, written, context.root) if written else []
        if not changes:
            return Verdict(verdict="reject", findings=["no node produced a change"])
        report = "\n".join(
            [f"{run.node.id} ({run.status}, {run.attempts} attempts): " + ", ".join(c.line() for c in run.checks)
             for run in self.result.runs.values()]
            + [f"final: {c.line()}" + (f"\n{c.detail[:2000]}" if c.failed else "") for c in self.result.final_checks]
        )  # fmt: skip
        messages = [
            {"role": "system", "content": ACCEPT_SYSTEM},
            {"role": "user", "content": acceptance_message(self.result.plan, unified_diff(changes), report)},
        ]
        context.progress("acceptance review")
        try:
            verdict: Verdict = await context.ask_planner(messages, Verdict, "accept")
        except (Unusable, ProviderError) as error:
            raise TaskStopped(f"flashpro: the acceptance review failed ({error}); nothing was applied", "failed") from error
        context.counters.findings += len(verdict.findings)
        return verdict

    def _row(self, **fields: object) -> None:
        self.context.record("tasks", id=self.context.task_id, **fields)

    def _finish(self) -> None:
        result, counters = self.result, self.context.counters
        result.wall_ms = int((time.monotonic() - self.started) * 1000)
        self._row(
            status=result.status,
            finished_utc=format_utc(datetime.now(UTC)),
            nodes_passed=sum(run.passed for run in result.runs.values()),
            attempts=counters.attempts,
            escalations=counters.escalations,
            human_interventions=counters.interventions,
            rework_count=counters.rework,
            tool_failures=counters.tool_failures,
            checks_run=counters.checks_run,
            checks_passed=counters.checks_passed,
            review_findings=counters.findings,
            wall_ms=result.wall_ms,
            applied=0,
            details=json.dumps({"message": result.message, "models": sorted(self.context.models_used)}),
        )
