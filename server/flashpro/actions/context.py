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
from dataclasses import dataclass, field

from flashpro.documents import Document
from flashpro.tokens import LineCounter, count

__all__ = [
    "ActionContext",
    "FileView",
    "LineSpan",
    "build_context",
    "enclosing_scope",
    "lines_text",
]

BLOCK = 32
"""Excerpts start and end on multiples of this many lines."""

_IMPORT = re.compile(
    r"^\s*(import\s|from\s+\S+\s+import\s|#include\s|using\s|use\s|require\(|const\s+\w+\s*=\s*require\()"
)
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
    tokens: int
    lines: tuple[int, ...] = ()  # file lines (0-based) shown outside the excerpt: imports, outline


@dataclass(frozen=True, slots=True)
class FileView:
    """One version of a document as actions see it: its lines, numbered, with the indices of
    import and definition lines. Built once per document version and shared by the actions."""

    lines: list[str]
    numbered: list[str]
    imports: list[int]
    outline: list[int]
    counter: LineCounter = field(compare=False, repr=False)
    counted: dict[tuple[int, int], int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, lines: list[str], counter: LineCounter | None = None) -> FileView:
        """The view of `lines`; `counter` caches line counts across versions (the owner's)."""
        return cls(
            lines=lines,
            numbered=[f"{i + 1:>5}| {line}\n" for i, line in enumerate(lines)],
            imports=[i for i, line in enumerate(lines) if _IMPORT.match(line)][:200],
            outline=[i for i, line in enumerate(lines) if _DEFINITION.match(line)][:300],
            counter=counter if counter is not None else LineCounter(),
        )

    def text(self, start: int, end: int) -> str:
        """Lines `start`..`end` (0-based, inclusive) as `   12| text`, one per line."""
        return "".join(self.numbered[start : end + 1])

    def tokens(self, start: int, end: int) -> int:
        """Exact tokens of `text(start, end)` (each numbered line starts a cached run)."""
        key = (start, end)
        found = self.counted.get(key)
        if found is None:
            found = self.counted[key] = self.counter.count_lines(self.numbered[start : end + 1])
        return found


def lines_text(doc: Document, span: LineSpan) -> str:
    """The document's text on lines `span.start`..`span.end`, line endings included."""
    return "".join(doc.buffer.line(i) for i in range(span.start, span.end + 1))


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


def build_context(label: str, view: FileView, span: LineSpan, budget_tokens: int) -> ActionContext:
    """The file part of the prompt for an action on `span`, at most `budget_tokens` tokens."""
    lines = view.lines
    last = len(lines) - 1
    header = f"File: {label} ({len(lines)} lines)\n"
    used = count(header)
    if used + view.tokens(0, last) <= budget_tokens:
        return ActionContext(header + view.text(0, last), True, None, used + view.tokens(0, last))
    parts = [header]
    shown: list[int] = []
    for title, indices in (("Imports", view.imports), ("Outline", view.outline)):
        if not indices:
            continue
        block = [f"{title}:\n", *(view.numbered[i] for i in indices)]
        cost = view.counter.count_lines(block)
        if used + cost > budget_tokens // 3:
            continue  # a huge outline would crowd out the code itself
        parts.extend(block)
        shown.extend(indices)
        used += cost
    scope = enclosing_scope(lines, span)
    aligned = LineSpan(
        (scope.start // BLOCK) * BLOCK, min(((scope.end // BLOCK) + 1) * BLOCK, len(lines)) - 1
    )
    remaining = budget_tokens - used - count(f"Excerpt (lines {len(lines)}-{len(lines)}):\n")
    for candidate in (aligned, scope, span):
        cost = view.tokens(candidate.start, candidate.end)
        if cost <= remaining:
            low, high = _grow(view, candidate.start, candidate.end, remaining - cost)
            break
    else:
        low, high = _shrink(view, span, remaining)
    excerpt = view.text(low, high)
    size = view.tokens(low, high)
    while excerpt and size > remaining:  # one giant line: cut it, keep the budget
        excerpt = excerpt[: len(excerpt) // 2].rstrip("\n") + "\n"
        size = count(excerpt)
    title = f"Excerpt (lines {low + 1}-{high + 1}):\n"
    return ActionContext(
        "".join(parts) + title + excerpt, False, LineSpan(low, high), used + count(title) + size, tuple(shown)
    )


def _grow(view: FileView, low: int, high: int, room: int) -> tuple[int, int]:
    """Add aligned blocks after, then before, the excerpt while they fit in `room` tokens."""
    last = len(view.lines) - 1
    while room > 0 and (low > 0 or high < last):
        grew = False
        if high < last:
            nxt = min(high + BLOCK, last)
            cost = view.tokens(high + 1, nxt)
            if cost <= room:
                high, room, grew = nxt, room - cost, True
        if low > 0:
            prev = max(low - BLOCK, 0)
            cost = view.tokens(prev, low - 1)
            if cost <= room:
                low, room, grew = prev, room - cost, True
        if not grew:
            break
    return low, high


def _shrink(view: FileView, span: LineSpan, room: int) -> tuple[int, int]:
    """The selection itself, cut from the end until it fits (a huge selection)."""
    low, high = span.start, span.end
    while high > low and view.tokens(low, high) > room:
        high = low + (high - low) // 2
    return low, high
