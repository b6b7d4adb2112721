"""A meter for unit tests of the features: fixed spending limits, and no model call allowed."""

from __future__ import annotations

from typing import Any

from flashpro.calls import Limits, Meter
from flashpro.config import ActionRoute, Settings
from flashpro.ledger import PriceTable

__all__ = ["FixedMeter"]


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
