"""When to ask and what shape to ask for: debounce, skip rules, single/multi-line, stops."""

from __future__ import annotations

import pytest
from flashpro.completion.trigger import (
    LATENCY_FACTOR,
    MAX_DELAY,
    MIN_DELAY,
    TYPING_FACTOR,
    TypingRhythm,
    multiline,
    should_request,
    stop_sequences,
    stream_cut,
)

URI = "file:///p/a.py"


def test_debounce_follows_the_typing_rhythm_and_latency() -> None:
    rhythm = TypingRhythm()
    assert rhythm.delay(URI) == pytest.approx(TYPING_FACTOR * 0.15 + LATENCY_FACTOR * 0.4)  # before any data
    now = 0.0
    for _ in range(40):  # a fast typist: 60 ms between keys
        now += 0.06
        rhythm.keystroke(URI, now)
    assert rhythm.interval(URI) == pytest.approx(0.06, abs=0.005)
    fast = rhythm.delay(URI)
    assert fast == pytest.approx(TYPING_FACTOR * rhythm.interval(URI) + LATENCY_FACTOR * 0.4)
    for _ in range(40):  # slower: 200 ms
        now += 0.2
        rhythm.keystroke(URI, now)
    assert rhythm.delay(URI) > fast
    rhythm.keystroke(URI, now + 30)  # a long pause is not rhythm
    assert rhythm.interval(URI) == pytest.approx(0.2, abs=0.01)
    for _ in range(40):
        rhythm.observe_latency(4.0)  # a slow server: wait a little longer
    assert rhythm.delay(URI) == MAX_DELAY


def test_debounce_is_clamped() -> None:
    rhythm = TypingRhythm(initial_latency=0.0)
    now = 0.0
    for _ in range(50):
        now += 0.001
        rhythm.keystroke(URI, now)
    assert rhythm.delay(URI) == MIN_DELAY
    rhythm.forget(URI)
    assert rhythm.interval(URI) == pytest.approx(0.15)


def test_debounce_memory_is_bounded() -> None:
    rhythm = TypingRhythm(max_documents=10)
    for i in range(100):
        rhythm.keystroke(f"file:///{i}", float(i))
    assert len(rhythm._docs) == 10


@pytest.mark.parametrize(
    ("before", "rest", "language", "expected"),
    [
        ("    value = comp", "uted + 1", "python", "word-after-cursor"),
        ("    ", "return x", "python", "before-code"),
        ("", "foo()", "javascript", "before-code"),
        ("  color: red", "-ish;", "css", "word-after-cursor"),
        ("x" * 1001, "", "javascript", "long-line"),
        ("    value = ", "", "python", "ok"),
        ("    # compute the ", "", "python", "ok"),  # comments stay allowed
        ("    foo(", ")", "python", "ok"),
        ("    ", "})", "javascript", "ok"),
        ("    ", "", "python", "ok"),
        ("  name = 'ab", "'", "python", "ok"),
        ("echo ", "$HOME", "shellscript", "word-after-cursor"),
    ],
)
def test_skip_rules(before: str, rest: str, language: str, expected: str) -> None:
    ok, reason = should_request(before, rest, language)
    assert reason == expected
    assert ok is (expected == "ok")


@pytest.mark.parametrize(
    ("before", "rest", "next_line", "expected"),
    [
        ("    ", "", "", True),  # empty line
        ("", "", "def g():", True),
        ("def f(x):", "", "", True),  # block opener, no body yet
        ("function f() {", "", "}", True),
        ("const f = () =>", "", "", True),
        ("def f(x):", "", "    return x", False),  # the body already follows
        ("    total = ", "", "", False),  # finish the line
        ("    items.append(", "", "", False),  # inside an open call
        ("    x = compute(a)", "", "", True),  # a finished line: the answer starts on the next
        ("    foo(", ")", "", False),  # text follows the cursor
        ("if x {", "}", "", False),
    ],
)
def test_single_or_multi_line(before: str, rest: str, next_line: str, expected: bool) -> None:
    assert multiline(before, rest, next_line) is expected


def test_stop_sequences() -> None:
    assert stop_sequences(False) == ["\n"]
    assert stop_sequences(True) == ["\n\n\n"]
    assert stop_sequences(True, "    return total\n") == ["\n\n\n", "\n    return total"]
    assert len(stop_sequences(True, "x" * 100)) <= 16


def test_stream_cut_at_dedent_suffix_and_repeats() -> None:
    body = "\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
    # After "def f(xs):" the block ends at a line indented like the opener.
    streamed = body + "def g():\n"
    cut = stream_cut(streamed, "def f(xs):")
    assert cut is not None and streamed[:cut] == body.rstrip("\n")
    # The line that already follows the cursor ends the answer (reached the suffix).
    cut = stream_cut("\n    a = 1\n    return a\n", "def f():", "    return a")
    assert cut is not None and "\n    a = 1\n    return a\n"[:cut] == "\n    a = 1"
    # A repeated line ends it too.
    text = "x = compute(1)\nprint(x)\nprint(x)\nmore\n"
    cut = stream_cut(text, "")
    assert cut is not None and text[:cut] == "x = compute(1)\nprint(x)"
    # Incomplete last lines are not judged until the stream is final.
    assert stream_cut("\n    a = 1\nde", "def f():") is None
    assert stream_cut("\n    a = 1\nde", "def f():", final=True) == len("\n    a = 1")
    assert stream_cut("abc", "") is None


def test_stream_cut_keeps_a_closing_brace_and_stops_between_top_level_units() -> None:
    text = "\n  return 1;\n}\n\nfunction g() {\n"
    cut = stream_cut(text, "function f() {")
    assert cut is not None and text[:cut] == "\n  return 1;\n}"
    # ... unless the closing brace is already in the document.
    cut = stream_cut(text, "function f() {", "}")
    assert cut is not None and text[:cut] == "\n  return 1;"
    # On an empty top-level line: one unit, then stop at the blank line before the next.
    text = "def g():\n    return 1\n\n\ndef h():\n"
    cut = stream_cut(text, "")
    assert cut is not None and text[:cut] == "def g():\n    return 1"
    # Blank lines inside a body do not stop it.
    text = "\n    a = 1\n\n    b = 2\n"
    assert stream_cut(text, "def f():") is None
