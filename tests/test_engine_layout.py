"""Cache-aware layout: a byte-stable head while typing, exact budgets, deterministic output."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import flashpro.completion
import pytest
from flashpro.completion.context import FimContext
from flashpro.completion.layout import (
    NO_ANCHOR,
    Layout,
    Snippet,
    build_layout,
    comment_style,
)
from flashpro.documents import Position, TextBuffer
from flashpro.tokens import LineCounter, count


FUNCTION = '''def summarise_orders(orders, *, currency="EUR"):
    """Total, average and largest order, in one currency."""
    totals = {}
    largest = None
    for order in orders:
        if order.currency != currency:
            amount = convert(order.amount, order.currency, currency)
        else:
            amount = order.amount
        totals[order.customer] = totals.get(order.customer, 0) + amount
        if largest is None or amount > largest.amount:
            largest = order
    count = len(orders)
    average = sum(totals.values()) / count if count else 0
    report = Report(
        customers=len(totals),
        total=sum(totals.values()),
        average=average,
        largest=largest,
    )
    for customer, total in sorted(totals.items()):
        report.add_line(customer, total)
    if report.total > LIMIT:
        log.warning("orders over the limit: %s", report.total)
    elif report.total == 0:
        log.info("no orders in %s", currency)
    else:
        log.debug("orders: %s", report.total)
    cache.store(report)
    return report

'''


def python_file(lines: int, seed: int = 7) -> str:
    """A deterministic Python-looking file of about `lines` lines."""
    rng = random.Random(seed)
    out = ["import os\n", "import sys\n", "from collections import defaultdict\n", "\n"]
    n = 0
    while len(out) < lines:
        n += 1
        out.append(f"def handler_{n}(request, value={rng.randint(0, 999)}):\n")
        for k in range(rng.randint(2, 9)):
            out.append(f"    result_{k} = compute_{rng.randint(0, 50)}(request, value + {k})\n")
        out.append(f"    return result_0 * {rng.randint(1, 9)}\n")
        out.append("\n")
    return "".join(out[:lines])


def type_text(buffer: TextBuffer, at: Position, text: str) -> list[Position]:
    """Type `text` one character at a time at `at`; the cursor after each keystroke."""
    cursors = []
    line, column = at.line, at.column
    for char in text:
        here = Position(line, column)
        buffer.edit(here, here, char)
        if char == "\n":
            line, column = line + 1, 0
        else:
            column += 1
        cursors.append(Position(line, column))
    return cursors


def check_exact(layout: Layout, budget: int, suffix_budget: int) -> None:
    ctx = layout.context
    assert ctx.prompt_tokens == count(ctx.prompt)
    assert ctx.suffix_tokens == count(ctx.suffix)
    assert ctx.prompt_tokens + ctx.suffix_tokens <= budget
    assert ctx.suffix_tokens <= max(0, min(suffix_budget, budget // 2))


def run_typing(anchored: bool) -> tuple[int, int, int, int]:
    """Type FUNCTION into the middle of a 3,000-line file: (keystrokes, head changes,
    changes that were not extensions of the previous head, block crossings)."""
    buffer = TextBuffer(python_file(3000))
    counter = LineCounter()
    extra = [Snippet("file:///p/util.py", "util.py", "def convert(amount, src, dst):\n    ...\n")]
    start = Position(1500, 0)
    previous: Layout | None = None
    changes = rewrites = crossings = 0
    block = start.line // 32
    cursor = start
    steps = 0
    for char in FUNCTION:
        cursor = type_text(buffer, cursor, char)[-1]
        steps += 1
        anchor = (previous.window_start if previous else NO_ANCHOR) if anchored else None
        layout = build_layout(
            buffer, cursor, 4096, 512, extra, counter, anchor=anchor, label="orders/report.py"
        )
        check_exact(layout, 4096, 512)
        volatile = layout.context.prompt[layout.head_chars :]
        before = "".join(buffer.lines(0, cursor.line)) + buffer.line(cursor.line)[: cursor.column]
        assert before.endswith(volatile)
        crossed = cursor.line // 32 != block
        block = cursor.line // 32
        crossings += crossed
        if previous is not None and layout.head != previous.head:
            assert crossed, f"head changed inside a block at {cursor}"
            changes += 1
            rewrites += not layout.head.startswith(previous.head)
        previous = layout
    return steps, changes, rewrites, crossings


def test_head_is_byte_identical_while_typing_inside_a_block_with_anchor() -> None:
    steps, changes, rewrites, crossings = run_typing(anchored=True)
    assert steps == len(FUNCTION) > 900
    assert crossings == 1  # lines 1500..1530 cross one 32-line boundary (1504)
    assert changes == 1  # the crossing extends the head ...
    assert rewrites == 0  # ... and the previous head stays its prefix (still cached)


def test_head_is_byte_identical_while_typing_inside_a_block_without_anchor() -> None:
    steps, changes, rewrites, crossings = run_typing(anchored=False)
    assert changes <= crossings == 1
    assert rewrites <= 1


def test_head_survives_many_blocks_of_typing_with_anchor() -> None:
    """Typing 10 functions (300 lines) rewrites the head only a few times."""
    buffer = TextBuffer(python_file(3000))
    counter = LineCounter()
    cursor = Position(1500, 0)
    previous: Layout | None = None
    changes = rewrites = crossings = 0
    for _ in range(10):
        for line in FUNCTION.splitlines(keepends=True):
            block = cursor.line // 32
            cursor = type_text(buffer, cursor, line)[-1]  # a line at a time: same head logic
            crossed = cursor.line // 32 != block
            crossings += crossed
            layout = build_layout(
                buffer, cursor, 4096, 512, (), counter,
                anchor=previous.window_start if previous else NO_ANCHOR,
            )  # fmt: skip
            check_exact(layout, 4096, 512)
            if previous is not None and layout.head != previous.head:
                assert crossed
                changes += 1
                rewrites += not layout.head.startswith(previous.head)
            previous = layout
    assert crossings == 10  # lines 1500..1810
    assert changes <= crossings
    print(f"{changes} head changes, {rewrites} rewrites over {crossings} block crossings")
    assert rewrites <= 4  # the window slides only when the slack is used up


def test_budget_is_never_exceeded_on_random_cursors_and_budgets() -> None:
    rng = random.Random(2026)
    huge = "x=" + ",".join(str(i) for i in range(20_000)) + "\n"
    texts = [
        python_file(2000, seed=1),
        "\n".join(rng.choice(["", "   ", "\t", "}", "中文注释 " * 30, huge[:5000]]) for _ in range(400)),
        python_file(300, seed=2) + huge + python_file(300, seed=3),
        huge + huge,
        "",
        "no newline at all",
        "\r\n".join(f"line {i}\r" for i in range(200)),
    ]
    counter = LineCounter()
    extras = [
        Snippet("file:///a.py", "a.py", "def a():\n    return 1\n"),
        Snippet("file:///b.ts", "src/b.ts", "export function b(): number {\n  return 2;\n}"),
        Snippet("file:///c.go", "c.go", huge[:3000]),
    ]
    for trial in range(400):
        buffer = TextBuffer(rng.choice(texts))
        line = rng.randrange(buffer.line_count)
        column = rng.randint(0, len(buffer.line_content(line)))
        budget = rng.randint(64, 8000)
        suffix_budget = rng.randint(0, 1500)
        extra = extras[: rng.randint(0, 3)]
        anchor = rng.choice([None, 0, 32 * rng.randint(0, 80), rng.randint(0, 3000)])
        layout = build_layout(
            buffer, Position(line, column), budget, suffix_budget, extra, counter,
            block_lines=rng.choice([8, 32, 64]), anchor=anchor, language_id=rng.choice(["python", "go", ""]),
        )  # fmt: skip
        check_exact(layout, budget, suffix_budget)
        text = buffer.text
        offset = sum(len(x) for x in buffer.lines(0, line)) + column
        assert text[:offset].endswith(layout.context.prompt[layout.head_chars :]), trial
        assert text[offset:].startswith(layout.context.suffix), trial
        assert layout.context.line_rest == buffer.line_content(line)[column:]


def test_small_file_is_laid_out_whole_after_the_snippets() -> None:
    text = "import os\n\ndef f(x):\n    return os.path.join(x, 'a')\n\nprint(f('b'))\n"
    buffer = TextBuffer(text)
    snippet = Snippet("file:///p/util.py", "util.py", "def g():\n    pass")
    layout = build_layout(buffer, Position(3, 10), 2000, 200, [snippet], label="main.py")
    prompt = layout.context.prompt
    assert prompt == (
        "# path: util.py\ndef g():\n    pass\n# path: main.py\n"
        "import os\n\ndef f(x):\n    return"
    )
    assert layout.context.suffix == " os.path.join(x, 'a')\n\nprint(f('b'))\n"
    assert layout.head == "# path: util.py\ndef g():\n    pass\n# path: main.py\n"
    assert layout.window_start == 0 and layout.snippets == 1
    assert layout.line_at(0) is None and layout.line_at(len(layout.head)) == 0
    assert layout.line_at(len(prompt)) == 3


def test_long_file_keeps_its_top_and_an_aligned_window() -> None:
    buffer = TextBuffer(python_file(3000))
    layout = build_layout(buffer, Position(2000, 4), 4096, 512, language_id="python")
    assert layout.top_lines % 32 == 0 and layout.top_lines > 0
    assert layout.window_start % 32 == 0 and layout.top_lines < layout.window_start <= 2000
    prompt = layout.context.prompt
    top = "".join(buffer.lines(0, layout.top_lines))
    assert prompt.startswith(top + "# ...\n" + buffer.line(layout.window_start))
    assert layout.context.prompt_tokens > 4096 - 512 - 600  # the window uses most of the room
    assert layout.file_runs[0][2] == 0 and layout.line_at(0) == 0
    assert layout.line_at(len(top)) is None  # the "# ..." marker
    assert layout.line_at(layout.file_runs[-1][0]) == layout.window_start
    assert layout.line_at(len(prompt)) == 2000


def test_layout_is_deterministic() -> None:
    buffer = TextBuffer(python_file(1500))
    extra = [Snippet("u", "x.py", "X = 1\n")]
    first = build_layout(buffer, Position(900, 3), 3000, 300, extra, LineCounter())
    second = build_layout(buffer, Position(900, 3), 3000, 300, extra)
    assert first == second
    assert isinstance(first.context, FimContext)


def test_snippets_that_overflow_half_the_prompt_are_dropped_from_the_end() -> None:
    buffer = TextBuffer("x = 1\n")
    big = Snippet("u2", "big.py", "y = 2\n" * 400)
    small = Snippet("u1", "small.py", "z = 3\n")
    layout = build_layout(buffer, Position(1, 0), 1000, 100, [small, big, small])
    assert layout.snippets == 1
    assert layout.context.prompt.startswith("# path: small.py\nz = 3\nx = 1\n")


def test_comment_styles() -> None:
    assert comment_style("python") == ("#", "")
    assert comment_style("", "src/app.tsx") == ("//", "")
    assert comment_style("markdown") == ("<!--", " -->")
    assert comment_style("sql") == ("--", "")
    assert comment_style("nonsense", "README") == ("#", "")
    layout = build_layout(TextBuffer("a\n"), Position(1, 0), 500, 50, label="main.go")
    assert layout.context.prompt == "// path: main.go\na\n"


def test_bad_block_size_is_refused() -> None:
    with pytest.raises(ValueError):
        build_layout(TextBuffer(""), Position(0, 0), 100, 10, block_lines=0)
