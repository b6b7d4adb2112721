"""A line-indexed text buffer with LSP positions in any negotiated encoding.

The buffer keeps a list of lines, each with its own terminator (`\\n`, `\\r\\n` or `\\r`, the
three LSP line breaks); the last line has none. An incremental edit touches only the lines it
spans and splices the list, so a keystroke in a 5 MB file costs microseconds, not a copy of
the file (pygls' own document rebuilds the whole text per change).

Columns arrive in client units: UTF-16 code units (the LSP default), UTF-8 bytes, or UTF-32
code points. They are converted per line, with a fast path for ASCII lines. A lone UTF-16
surrogate (JSON lets an editor send `"\\ud800"`) is one code point, one UTF-16 unit, and three
UTF-8 bytes (as the replacement character, or WTF-8, would be).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Encoding", "Position", "TextBuffer", "split_lines"]

Encoding = Literal["utf-8", "utf-16", "utf-32"]

_BREAK = re.compile(r"(\r\n|\r|\n)")


@dataclass(frozen=True, slots=True)
class Position:
    """A position as (line, column in code points)."""

    line: int
    column: int


def split_lines(text: str) -> list[str]:
    """Split into lines that keep their terminators; the last element has none (maybe "")."""
    parts = _BREAK.split(text)  # [content, break, content, break, ..., content]: linear time
    lines = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
    lines.append(parts[-1])
    return lines


def _terminator_length(line: str) -> int:
    if line.endswith("\r\n"):
        return 2
    if line.endswith(("\n", "\r")):
        return 1
    return 0


def units_to_column(line: str, units: int, encoding: Encoding) -> int:
    """Convert a client column (in `encoding` units) to a code-point index into `line`."""
    if units <= 0:
        return 0
    if encoding == "utf-32" or line.isascii():
        return min(units, len(line))
    if encoding == "utf-16":
        count = 0
        for index, char in enumerate(line):
            if count >= units:
                return index
            count += 2 if ord(char) > 0xFFFF else 1
        return len(line)
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return index
        count += len(char.encode("utf-8", "surrogatepass"))
    return len(line)


def column_to_units(line: str, column: int, encoding: Encoding) -> int:
    """Convert a code-point index into `line` to client units in `encoding`."""
    head = line[:column]
    if encoding == "utf-32" or head.isascii():
        return len(head)
    if encoding == "utf-16":
        return len(head) + sum(1 for char in head if ord(char) > 0xFFFF)
    return len(head.encode("utf-8", "surrogatepass"))


class TextBuffer:
    """The text of one open document, edited incrementally."""

    def __init__(self, text: str = "", encoding: Encoding = "utf-16"):
        self.encoding: Encoding = encoding
        self._lines = split_lines(text)
        self._text: str | None = text
        self._length = len(text)

    # -- reading ---------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        """Number of lines (a trailing newline starts an empty last line)."""
        return len(self._lines)

    def __len__(self) -> int:
        return self._length

    @property
    def text(self) -> str:
        """The whole text (joined lazily, cached until the next edit)."""
        if self._text is None:
            self._text = "".join(self._lines)
        return self._text

    def line(self, index: int) -> str:
        """Line `index` with its terminator."""
        return self._lines[index]

    def line_content(self, index: int) -> str:
        """Line `index` without its terminator."""
        line = self._lines[index]
        return line[: len(line) - _terminator_length(line)]

    def lines(self, start: int, end: int) -> list[str]:
        """Lines `start` .. `end - 1`, with terminators."""
        return self._lines[max(start, 0) : max(end, 0)]

    # -- positions -------------------------------------------------------------------------
    def position(self, line: int, units: int) -> Position:
        """Clamp a client (line, units) position to the buffer and convert it to code points."""
        if line < 0:
            return Position(0, 0)
        if line >= len(self._lines):
            last = len(self._lines) - 1
            return Position(last, len(self.line_content(last)))
        content = self.line_content(line)
        return Position(line, units_to_column(content, units, self.encoding))

    def to_units(self, position: Position) -> int:
        """The client column of `position`."""
        return column_to_units(self.line_content(position.line), position.column, self.encoding)

    # -- editing ---------------------------------------------------------------------------
    def replace_all(self, text: str) -> None:
        """Replace the whole text (a full-sync change)."""
        self._lines = split_lines(text)
        self._text = text
        self._length = len(text)

    def edit(self, start: Position, end: Position, new_text: str) -> None:
        """Replace the text between two positions (already converted with `position`)."""
        if (end.line, end.column) < (start.line, start.column):
            start, end = end, start
        first = self._lines[start.line]
        last = self._lines[end.line]
        removed = sum(len(line) for line in self._lines[start.line : end.line + 1])
        combined = first[: start.column] + new_text + last[end.column :]
        new_lines = split_lines(combined)
        if end.line < len(self._lines) - 1:
            # `last` kept its terminator, so the split's final remainder is empty: drop it.
            new_lines.pop()
        self._lines[start.line : end.line + 1] = new_lines
        self._length += len(combined) - removed
        self._text = None
