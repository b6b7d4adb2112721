"""What every part of one running task shares: its settings, models, spend, counters and rows.

`TaskContext` routes each call to a model (by the task's combination), makes it through the
session's meter with the task's ids on the ledger row, adds its cost to the task's spend and
stops the task cleanly when a cap is reached (the task's own `flashpro.tasks.maxUsd`, or the
day/file caps through the meter's spending stage). It also keeps the counts the ledger's task row
reports and writes the node and attempt rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from flashpro.calls import CallInfo, Meter
from flashpro.calls.structured import ask_structured, parse_json
from flashpro.config import ImplementRoute, Settings
from flashpro.providers import ChatRequest

__all__ = ["TaskContext", "TaskHost", "TaskStopped"]

Answer = TypeVar("Answer")


class TaskStopped(Exception):
    """The task stopped before it could finish (a cap, an abort); the message says why."""

    def __init__(self, message: str, status: str = "stopped") -> None:
        super().__init__(message)
        self.status = status


class TaskHost(Protocol):
    """What a task needs from the editor: progress lines and, when stuck, a question."""

    def progress(self, message: str) -> None: ...

    async def ask(self, message: str, options: list[str]) -> str | None: ...


@dataclass(slots=True)
class Counters:
    attempts: int = 0
    escalations: int = 0
    interventions: int = 0
    rework: int = 0
    tool_failures: int = 0
    checks_run: int = 0
    checks_passed: int = 0
    findings: int = 0


@dataclass(slots=True)
class TaskContext:
    """One task's shared state."""

    task_id: str
    meter: Meter
    settings: Settings
    root: Path
    source_uri: str
    host: TaskHost
    record: Callable[..., None]  # Ledger.write(table, **fields)
    excluded: Callable[[str], bool]  # never sent: flashpro.exclude, .gitignore, vendored folders
    spent_usd: float = 0.0
    counters: Counters = field(default_factory=Counters)
    models_used: set[str] = field(default_factory=set)

    @property
    def route(self) -> ImplementRoute:
        return self.settings.actions.implement

    def role(self, wanted: str, escalate: bool = False) -> str:
        """The model role a call runs on: the combination decides; escalation goes to Pro."""
        combination = self.route.combination
        if combination == "flash":
            return "executor"
        if combination == "pro" or escalate:
            return "planner"
        return wanted

    def _check_budget(self, role: str) -> None:
        cap = self.settings.tasks.max_usd
        if cap is not None and self.spent_usd >= cap:
            raise TaskStopped(
                f"flashpro: the task reached its cap of ${cap:g} (flashpro.tasks.maxUsd, spent "
                f"${self.spent_usd:.4f}); nothing was applied"
            )
        limits = self.meter.action_limits(self.source_uri, self.route)
        if not limits.invoked:
            raise TaskStopped("flashpro: the spending cap is reached; the task stopped and nothing was applied")
        if role == "planner" and not limits.pro:
            raise TaskStopped(
                "flashpro: V4 Pro is off while a spending cap is near; the task stopped and nothing was applied"
            )
        blocked = self.meter.blocked()
        if blocked is not None:
            raise TaskStopped(blocked.user_message(), status="failed")

    async def ask_json(
        self,
        messages: list[dict[str, str]],
        schema: type[Any],
        *,
        role: str,
        thinking: bool,
        max_tokens: int,
        node_id: str | None = None,
        attempt: int | None = None,
        kind: str = "node",
        raw: list[str] | None = None,
    ) -> Any:
        """One structured call (a second try on invalid JSON), recorded with the task's ids."""
        self._check_budget(role)
        model = self.meter.model(role)
        timeout = self.settings.request_timeout
        pending: list[CallInfo] = []

        def call(tries: int, sent: list[dict[str, str]]) -> tuple[CallInfo, ChatRequest]:
            request = ChatRequest(
                model=model,
                messages=sent,
                max_tokens=max_tokens,
                thinking=thinking,
                reasoning_effort=self.route.reasoning_effort if thinking else None,
                json_output=True,
                timeout=timeout,
            )
            info = CallInfo(
                request_id=uuid.uuid4().hex,
                uri=self.source_uri,
                kind="chat",
                role=role,
                model=model,
                details={"task": kind, "try": tries, "thinking": thinking},
                task_id=self.task_id,
                node_id=node_id,
                attempt=attempt,
            )
            pending.append(info)
            return info, request

        try:
            answer, _ = await ask_structured(
                self.meter, messages, call=call, parse=lambda text: parse_json(text, schema)
            )
        finally:
            for info in pending:
                self._spend(info)
        if raw is not None and pending:
            raw.append(pending[-1].trace.text)
        return answer

    async def ask_planner(self, messages: list[dict[str, str]], schema: type[Any], kind: str) -> Any:
        """A planning or acceptance call, routed and budgeted as `flashpro.actions.implement` says."""
        route = self.route
        return await self.ask_json(
            messages, schema, role=route.model, thinking=route.thinking, max_tokens=route.max_output_tokens, kind=kind
        )

    def _spend(self, info: CallInfo) -> None:
        usage = info.trace.usage
        model = info.trace.model_reported or info.model
        self.models_used.add(f"{info.role}:{model}")
        if usage is None:
            return
        cost = self.meter.prices.cost_usd(usage, model, info.trace.started_utc)
        if cost is not None:
            self.spent_usd += float(cost)

    def progress(self, message: str) -> None:
        self.host.progress(f"{message} · ${self.spent_usd:.4f}")
