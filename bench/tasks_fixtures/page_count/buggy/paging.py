"""Pagination helpers for list endpoints (pages are numbered from 1)."""

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def page_count(total: int, size: int) -> int:
    """How many pages `total` items fill at `size` items per page."""
    if size <= 0:
        raise ValueError("size must be positive")
    return total // size + 1


def page(items: Sequence[T], number: int, size: int) -> list[T]:
    """The items on page `number` (1-based); an empty list past the last page."""
    if number < 1 or number > page_count(len(items), size):
        return []
    start = (number - 1) * size
    return list(items[start : start + size])
