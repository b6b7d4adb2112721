"""Areas of plane shapes, in square metres."""

import math

# TODO: rename area_of_rect to rectangle_area (this module names functions noun first, like
# circle_area) and update its callers; keep no alias under the old name.


def area_of_rect(width: float, height: float) -> float:
    """The area of a `width` x `height` rectangle."""
    return width * height


def circle_area(radius: float) -> float:
    """The area of a circle of `radius`."""
    return math.pi * radius**2
