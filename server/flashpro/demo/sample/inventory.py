"""A small stock keeper: the file `flashpro demo` types when given none (it has bugs on purpose)."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["Item", "load", "restock", "total_value"]


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


def load(path: str) -> list[Item]:
    data = json.load(open(path))
    return [Item(**row) for row in data["items"]]


def total_value(items: list[Item]) -> float:
    return sum(item.price * item.quantity for item in items)


def restock(items: list[Item], name: str, amount: int, log=[]) -> Item:
    found = None
    for item in items:
        if item.name == name:
            found = item
    if found == None:
        raise KeyError(name)
    found.quantity += amount
    log.append((name, amount))
    return found


# TODO: report the items whose quantity fell below a threshold, cheapest first
