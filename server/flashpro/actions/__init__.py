"""Code actions: review and design on the planner (V4 Pro), quick edits, explanations and
tests on the executor (V4 Flash), with routing from settings."""

from __future__ import annotations

from flashpro.actions.catalog import ACTIONS, ActionSpec, target_span
from flashpro.actions.context import LineSpan
from flashpro.actions.review import ReviewFinding, ReviewStore, anchor
from flashpro.actions.runner import ActionRunner, EditPlan, Outcome, instruction_above
from flashpro.actions.service import ActionFailed, ActionResult, ActionService, Preview, next_off_peak

__all__ = [
    "ACTIONS",
    "ActionFailed",
    "ActionResult",
    "ActionRunner",
    "ActionService",
    "ActionSpec",
    "EditPlan",
    "LineSpan",
    "Outcome",
    "Preview",
    "ReviewFinding",
    "ReviewStore",
    "anchor",
    "instruction_above",
    "next_off_peak",
    "target_span",
]
