"""Spending caps: stage order and thresholds, request limits, one announcement per stage."""

from __future__ import annotations

import pytest
from flashpro.calls.budget import BudgetCaps, BudgetPolicy, Limits, Stage, StageTracker

POLICY = BudgetPolicy(BudgetCaps(day_usd=1.0, file_usd=0.2, request_tokens=6000))


def test_stages_are_ordered() -> None:
    assert list(Stage) == [
        Stage.NORMAL,
        Stage.SMALL_CONTEXT,
        Stage.MANUAL_ONLY,
        Stage.NO_PRO,
        Stage.STOPPED,
    ]
    assert Stage.NORMAL < Stage.SMALL_CONTEXT < Stage.MANUAL_ONLY < Stage.NO_PRO < Stage.STOPPED


@pytest.mark.parametrize(
    ("day", "file", "stage"),
    [
        (0.0, 0.0, Stage.NORMAL),
        (0.69, 0.0, Stage.NORMAL),
        (0.70, 0.0, Stage.SMALL_CONTEXT),
        (0.89, 0.0, Stage.SMALL_CONTEXT),
        (0.90, 0.0, Stage.MANUAL_ONLY),
        (0.95, 0.0, Stage.NO_PRO),
        (0.999, 0.0, Stage.NO_PRO),
        (1.0, 0.0, Stage.STOPPED),
        (5.0, 0.0, Stage.STOPPED),
        (0.1, 0.14, Stage.SMALL_CONTEXT),  # the file cap is the nearer one
        (0.1, 0.2, Stage.STOPPED),
    ],
)
def test_stage_thresholds(day: float, file: float, stage: Stage) -> None:
    assert POLICY.stage(day, file) is stage


def test_stage_rises_monotonically_with_spend() -> None:
    stages = [POLICY.stage(cents / 100, 0.0) for cents in range(0, 130)]
    assert stages == sorted(stages)
    assert set(stages) == set(Stage)


def test_caps_that_are_off_never_degrade() -> None:
    policy = BudgetPolicy(BudgetCaps())
    assert policy.stage(1e9, 1e9) is Stage.NORMAL
    assert policy.fraction(1e9, 1e9) == (0.0, None)
    assert BudgetPolicy(BudgetCaps(day_usd=0)).stage(5, 5) is Stage.NORMAL
    assert POLICY.fraction(0.5, 0.15) == (pytest.approx(0.75), "file")
    assert POLICY.stage(0.0, 0.2 * 0.9) is Stage.MANUAL_ONLY


def test_limits_per_stage() -> None:
    policy = BudgetPolicy(BudgetCaps())
    assert policy.limits(Stage.NORMAL, 4096, 128) == Limits(4096, 128, True, True, True)
    assert policy.limits(Stage.SMALL_CONTEXT, 4096, 128) == Limits(2048, 128, True, True, True)
    assert policy.limits(Stage.MANUAL_ONLY, 4096, 128) == Limits(2048, 128, False, True, True)
    assert policy.limits(Stage.NO_PRO, 4096, 128) == Limits(2048, 128, False, True, False)
    assert policy.limits(Stage.STOPPED, 4096, 128) == Limits(0, 0, False, False, False)


def test_request_token_cap_shrinks_the_context_first() -> None:
    policy = BudgetPolicy(BudgetCaps(request_tokens=3000))
    assert policy.limits(Stage.NORMAL, 4096, 256) == Limits(2744, 256, True, True, True)
    assert policy.limits(Stage.NORMAL, 1000, 4000).max_output_tokens == 1500


def test_transition_messages() -> None:
    assert POLICY.transition(Stage.NORMAL, Stage.NORMAL) is None
    up = POLICY.transition(Stage.NORMAL, Stage.SMALL_CONTEXT, "day")
    assert up is not None and "daily" in up and "70%" in up and "halved" in up
    manual = POLICY.transition(Stage.SMALL_CONTEXT, Stage.MANUAL_ONLY, "file")
    assert manual is not None and "this file" in manual and "automatic completion is off" in manual
    stop = POLICY.transition(Stage.NO_PRO, Stage.STOPPED)
    assert stop is not None and "reached" in stop and "no more API calls" in stop
    down = POLICY.transition(Stage.STOPPED, Stage.NORMAL)
    assert down is not None and "back under" in down
    messages = {POLICY.transition(Stage.NORMAL, stage) for stage in list(Stage)[1:]}
    assert len(messages) == 4  # one distinct message per stage


def test_each_stage_is_announced_once_per_period() -> None:
    tracker = StageTracker(POLICY)
    day = "2026-11-23"
    said = [
        tracker.update(day, stage)
        for stage in [
            Stage.NORMAL,
            Stage.SMALL_CONTEXT,
            Stage.SMALL_CONTEXT,
            Stage.NORMAL,  # switching to a file under its cap
            Stage.SMALL_CONTEXT,  # and back: already announced
            Stage.NORMAL,
            Stage.MANUAL_ONLY,
            Stage.STOPPED,
            Stage.STOPPED,
        ]
    ]
    announced = [message for message in said if message]
    assert len(announced) == 4  # small context, back under, manual only, stopped
    assert tracker.stage is Stage.STOPPED
    assert tracker.update("2026-11-24", Stage.NORMAL) is not None  # a new day
    assert tracker.update("2026-11-24", Stage.SMALL_CONTEXT) is not None


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError):
        BudgetPolicy(BudgetCaps(), {Stage.MANUAL_ONLY: 0.5})  # below SMALL_CONTEXT
