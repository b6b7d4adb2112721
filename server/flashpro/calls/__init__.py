"""Every model call, metered: what a call is (`CallInfo`), what it may spend (`Limits`, the budget
stages) and the one place calls are made and recorded (`Meter`)."""

from __future__ import annotations

from flashpro.calls.budget import BudgetCaps, BudgetPolicy, Limits, Stage, StageTracker
from flashpro.calls.info import CallEvents, CallInfo, CallLedger
from flashpro.calls.meter import Meter

__all__ = [
    "BudgetCaps",
    "BudgetPolicy",
    "CallEvents",
    "CallInfo",
    "CallLedger",
    "Limits",
    "Meter",
    "Stage",
    "StageTracker",
]
