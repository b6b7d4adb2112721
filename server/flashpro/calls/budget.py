"""Spending caps with graceful degradation: which stage applies, and what to say when it changes.

This module owns the budget policy; it does no I/O and reads no clock (spends and the period
key are passed in). Caps: USD per day, USD per file (the caller chooses the file window, e.g.
the same day), and tokens per request. A cap of ``None`` (or <= 0) is off.

Stages, cumulative, by the highest fraction of any USD cap spent (thresholds inclusive)::

    NORMAL         <  70%
    SMALL_CONTEXT  >= 70%   context budget halved
    MANUAL_ONLY    >= 90%   + automatic (as-you-type) completion off; invoked still answered
    NO_PRO         >= 95%   + planner (Pro) escalation off
    STOPPED        >= 100%  no model calls at all

MANUAL_ONLY comes before NO_PRO because automatic completion is where spend runs away
unnoticed (a request per pause), while a Pro call is always something the user asked for.
The per-request token cap applies at every stage: the context shrinks first, the output is
held to at most half the cap.

Announcements: :meth:`BudgetPolicy.transition` gives the message for a stage change (None when
there is none); :class:`StageTracker` makes each message appear once per period (a day, say),
so switching between a file over its cap and one under it does not repeat itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["BudgetCaps", "BudgetPolicy", "Limits", "Stage", "StageTracker"]


class Stage(IntEnum):
    """Degradation stages, in order; each implies the restrictions of those before it."""

    NORMAL = 0
    SMALL_CONTEXT = 1
    MANUAL_ONLY = 2
    NO_PRO = 3
    STOPPED = 4


_DEFAULT_THRESHOLDS: dict[Stage, float] = {
    Stage.SMALL_CONTEXT: 0.70,
    Stage.MANUAL_ONLY: 0.90,
    Stage.NO_PRO: 0.95,
    Stage.STOPPED: 1.00,
}

_EPSILON = 1e-9  # 0.9 * cap / cap must reach the 90% stage despite float rounding

_EFFECT: dict[Stage, str] = {
    Stage.NORMAL: "completions run normally",
    Stage.SMALL_CONTEXT: "completion context is halved",
    Stage.MANUAL_ONLY: "automatic completion is off; invoke completion to get one",
    Stage.NO_PRO: "automatic completion and Pro escalation are off",
    Stage.STOPPED: "no more API calls are made",
}


@dataclass(frozen=True, slots=True)
class BudgetCaps:
    """The caps (from settings); None or <= 0 turns a cap off."""

    day_usd: float | None = None
    file_usd: float | None = None
    request_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may do at a stage."""

    context_tokens: int
    max_output_tokens: int
    automatic: bool
    invoked: bool
    pro: bool


def _share(spend: float, cap: float | None) -> float:
    if cap is None or cap <= 0 or not math.isfinite(cap):
        return 0.0
    return max(spend, 0.0) / cap


class BudgetPolicy:
    """Maps spend to a stage and a stage to request limits."""

    def __init__(self, caps: BudgetCaps, thresholds: dict[Stage, float] | None = None):
        merged = {**_DEFAULT_THRESHOLDS, **(thresholds or {})}
        ordered = [merged[stage] for stage in Stage if stage is not Stage.NORMAL]
        if ordered != sorted(ordered) or ordered[0] <= 0:
            raise ValueError("stage thresholds must be positive and non-decreasing")
        self.caps = caps
        self.thresholds = merged

    def fraction(self, day_spend: float, file_spend: float) -> tuple[float, str | None]:
        """The highest fraction of a USD cap spent, and which cap ("day", "file", or None)."""
        day = _share(day_spend, self.caps.day_usd)
        file = _share(file_spend, self.caps.file_usd)
        if day == file == 0.0:
            return 0.0, None
        return (day, "day") if day >= file else (file, "file")

    def stage(self, day_spend: float, file_spend: float) -> Stage:
        """The stage for today's spend and this file's spend (USD)."""
        share, _ = self.fraction(day_spend, file_spend)
        current = Stage.NORMAL
        for stage in Stage:
            if stage is not Stage.NORMAL and share >= self.thresholds[stage] - _EPSILON:
                current = stage
        return current

    def limits(self, stage: Stage, context_tokens: int, max_output_tokens: int) -> Limits:
        """Context and output caps and what may run at `stage` (per-request cap applied)."""
        context = context_tokens // 2 if stage >= Stage.SMALL_CONTEXT else context_tokens
        output = max_output_tokens
        cap = self.caps.request_tokens
        if cap is not None and cap > 0:
            output = min(output, max(cap // 2, 1))
            context = min(context, max(cap - output, 0))
        stopped = stage >= Stage.STOPPED
        return Limits(
            context_tokens=0 if stopped else context,
            max_output_tokens=0 if stopped else output,
            automatic=stage < Stage.MANUAL_ONLY,
            invoked=not stopped,
            pro=stage < Stage.NO_PRO,
        )

    def transition(self, old: Stage, new: Stage, cause: str | None = None) -> str | None:
        """The one message announcing a change from `old` to `new`; None when nothing changed."""
        if old == new:
            return None
        cap = {"day": "the daily spending cap", "file": "this file's spending cap"}.get(
            cause or "", "a spending cap"
        )
        if new > old:
            percent = round(self.thresholds[new] * 100)
            reached = "reached" if new is Stage.STOPPED else f"at {percent}%"
            return f"flashpro: {cap} {reached}: {_EFFECT[new]}."
        return f"flashpro: spending is back under the cap thresholds: {_EFFECT[new]}."


class StageTracker:
    """Remembers the current stage and announces each change at most once per period."""

    def __init__(self, policy: BudgetPolicy):
        self.policy = policy
        self._stage = Stage.NORMAL
        self._period: str | None = None
        self._announced: set[tuple[Stage, bool]] = set()

    @property
    def stage(self) -> Stage:
        """The stage last reported to `update`."""
        return self._stage

    def update(self, period: str, stage: Stage, cause: str | None = None) -> str | None:
        """Move to `stage`; the message to show, unless this change was already announced in
        `period` (e.g. the date). A new period forgets the old announcements."""
        if period != self._period:
            self._period, self._announced = period, set()
        old, self._stage = self._stage, stage
        message = self.policy.transition(old, stage, cause)
        if message is None:
            return None
        key = (stage, stage > old)
        if key in self._announced:
            return None
        self._announced.add(key)
        return message
