"""A floor plan's rooms as text, one line per room and a total."""

from geometry import rectangle_area

Room = tuple[str, float, float]


def describe(rooms: list[Room]) -> str:
    """`kitchen: 12.0 m²` per room, then `total: … m²`."""
    lines = [f"{name}: {rectangle_area(width, depth):.1f} m²" for name, width, depth in rooms]
    total = sum(area_of_rect(width, depth) for _, width, depth in rooms)
    lines.append(f"total: {total:.1f} m²")
    return "\n".join(lines)
