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

Work is bounded by the budget, not by the file: token counts stop once they pass what could
fit (`FileView.tokens_within`), numbered lines are made only for the lines sent, and the
scans for imports, definitions and an enclosing scope look at most `SCAN_LINES` lines. So
listing actions (which builds each action's prompt to preview its cost) takes about as long
on a 50 MB file as on a 1,000-line one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flashpro.documents import Document
from flashpro.tokens import LineCounter, count

__all__ = [
    "BLOCK",
    "IMPORT_LINES",
    "MAX_TOKEN_CHARS",
    "SCAN_LINES",
    "ActionContext",
    "FileView",
    "LineSpan",
    "build_context",
    "enclosing_scope",
    "lines_text",
]

BLOCK = 32
"""Excerpts start and end on multiples of this many lines."""
SCAN_LINES = 20_000
"""The most lines one scan looks at (for definitions, up or down for a scope)."""
IMPORT_LINES = 2_000
"""Imports are looked for in this many lines at the top of the file."""
MAX_TOKEN_CHARS = 128
"""No DeepSeek V4 token is longer than this many characters (128 bytes): text of more than
`n * MAX_TOKEN_CHARS` characters is surely more than `n` tokens, without counting it."""
_COUNT_BLOCK = 64  # lines counted per step of a bounded count

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


class FileView:
    """One version of a document as actions see it: its lines, numbered on demand, with the
    indices of import and definition lines (found near the top, once).
    Built once per document version and shared by the actions; `lines` may be a live view of
    the document's buffer, so a view is only used while its version is current."""

    __slots__ = ("_imports", "_outline", "counted", "counter", "lines")

    def __init__(self, lines: Sequence[str], counter: LineCounter | None = None) -> None:
        self.lines = lines
        self.counter = counter if counter is not None else LineCounter()
        self.counted: dict[tuple[int, int], int] = {}
        self._imports: list[int] | None = None
        self._outline: list[int] | None = None

    @classmethod
    def of(cls, lines: Sequence[str], counter: LineCounter | None = None) -> FileView:
        """The view of `lines`; `counter` caches line counts across versions (the owner's)."""
        return cls(lines, counter)

    @property
    def imports(self) -> list[int]:
        """Indices of the first 200 import lines (in the first `IMPORT_LINES`)."""
        if self._imports is None:
            self._imports = self._scan(_IMPORT, 200, IMPORT_LINES)
        return self._imports

    @property
    def outline(self) -> list[int]:
        """Indices of the first 300 definition lines (in the first `SCAN_LINES`)."""
        if self._outline is None:
            self._outline = self._scan(_DEFINITION, 300, SCAN_LINES)
        return self._outline

    def _scan(self, pattern: re.Pattern[str], most: int, lines: int) -> list[int]:
        found: list[int] = []
        for i in range(min(len(self.lines), lines)):
            if pattern.match(self.lines[i]):
                found.append(i)
                if len(found) == most:
                    break
        return found

    def numbered(self, i: int) -> str:
        """Line `i` as the model sees it: `   12| text` and a line break."""
        return f"{i + 1:>5}| {self.lines[i]}\n"

    def _numbered(self, start: int, end: int) -> Iterator[str]:
        return (self.numbered(i) for i in range(start, end + 1))

    def text(self, start: int, end: int) -> str:
        """Lines `start`..`end` (0-based, inclusive) as `   12| text`, one per line."""
        return "".join(self._numbered(start, end))

    def tokens(self, start: int, end: int) -> int:
        """Exact tokens of `text(start, end)` (each numbered line starts a cached run)."""
        key = (start, end)
        found = self.counted.get(key)
        if found is None:
            found = self.counted[key] = self.counter.count_lines(self._numbered(start, end))
        return found

    def tokens_within(self, start: int, end: int, limit: int) -> int | None:
        """`tokens(start, end)` if it is at most `limit`, else None, reading only about
        `limit` tokens' worth of lines (numbered lines are separate runs: counts add up)."""
        found = self.counted.get((start, end))
        if found is not None:
            return found if found <= limit else None
        total = 0
        for low in range(start, end + 1, _COUNT_BLOCK):
            block = [self.numbered(i) for i in range(low, min(low + _COUNT_BLOCK, end + 1))]
            if any(len(line) > (limit - total + 1) * MAX_TOKEN_CHARS for line in block):
                return None  # one line longer than any text of that many tokens
            total += self.counter.count_lines(block)
            if total > limit:
                return None
        self.counted[(start, end)] = total
        return total


def lines_text(doc: Document, span: LineSpan) -> str:
    """The document's text on lines `span.start`..`span.end`, line endings included."""
    return "".join(doc.buffer.line(i) for i in range(span.start, span.end + 1))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def enclosing_scope(lines: Sequence[str], span: LineSpan) -> LineSpan:
    """The definition around `span`: up to the nearest less-indented header line, down to the
    last line indented deeper than that header (or its closing brace); each way at most
    `SCAN_LINES` lines from the selection."""
    last = min(span.end, span.start + SCAN_LINES)
    first = next((i for i in range(span.start, last + 1) if lines[i].strip()), span.start)
    if first >= len(lines):
        return span
    level = _indent(lines[first])
    if level == 0:
        return span  # nothing can be less indented than column 0
    start = span.start
    for i in range(first - 1, max(first - SCAN_LINES, 0) - 1, -1):
        text = lines[i]
        if text.strip() and _indent(text) < level and _HEADER.match(text):
            start = i
            level = _indent(text)
            break
    else:
        return span
    end = max(span.end, start)
    for i in range(end + 1, min(end + 1 + SCAN_LINES, len(lines))):
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
    whole = view.tokens_within(0, last, budget_tokens - used)
    if whole is not None:
        return ActionContext(header + view.text(0, last), True, None, used + whole)
    parts = [header]
    shown: list[int] = []
    for title, indices in (("Imports", view.imports), ("Outline", view.outline)):
        if not indices:
            continue
        block = [f"{title}:\n", *(view.numbered(i) for i in indices)]
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
        within = view.tokens_within(candidate.start, candidate.end, remaining)
        if within is not None:
            low, high = _grow(view, candidate.start, candidate.end, remaining - within)
            break
    else:
        low, high = _shrink(view, span, remaining)
    size = view.tokens_within(low, high, remaining)
    if size is not None:
        excerpt = view.text(low, high)
    else:  # one giant line: cut it (first to what could fit, uncounted), keep the budget
        excerpt = view.numbered(low)[: max(remaining, 1) * MAX_TOKEN_CHARS].rstrip("\n") + "\n"
        size = count(excerpt)
        while excerpt and size > remaining:
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
            cost = view.tokens_within(high + 1, nxt, room)
            if cost is not None:
                high, room, grew = nxt, room - cost, True
        if low > 0:
            prev = max(low - BLOCK, 0)
            cost = view.tokens_within(prev, low - 1, room)
            if cost is not None:
                low, room, grew = prev, room - cost, True
        if not grew:
            break
    return low, high


def _shrink(view: FileView, span: LineSpan, room: int) -> tuple[int, int]:
    """The selection itself, cut from the end until it fits (a huge selection)."""
    low, high = span.start, span.end
    while high > low and view.tokens_within(low, high, room) is None:
        high = low + (high - low) // 2
    return low, high
