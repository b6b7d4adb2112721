"""The code actions flashpro offers: names, titles, LSP kinds and the lines each covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flashpro.actions.context import SCAN_LINES, LineSpan, enclosing_scope

__all__ = ["ACTIONS", "ActionSpec", "target_span"]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action: its routing key, title, LSP code action kind and server command."""

    name: str
    title: str
    kind: str
    command: str
    json_answer: bool
    pro_by_default: bool


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("review", "Review this", "source.flashpro.review", "flashpro.review", True, True),
        ActionSpec("design", "Design this", "refactor.flashpro.design", "flashpro.design", True, True),
        ActionSpec(
            "quickEdit", "Quick edit…", "refactor.rewrite.flashpro", "flashpro.quickEdit", True, False
        ),
        ActionSpec("explain", "Explain this", "source.flashpro.explain", "flashpro.explain", False, False),
        ActionSpec(
            "tests", "Write tests for this", "source.flashpro.tests", "flashpro.writeTests", True, False
        ),
    )
}


def target_span(action: str, lines: Sequence[str], span: LineSpan | None, empty: bool) -> LineSpan:
    """The lines an action works on: the selection; with none, the enclosing definition
    (design: the paragraph at the cursor, e.g. a comment stating the intent, at most
    `SCAN_LINES` lines each way; review with no range at all: the whole file)."""
    last = max(len(lines) - 1, 0)
    if span is None:
        return LineSpan(0, last)
    span = LineSpan(min(span.start, last), min(max(span.end, span.start), last))
    if not empty:
        return span
    if action == "design":
        low = high = span.start
        while low > 0 and span.start - low < SCAN_LINES and lines[low - 1].strip():
            low -= 1
        while high < last and high - span.start < SCAN_LINES and lines[high + 1].strip():
            high += 1
        return LineSpan(low, high)
    scope = enclosing_scope(lines, span)
    if scope == span and action == "review":
        return LineSpan(0, last)
    return scope
