"""Review findings on exact document ranges, kept until the text they point at changes.

A finding from the model names 1-based lines and, ideally, a verbatim snippet within them.
`anchor` turns it into a code-point range of the open document: the snippet's own range when
it is found in those lines, else the whole lines. A replacement is kept only where it is
certain what it replaces (the snippet found, or whole lines asked for), so a quick fix never
edits text the model did not point at.

`ReviewStore.edited` keeps findings in step with edits: changes above a finding shift it, and
a finding whose text is no longer what it pointed at is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flashpro.actions.schemas import Finding
from flashpro.documents import Document, Position, TextChange
from flashpro.privacy import REDACTED

__all__ = ["ReviewFinding", "ReviewStore", "anchor"]


@dataclass(frozen=True, slots=True)
class ReviewFinding:
    """A finding placed on the document."""

    id: int
    start: Position
    end: Position
    text: str
    severity: str
    category: str
    message: str
    replacement: str | None


def _text(doc: Document, start: Position, end: Position) -> str:
    buffer = doc.buffer
    if start.line == end.line:
        return buffer.line_content(start.line)[start.column : end.column]
    parts = [buffer.line(start.line)[start.column :]]
    parts.extend(buffer.line(i) for i in range(start.line + 1, end.line))
    parts.append(buffer.line_content(end.line)[: end.column])
    return "".join(parts)


def anchor(doc: Document, finding: Finding, finding_id: int = 0) -> ReviewFinding | None:
    """Place `finding` on `doc` (as `finding_id`); None when its lines are not in the document."""
    buffer = doc.buffer
    first, last = finding.line_start - 1, max(finding.line_end, finding.line_start) - 1
    if first >= buffer.line_count:
        return None
    last = min(last, buffer.line_count - 1)
    start, end = Position(first, 0), Position(last, len(buffer.line_content(last)))
    replacement = finding.replacement
    if replacement is not None and replacement.endswith("\n"):
        replacement = replacement[:-1]
    if replacement is not None and REDACTED in replacement:
        replacement = None  # it would write the placeholder over a secret the model never saw
    snippet = (finding.snippet or "").strip("\n")
    if snippet:
        located = _find(doc, first, last, snippet)
        if located is not None:
            start, end = located
        else:
            replacement = None  # not sure what it would replace: offer no fix
    elif buffer.line_content(first).strip() and replacement is None:
        content = buffer.line_content(first)
        start = Position(first, len(content) - len(content.lstrip()))  # underline the code only
    return ReviewFinding(
        id=finding_id,
        start=start,
        end=end,
        text=_text(doc, start, end),
        severity=finding.severity,
        category=finding.category,
        message=finding.message,
        replacement=replacement,
    )


def _find(doc: Document, first: int, last: int, snippet: str) -> tuple[Position, Position] | None:
    """The range of `snippet` within lines `first`..`last` (a few lines of slack either side)."""
    buffer = doc.buffer
    low, high = max(first - 2, 0), min(last + 2, buffer.line_count - 1)
    for lo, hi in ((first, last), (low, high)):
        block = "".join(buffer.line(i) for i in range(lo, hi + 1))
        offset = block.find(snippet)
        if offset < 0:
            continue
        return _position(doc, lo, offset), _position(doc, lo, offset + len(snippet))
    return None


def _position(doc: Document, line: int, offset: int) -> Position:
    """The position `offset` code points after the start of `line`."""
    buffer = doc.buffer
    while line < buffer.line_count - 1 and offset > len(buffer.line_content(line)):
        offset -= len(buffer.line(line))
        line += 1
    return Position(line, min(offset, len(buffer.line_content(line))))


class ReviewStore:
    """Findings per document URI."""

    def __init__(self) -> None:
        self._findings: dict[str, list[ReviewFinding]] = {}
        self._last_id = 0

    def place(self, doc: Document, finding: Finding) -> ReviewFinding | None:
        """`anchor` with a fresh id (ids identify findings in diagnostics' data)."""
        self._last_id += 1
        return anchor(doc, finding, self._last_id)

    def get(self, uri: str) -> list[ReviewFinding]:
        """The findings on `uri` (maybe none)."""
        return list(self._findings.get(uri, ()))

    def find(self, uri: str, finding_id: int) -> ReviewFinding | None:
        """One finding by id."""
        return next((f for f in self._findings.get(uri, ()) if f.id == finding_id), None)

    def set(self, uri: str, findings: list[ReviewFinding]) -> None:
        """Replace the findings of `uri` (a new review of the whole file)."""
        self._findings[uri] = list(findings)

    def merge(self, uri: str, findings: list[ReviewFinding], first: int, last: int) -> None:
        """A review of lines `first`..`last`: replaces the findings there, keeps the others."""
        kept = [f for f in self._findings.get(uri, ()) if f.end.line < first or f.start.line > last]
        self._findings[uri] = sorted([*kept, *findings], key=lambda f: (f.start.line, f.start.column))

    def clear(self, uri: str | None = None) -> list[str]:
        """Drop the findings of `uri` (or of every document); returns the URIs cleared."""
        uris = [uri] if uri is not None else list(self._findings)
        return [u for u in uris if self._findings.pop(u, None)]

    def edited(
        self, doc: Document, changes: list[TextChange], line_deltas: list[tuple[int, int, int]]
    ) -> bool:
        """After `changes` were applied to `doc`: shift and re-check; True when anything moved.

        `line_deltas` holds, per ranged change in order, (first line, last line, lines added).
        """
        findings = self._findings.get(doc.uri)
        if not findings:
            return False
        if any(change.start is None for change in changes):
            line_deltas = []
        kept: list[ReviewFinding] = []
        for finding in findings:
            moved = finding
            for _first, last, delta in line_deltas:
                if moved.start.line > last and delta:
                    moved = replace(
                        moved,
                        start=Position(moved.start.line + delta, moved.start.column),
                        end=Position(moved.end.line + delta, moved.end.column),
                    )
            if moved.end.line < doc.buffer.line_count and _text(doc, moved.start, moved.end) == moved.text:
                kept.append(moved)
        changed = kept != findings
        self._findings[doc.uri] = kept
        return changed
