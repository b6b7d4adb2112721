"""Areas of plane shapes, in square metres."""

import math


def rectangle_area(width: float, height: float) -> float:
    """The area of a `width` x `height` rectangle."""
    return width * height


def circle_area(radius: float) -> float:
    """The area of a circle of `radius`."""
    return math.pi * radius**2
