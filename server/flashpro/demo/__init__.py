"""`flashpro demo`: see flashpro work in the terminal (placeholder while it is built)."""

from __future__ import annotations

__all__: list[str] = []
