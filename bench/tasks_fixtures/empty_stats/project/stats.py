"""Summary statistics for the dashboard tiles."""

from collections.abc import Sequence

# TODO: mean([]) and spread([]) raise ValueError("mean of no values") / ValueError("spread of
# no values") instead of a ZeroDivisionError or max()'s own error.


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean of `values`."""
    return sum(values) / len(values)


def spread(values: Sequence[float]) -> float:
    """The largest value minus the smallest."""
    return max(values) - min(values)
