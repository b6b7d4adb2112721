"""What one model call is, for everyone who records or reacts to it: `CallInfo` and the protocols.

A `CallInfo` is filled by the feature that makes the call (its kind, role, file, request details)
and by `calls.meter.Meter` while the call runs (its trace, status and error kind); the ledger
turns it into one row. `CallLedger` is what the meter writes to (the accounting implements it);
`CallEvents` is what the session core does when a call ends or fails (refresh what the user sees,
say what went wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from flashpro.providers import CallTrace, ProviderError

if TYPE_CHECKING:
    from flashpro.ledger import PriceTable

__all__ = ["CallEvents", "CallInfo", "CallLedger"]


@dataclass(slots=True)
class CallInfo:
    """What the ledger needs to know about one model call, filled as the call goes."""

    request_id: str
    uri: str
    kind: str  # fim / chat
    role: str  # executor / planner
    model: str
    trace: CallTrace = field(default_factory=CallTrace)
    status: str = "ok"  # ok / cancelled / error (the ledger writes `interrupted` until it ends)
    error_kind: str | None = None
    outcome: str | None = None
    shown_chars: int | None = None
    prompt_text: str | None = None  # stored only when the user opted in (logPrompts)
    details: dict[str, object] = field(default_factory=dict)
    prompt_head: str = ""  # kept in memory to explain cache misses; never stored
    line_at: Callable[[int], int | None] | None = None  # prompt offset -> document line
    task_id: str | None = None  # set for the calls of a task ("Implement this")
    node_id: str | None = None
    attempt: int | None = None


class CallLedger(Protocol):
    """Where the meter records calls: a row when one starts, completed when it ends."""

    @property
    def prices(self) -> PriceTable: ...

    def call_started(self, info: CallInfo) -> None: ...

    def call_finished(self, info: CallInfo) -> None: ...

    def spend_today(self, uri: str) -> tuple[float, float]: ...


class CallEvents(Protocol):
    """What the session does when a call ends, fails, or a spending stage changes."""

    def call_finished(self, info: CallInfo) -> None: ...

    def provider_failed(self, error: ProviderError, announce: bool) -> None: ...

    def budget_changed(self, message: str, uri: str) -> None: ...
