"""Incremental text buffers: edits, line endings and position encodings."""

from __future__ import annotations

import random

import pytest

from flashpro.documents import Position, TextBuffer, split_lines
from flashpro.documents.buffer import column_to_units, units_to_column


def test_split_lines_keeps_terminators_and_a_last_line() -> None:
    assert split_lines("a\nb\r\nc\rd") == ["a\n", "b\r\n", "c\r", "d"]
    assert split_lines("a\n") == ["a\n", ""]
    assert split_lines("") == [""]
    # Only LSP line breaks split: form feed and U+2028 do not.
    assert split_lines("a\x0cb\u2028c") == ["a\x0cb\u2028c"]


@pytest.mark.parametrize(
    ("encoding", "units", "column"),
    [("utf-16", 3, 2), ("utf-8", 5, 2), ("utf-32", 2, 2)],
)
def test_units_convert_for_each_encoding(encoding: str, units: int, column: int) -> None:
    line = "a😀b"  # the emoji is 2 UTF-16 units, 4 UTF-8 bytes, 1 code point
    assert units_to_column(line, units, encoding) == column  # type: ignore[arg-type]
    assert column_to_units(line, column, encoding) == units  # type: ignore[arg-type]


def test_utf8_columns_inside_accented_text() -> None:
    line = "héllo"
    assert units_to_column(line, 3, "utf-8") == 2  # h(1) é(2)
    assert column_to_units(line, 2, "utf-8") == 3


@pytest.mark.parametrize(("encoding", "units", "after"), [("utf-16", 2, 3), ("utf-8", 4, 7), ("utf-32", 2, 3)])
def test_a_lone_surrogate_is_one_code_point_in_every_encoding(encoding: str, units: int, after: int) -> None:
    # JSON lets an editor send "\\ud800" alone: one UTF-16 unit, three bytes as U+FFFD or WTF-8.
    line = "a\ud800b"
    assert column_to_units(line, 2, encoding) == units  # type: ignore[arg-type]
    assert units_to_column(line, units, encoding) == 2  # type: ignore[arg-type]
    buf = TextBuffer(line + "\n\udfff", encoding)  # type: ignore[arg-type]
    buf.edit(buf.position(0, units), buf.position(1, 0), "\ud83d")
    assert buf.text == "a\ud800\ud83d\udfff" and buf.to_units(Position(0, 3)) == after


def test_edit_inserts_and_deletes_across_lines() -> None:
    buf = TextBuffer("one\ntwo\nthree")
    buf.edit(Position(0, 3), Position(0, 3), "!")
    assert buf.text == "one!\ntwo\nthree"
    buf.edit(Position(0, 2), Position(2, 2), "")
    assert buf.text == "onree"
    assert buf.line_count == 1
    buf.edit(Position(0, 5), Position(0, 5), "\nnew\n")
    assert buf.text == "onree\nnew\n"
    assert buf.line_count == 3
    assert len(buf) == len(buf.text)


def test_positions_clamp_past_the_end() -> None:
    buf = TextBuffer("ab\ncd")
    assert buf.position(9, 0) == Position(1, 2)
    assert buf.position(0, 99) == Position(0, 2)
    assert buf.position(-1, 4) == Position(0, 0)


def _reference_apply(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _offset(text: str, line: int, column: int) -> int:
    lines = split_lines(text)
    return sum(len(item) for item in lines[:line]) + column


def test_random_edits_match_a_whole_text_reference() -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", " ", "\n", "\r\n", "é", "😀", "\t", "x\ny"]
    text = "start\nmiddle\r\nend"
    buf = TextBuffer(text, "utf-16")
    for _ in range(2000):
        lines = split_lines(text)
        l1 = rng.randrange(len(lines))
        l2 = rng.randrange(l1, min(len(lines), l1 + 3))
        content1 = lines[l1].rstrip("\r\n")
        content2 = lines[l2].rstrip("\r\n")
        c1 = rng.randint(0, len(content1))
        c2 = rng.randint(0, len(content2)) if l2 > l1 else rng.randint(c1, len(content2))
        new = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
        start, end = Position(l1, c1), Position(l2, c2)
        # Avoid creating a "\r" + "\n" pair across the edit boundary: LSP clients never do.
        joined = _reference_apply(text, _offset(text, l1, c1), _offset(text, l2, c2), new)
        if "\r\n" in joined and joined.count("\r\n") != text.count("\r\n") + new.count("\r\n"):
            continue
        buf.edit(start, end, new)
        text = joined
        assert buf.text == text
        assert len(buf) == len(text)
        assert buf.line_count == len(split_lines(text))


def test_five_megabyte_buffer_edits_touch_only_the_changed_lines() -> None:
    line = "    value = compute(alpha, beta)  # ünïcode comment\n"
    text = line * (5_000_000 // len(line))
    buf = TextBuffer(text)
    for index in range(200):
        buf.edit(Position(40_000, 4), Position(40_000, 4), "x")
    assert buf.line_content(40_000).startswith("    " + "x" * 200 + "value")
    assert buf.line_count == text.count("\n") + 1
    assert len(buf) == len(text) + 200
