"""Summary statistics for the dashboard tiles."""

from collections.abc import Sequence


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean of `values`."""
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def spread(values: Sequence[float]) -> float:
    """The largest value minus the smallest."""
    if not values:
        raise ValueError("spread of no values")
    return max(values) - min(values)
