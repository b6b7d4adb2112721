"""Context for a code action, assembled within its token budget and laid out stable-first.

An action prompt is two chat messages:

1. a system message shared by every action (byte-identical, so always a cache hit);
2. a user message that starts with the file (label, then numbered lines) and ends with the
   task (which action, which lines, the instruction, the answer's JSON example).

Everything that depends on the action or the selection comes after the file, so repeating
actions on the same unchanged file re-reads its whole head from DeepSeek's prefix cache.

When the numbered file does not fit the budget, the file part becomes: its import lines, its
outline (definition lines), then an excerpt around the selection's enclosing scope, grown in
32-line aligned blocks (so a nearby selection yields the same excerpt) while it fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flashpro.tokens import count

__all__ = [
    "ActionContext",
    "LineSpan",
    "build_context",
    "enclosing_scope",
    "import_lines",
    "numbered",
    "outline_lines",
]

BLOCK = 32
"""Excerpts start and end on multiples of this many lines."""

_IMPORT = re.compile(r"^\s*(import\s|from\s+\S+\s+import\s|#include\s|using\s|use\s|require\(|const\s+\w+\s*=\s*require\()")
_DEFINITION = re.compile(
    r"^\s{0,8}(?:export\s+|pub(?:\(\w+\))?\s+|public\s+|private\s+|protected\s+|static\s+|async\s+|default\s+)*"
    r"(?:def|class|function|func|fn|interface|struct|enum|trait|impl|type|module|object|record)\b"
)
_HEADER = re.compile(r"^\s*(?:async\s+)?(?:def|class)\b|^\s*[^\s#].*[{:]\s*$")


@dataclass(frozen=True, slots=True)
class LineSpan:
    """Lines `start`..`end` of a document, 0-based and inclusive."""

    start: int
    end: int

    def label(self) -> str:
        """1-based, as the model sees them: `12` or `12-30`."""
        if self.start == self.end:
            return str(self.start + 1)
        return f"{self.start + 1}-{self.end + 1}"


@dataclass(frozen=True, slots=True)
class ActionContext:
    """The file part of an action prompt and what it covers."""

    text: str
    whole_file: bool
    excerpt: LineSpan | None


def numbered(lines: list[str], start: int, end: int) -> str:
    """Lines `start`..`end` (0-based, inclusive) as `  12| text`, one per line."""
    return "".join(f"{i + 1:>5}| {lines[i]}\n" for i in range(start, min(end, len(lines) - 1) + 1))


def import_lines(lines: list[str], limit: int = 200) -> list[int]:
    """Indices of the lines that import something (the first `limit`)."""
    return [i for i, line in enumerate(lines) if _IMPORT.match(line)][:limit]


def outline_lines(lines: list[str], limit: int = 300) -> list[int]:
    """Indices of definition lines (functions, classes, types): the file's outline."""
    return [i for i, line in enumerate(lines) if _DEFINITION.match(line)][:limit]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def enclosing_scope(lines: list[str], span: LineSpan) -> LineSpan:
    """The definition around `span`: up to the nearest less-indented header line, down to the
    last line indented deeper than that header (or its closing brace)."""
    first = next((i for i in range(span.start, span.end + 1) if lines[i].strip()), span.start)
    if first >= len(lines):
        return span
    level = _indent(lines[first])
    start = span.start
    for i in range(first - 1, -1, -1):
        text = lines[i]
        if text.strip() and _indent(text) < level and _HEADER.match(text):
            start = i
            level = _indent(text)
            break
    else:
        return span
    end = max(span.end, start)
    for i in range(end + 1, len(lines)):
        text = lines[i]
        if text.strip() and _indent(text) <= level:
            if text.strip()[:1] in "}])":
                end = i
            break
        end = i
    while end > span.end and not lines[end].strip():
        end -= 1  # trailing blank lines belong to nobody
    return LineSpan(start, max(end, span.end))


def build_context(label: str, lines: list[str], span: LineSpan, budget_tokens: int) -> ActionContext:
    """The file part of the prompt for an action on `span`, at most `budget_tokens` tokens."""
    header = f"File: {label} ({len(lines)} lines)\n"
    whole = header + numbered(lines, 0, len(lines) - 1)
    if count(whole) <= budget_tokens:
        return ActionContext(whole, True, None)
    parts = [header]
    used = count(header)
    for title, indices in (("Imports", import_lines(lines)), ("Outline", outline_lines(lines))):
        if not indices:
            continue
        block = f"{title}:\n" + "".join(numbered(lines, i, i) for i in indices)
        cost = count(block)
        if used + cost > budget_tokens // 3:
            continue  # a huge outline would crowd out the code itself
        parts.append(block)
        used += cost
    scope = enclosing_scope(lines, span)
    aligned = LineSpan(
        (scope.start // BLOCK) * BLOCK, min(((scope.end // BLOCK) + 1) * BLOCK, len(lines)) - 1
    )
    remaining = budget_tokens - used - count(f"Excerpt (lines {len(lines)}-{len(lines)}):\n")
    for candidate in (aligned, scope, span):
        cost = count(numbered(lines, candidate.start, candidate.end))
        if cost <= remaining:
            low, high = _grow(lines, candidate.start, candidate.end, remaining - cost)
            break
    else:
        low, high = _shrink(lines, span, remaining)
    parts.append(f"Excerpt (lines {low + 1}-{high + 1}):\n" + numbered(lines, low, high))
    return ActionContext("".join(parts), False, LineSpan(low, high))


def _grow(lines: list[str], low: int, high: int, room: int) -> tuple[int, int]:
    """Add aligned blocks after, then before, the excerpt while they fit in `room` tokens."""
    while room > 0 and (low > 0 or high < len(lines) - 1):
        grew = False
        if high < len(lines) - 1:
            nxt = min(high + BLOCK, len(lines) - 1)
            cost = count(numbered(lines, high + 1, nxt))
            if cost <= room:
                high, room, grew = nxt, room - cost, True
        if low > 0:
            prev = max(low - BLOCK, 0)
            cost = count(numbered(lines, prev, low - 1))
            if cost <= room:
                low, room, grew = prev, room - cost, True
        if not grew:
            break
    return low, high


def _shrink(lines: list[str], span: LineSpan, room: int) -> tuple[int, int]:
    """The selection itself, cut from the end until it fits (a huge selection)."""
    low, high = span.start, span.end
    while high > low and count(numbered(lines, low, high)) > room:
        high = low + (high - low) // 2
    return low, high
