"""The frame parser: messages split and joined at any byte, bad headers caught at once."""

from __future__ import annotations

import pytest
from flashpro.lsp.framing import MAX_HEADER_BYTES, MAX_MESSAGE_BYTES, FrameParser, FramingError

from tests.raw_lsp import frame


def _drain(parser: FrameParser) -> list[bytes]:
    bodies = []
    while (body := parser.next()) is not None:
        bodies.append(body)
    return bodies


def test_messages_come_out_whole_however_the_bytes_are_cut() -> None:
    stream = frame({"a": 1}) + frame({"b": "ü" * 3}) + b"Content-Type: x; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}"
    expected = [b'{"a": 1}', b'{"b": "\\u00fc\\u00fc\\u00fc"}', b"{}"]
    for size in (1, 2, 7, len(stream)):
        parser = FrameParser()
        bodies = []
        for i in range(0, len(stream), size):
            parser.feed(stream[i : i + size])
            bodies += _drain(parser)
        assert bodies == expected and parser.pending == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"jsonrpc": "2.0"}', "malformed header"),  # no header at all: caught at the first byte
        (b"Content-Length: 5\n\n{}", "malformed header"),  # bare line feeds
        (b"Content-Length: five\r\n\r\n", "not a number"),
        (b"Content-Length: -1\r\n\r\n", "not a number"),
        (b"Content-Type: application/json\r\n\r\n{}", "without Content-Length"),
        (b"\r\n\r\n", "without Content-Length"),
        (b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "twice"),
        (b"Content-Length: 1000000000000\r\n\r\n", "over the"),
        (b"Content-Length: %d\r\n\r\n" % (MAX_MESSAGE_BYTES + 1), "over the"),
        (b"Content-Length: 1\r\n\r\n{}", "malformed header"),  # too short: the rest is no header
        (b"X-" + b"a" * MAX_HEADER_BYTES, "over"),
    ],
)
def test_bad_framing_is_an_error_as_soon_as_it_shows(data: bytes, reason: str) -> None:
    parser = FrameParser()
    with pytest.raises(FramingError, match=reason):
        for i in range(len(data)):  # byte by byte: the error needs no more input than shown
            parser.feed(data[i : i + 1])
            _drain(parser)


def test_a_huge_declared_length_is_refused_before_anything_is_buffered() -> None:
    parser = FrameParser()
    parser.feed(b"Content-Length: 1000000000000\r\n\r\n" + b"x" * 10)
    with pytest.raises(FramingError, match="Content-Length 1000000000000 is over"):
        parser.next()


def test_a_partial_header_waits_for_more() -> None:
    parser = FrameParser()
    parser.feed(b"Content-Len")
    assert parser.next() is None
    parser.feed(b"gth: 2\r")
    assert parser.next() is None
    parser.feed(b"\n\r\n{")
    assert parser.next() is None and parser.pending == 1
    parser.feed(b"}")
    assert parser.next() == b"{}"
