"""A meter for unit tests of the features: fixed spending limits, and no model call allowed."""

from __future__ import annotations

from typing import Any

from flashpro.calls import Limits, Meter
from flashpro.config import ActionRoute, Settings
from flashpro.ledger import PriceTable

__all__ = ["FixedMeter", "QuietSession", "RecordingLedger"]


class _NoCalls:
    prices = PriceTable.load()

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"no call expected, got {name}")


class FixedMeter(Meter):
    """A meter whose spending stage is given and which may make no call."""

    def __init__(self, limits: Limits, settings: Settings | None = None) -> None:
        super().__init__(_NoCalls(), _NoCalls())  # type: ignore[arg-type]
        self.configure(settings or Settings())
        self._limits = limits

    def action_limits(self, uri: str, route: ActionRoute) -> Limits:
        return self._limits


class RecordingLedger:
    """A `CallLedger` that keeps the calls in memory (no SQLite)."""

    def __init__(self) -> None:
        self.prices = PriceTable.load()
        self.started: list[Any] = []
        self.finished: list[Any] = []

    def call_started(self, info: Any) -> None:
        self.started.append(info)

    def call_finished(self, info: Any) -> None:
        self.finished.append(info)

    def spend_today(self, uri: str) -> tuple[float, float]:
        return 0.0, 0.0


class QuietSession:
    """The session's side of the meter and of completions, doing nothing (unit tests)."""

    def call_finished(self, info: Any) -> None: ...

    def provider_failed(self, error: Any, announce: bool) -> None: ...

    def budget_changed(self, message: str, uri: str) -> None: ...

    def completion_requested(self, uri: str) -> None: ...

    def completion_answered(self, uri: str, request_id: str, shown_chars: int) -> None: ...

    def completion_reused(self, uri: str, request_id: str, shown_chars: int) -> None: ...
