"""The action domain: context budgets, target lines, finding anchors, answers, routing, peak."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flashpro.actions import (
    ActionFailed,
    ActionService,
    LineSpan,
    ReviewStore,
    anchor,
    instruction_above,
    next_off_peak,
    target_span,
)
from flashpro.actions.context import FileView, build_context, enclosing_scope
from flashpro.actions.schemas import Finding
from flashpro.actions.service import _parse
from flashpro.calls import Limits
from flashpro.config import Settings
from flashpro.documents import DocumentStore, TextChange, Workspace
from flashpro.ledger import PriceTable
from flashpro.tokens import count

from tests.meters import FixedMeter

BIG = Path(__file__).resolve().parents[1] / "server" / "flashpro" / "completion" / "service.py"


@pytest.mark.parametrize("budget", [300, 1000, 2500, 6000])
def test_context_never_exceeds_its_budget(budget: int) -> None:
    lines = BIG.read_text().split("\n")
    for span in (LineSpan(0, 0), LineSpan(200, 210), LineSpan(len(lines) - 3, len(lines) - 1)):
        context = build_context("completion/service.py", FileView.of(lines), span, budget)
        assert count(context.text) == context.tokens <= budget
        if not context.whole_file:
            assert context.excerpt is not None and context.excerpt.start <= span.start


def test_a_giant_line_is_cut_to_the_budget() -> None:
    lines = ["x = 1", "y = '" + "ab " * 20000 + "'", "z = 3"]
    context = build_context("g.py", FileView.of(lines), LineSpan(1, 1), 500)
    assert count(context.text) == context.tokens <= 500 and "Excerpt (lines 2-2)" in context.text


def test_small_files_go_whole_and_large_ones_keep_the_selection() -> None:
    lines = ["import os", "", "def f(x):", "    return x", ""]
    context = build_context("f.py", FileView.of(lines), LineSpan(2, 3), 1000)
    assert context.whole_file and "    3| def f(x):" in context.text
    big = BIG.read_text().split("\n")
    context = build_context("s.py", FileView.of(big), LineSpan(250, 252), 1500)
    assert not context.whole_file and "Imports:" in context.text
    assert f"  251| {big[250]}" in context.text


def test_enclosing_scope_and_target_lines() -> None:
    lines = [
        "import os",
        "",
        "def f(x):",
        "    y = x",
        "    return y",
        "",
        "# make it fast",
        "# and small",
        "",
    ]
    assert enclosing_scope(lines, LineSpan(3, 3)) == LineSpan(2, 4)
    assert target_span("explain", lines, LineSpan(3, 3), empty=True) == LineSpan(2, 4)
    assert target_span("review", lines, LineSpan(0, 0), empty=True) == LineSpan(0, 8)  # top level: file
    assert target_span("review", lines, None, empty=False) == LineSpan(0, 8)
    assert target_span("design", lines, LineSpan(7, 7), empty=True) == LineSpan(6, 7)  # the comment
    assert target_span("quickEdit", lines, LineSpan(3, 4), empty=False) == LineSpan(3, 4)


def _doc(text: str):
    store = DocumentStore()
    return store, store.open("file:///w/a.py", "python", 1, text)


def test_findings_are_anchored_exactly_or_lose_their_fix() -> None:
    _, doc = _doc("def f(x):\n    if x == None:\n        return 1\n")
    exact = anchor(
        doc, Finding(line_start=2, line_end=2, snippet="x == None", message="use is", replacement="x is None")
    )
    assert exact is not None and (exact.start.line, exact.start.column, exact.end.column) == (1, 7, 16)
    assert exact.replacement == "x is None" and exact.text == "x == None"
    lost = anchor(doc, Finding(line_start=2, line_end=2, snippet="y != 3", message="?", replacement="z"))
    assert lost is not None and lost.replacement is None and lost.start.column == 0
    whole = anchor(doc, Finding(line_start=3, line_end=3, message="m"))
    assert whole is not None and (whole.start.column, whole.end.column) == (8, 16)
    assert anchor(doc, Finding(line_start=40, line_end=41, message="m")) is None


def test_findings_follow_edits_and_vanish_when_their_text_changes() -> None:
    store, doc = _doc("a = 1\nb = x == None\nc = 3\n")
    reviews = ReviewStore()
    finding = anchor(doc, Finding(line_start=2, line_end=2, snippet="x == None", message="m"))
    assert finding is not None
    reviews.set(doc.uri, [finding])
    change = TextChange("zz\n", (0, 0), (0, 0))
    store.change(doc.uri, 2, [change])
    assert reviews.edited(doc, [change], [(0, 0, 1)])
    (moved,) = reviews.get(doc.uri)
    assert moved.start.line == 2 and moved.text == "x == None"
    change = TextChange("y", (2, 4), (2, 5))
    store.change(doc.uri, 3, [change])
    assert reviews.edited(doc, [change], [(2, 2, 0)]) and reviews.get(doc.uri) == []


def test_answers_are_validated() -> None:
    assert _parse("quickEdit", '```json\n{"replacement": "x"}\n```').replacement == "x"
    with pytest.raises(ValueError, match="empty"):
        _parse("review", "  ")
    with pytest.raises(ValueError, match="not valid json"):
        _parse("review", "{findings: []}")
    with pytest.raises(ValueError, match="does not match"):
        _parse("design", '{"goal": "x", "steps": []}')
    assert (
        _parse(
            "review", '{"findings": [{"line_start": 1, "line_end": 1, "message": "m", "severity": "info"}]}'
        )
        .findings[0]
        .severity
        == "information"
    )


def test_instruction_comments() -> None:
    _, doc = _doc("x = 1\n// flashpro: rename to y\nlet x = 2;\n")
    assert instruction_above(doc, LineSpan(2, 2)) == "rename to y"
    _, doc = _doc("# flashpro:   add types  \ndef f(): pass\n")
    assert instruction_above(doc, LineSpan(1, 1)) == "add types"
    assert instruction_above(doc, LineSpan(0, 0)) == "add types"


def test_next_off_peak_follows_the_price_table() -> None:
    table = PriceTable.load()
    monday_7 = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)
    assert table.is_peak(monday_7)
    assert next_off_peak(table, monday_7) == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 7, 5, tzinfo=UTC)
    assert next_off_peak(table, saturday) == datetime(2026, 11, 28, 7, 5, tzinfo=UTC)


def _service(limits: Limits, settings: Settings | None = None) -> ActionService:
    return ActionService(
        FixedMeter(limits, settings or Settings()),
        Workspace("/w"),
        clock=lambda: datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
    )


def test_budget_stages_refuse_planner_work_before_any_call() -> None:
    _, doc = _doc("def f():\n    return 1\n")
    no_pro = _service(
        Limits(context_tokens=8000, max_output_tokens=500, automatic=False, invoked=True, pro=False)
    )
    with pytest.raises(ActionFailed, match="V4 Pro, which is off"):
        asyncio.run(no_pro.run("review", doc, LineSpan(0, 1)))
    stopped = _service(
        Limits(context_tokens=0, max_output_tokens=0, automatic=False, invoked=False, pro=False)
    )
    with pytest.raises(ActionFailed, match="spending cap is reached"):
        asyncio.run(stopped.run("explain", doc, LineSpan(0, 1)))


def test_preview_is_exact_and_peak_aware() -> None:
    _, doc = _doc("def f():\n    return 1\n")
    service = _service(Limits(8000, 500, True, True, True))
    preview = service.preview("review", doc, LineSpan(0, 1))
    messages = service.messages("review", doc, LineSpan(0, 1), "", 16384)
    assert preview.prompt_tokens == sum(count(m["content"]) for m in messages) + 8
    assert preview.peak and preview.peak_factor == 2  # Monday 07:00 UTC, Pro after 2026-09-10
    assert preview.suffix("planner").startswith("V4 Pro · ~") and preview.suffix("planner").endswith(
        "· peak ×2"
    )
    settings = Settings.model_validate({"actions": {"deferOffPeak": True}})
    assert _service(Limits(8000, 500, True, True, True), settings).should_defer("review") == datetime(
        2026, 11, 23, 10, 0, tzinfo=UTC
    )
    assert _service(Limits(8000, 500, True, True, True), settings).should_defer("explain") is None


class _CountingLines(list[str]):
    """A file's lines that count how many are read."""

    reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        _CountingLines.reads += 1
        return super().__getitem__(index)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for line in super().__iter__():
            _CountingLines.reads += 1
            yield line


@pytest.mark.parametrize("action", ["review", "quickEdit"])
def test_context_work_is_bounded_by_the_budget_not_the_file(action: str) -> None:
    # Listing previews every action's prompt: on a huge file only about a budget's worth of
    # lines may be read (the scans stop at SCAN_LINES), and the result stays exact.
    block = ["def f_{n}(x):", "    if x:", "        return x + {n}", "    return None", ""]
    reads = []
    for copies in (2_000, 40_000):  # 10k and 200k lines
        lines = _CountingLines(line.format(n=n) for n in range(copies) for line in block)
        _CountingLines.reads = 0
        middle = LineSpan(len(lines) // 2 + 2, len(lines) // 2 + 2)
        span = target_span(action, lines, middle, empty=True)
        context = build_context("big.py", FileView.of(lines), span, 4000)
        assert count(context.text) == context.tokens <= 4000 and not context.whole_file
        reads.append(_CountingLines.reads)
    assert reads[1] <= reads[0] * 1.2  # 20 times the file, about the same work
