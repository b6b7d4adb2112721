"""What a model call sent, as files and line ranges, for the ledger: never the text itself.

:class:`SentLines` collects (file, first line, last line) pieces as a prompt is assembled
(0-based lines, inclusive) and renders them for a ledger row's ``details`` as
``"sent": [{"file": "src/app.py", "lines": [12, 40]}, ...]``: one entry per contiguous
range, lines 1-based as editors show them, files in the order they first appear, each file
named relative to the workspace (absolute when outside it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flashpro.privacy.paths import uri_to_path

__all__ = ["SentLines", "file_label"]


def file_label(uri: str, root: str | None) -> str:
    """The file's path relative to the workspace `root`, else its absolute path."""
    path = uri_to_path(uri)
    if root:
        base = uri_to_path(root).rstrip("/") + "/"
        if path.startswith(base):
            return path[len(base) :]
    return path


@dataclass(slots=True)
class SentLines:
    """Line ranges of files that went into one prompt."""

    root: str | None = None
    _files: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, uri: str, first: int, last: int) -> None:
        """Lines `first`..`last` (0-based, inclusive) of `uri` were sent."""
        if last < first or first < 0:
            return
        self._files.setdefault(file_label(uri, self.root), []).append((first, last))

    def add_lines(self, uri: str, lines: list[int] | tuple[int, ...]) -> None:
        """Single lines (0-based) of `uri` were sent."""
        for line in lines:
            self.add(uri, line, line)

    def ranges(self) -> list[tuple[str, int, int]]:
        """(file, first, last) per contiguous range, 0-based; files in order of appearance."""
        out: list[tuple[str, int, int]] = []
        for label, spans in self._files.items():
            merged: list[list[int]] = []
            for first, last in sorted(spans):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], last)
                else:
                    merged.append([first, last])
            out += [(label, first, last) for first, last in merged]
        return out

    def to_json(self) -> list[dict[str, object]]:
        """The ledger form: `[{"file": ..., "lines": [first, last]}]`, lines 1-based."""
        return self.as_json(self.ranges())

    @staticmethod
    def as_json(ranges: Iterable[tuple[str, int, int]]) -> list[dict[str, object]]:
        """(file, first, last) ranges (0-based) in the ledger form."""
        return [{"file": label, "lines": [first + 1, last + 1]} for label, first, last in ranges]
