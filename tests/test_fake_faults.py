"""Tests of the fake DeepSeek server's broken-response knobs (tests/fakes/faults.py): what each
puts on the wire, read as raw bytes from a socket, and how the `openai` SDK meets it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import openai
import pytest
from openai import OpenAI

from tests.fakes import FakeDeepSeek, fake_deepseek  # noqa: F401
from tests.fakes.faults import MALFORMED_EVENT, edit_events, is_usage_event

FLASH = "deepseek-v4-flash"
KEY = "sk-test"
STREAM = {"model": FLASH, "prompt": "def f():\n    ", "suffix": "\n", "stream": True,
          "stream_options": {"include_usage": True}}
DONE = b"data: [DONE]\n\n"


@pytest.fixture
def fim(fake_deepseek: FakeDeepSeek) -> Iterator[OpenAI]:
    with OpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0, timeout=5) as client:
        yield client


def send(fake: FakeDeepSeek, body: dict[str, object]) -> socket.socket:
    """POST `body` to the FIM endpoint on a raw socket (nothing decodes the answer for us)."""
    data = json.dumps(body).encode()
    sock = socket.create_connection((fake.host, fake.port), timeout=5)
    sock.sendall(
        b"POST /beta/completions HTTP/1.1\r\nHost: fake\r\nAuthorization: Bearer %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (KEY.encode(), len(data), data)
    )
    return sock


def read_response(sock: socket.socket, until: bytes = b"\r\n0\r\n\r\n") -> bytes:
    """Raw bytes until `until` ends them (default: the last chunk) or the server closes."""
    raw = b""
    while not raw.endswith(until):
        data = sock.recv(65536)
        if not data:
            break
        raw += data
    return raw


def chunks(raw: bytes) -> list[bytes]:
    """The pieces of a chunked HTTP body, one per chunk, as the server wrote them."""
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    pieces = []
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        pieces.append(body[:size])
        body = body[size + 2 :]
    return pieces


def events(raw: bytes) -> list[bytes]:
    """The SSE events of a raw chunked response, with the per-response id and time blanked."""
    text = b"".join(chunks(raw))
    return [_same_ids(event + b"\n\n") for event in text.split(b"\n\n") if event]


def _same_ids(event: bytes) -> bytes:
    try:
        chunk = json.loads(event.removeprefix(b"data: "))
    except ValueError:
        return event  # [DONE], keep-alives, the malformed event
    chunk.update(id="ID", created=0)
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def normal_events(fake: FakeDeepSeek) -> list[bytes]:
    with send(fake, STREAM) as sock:
        return events(read_response(sock))


def test_edit_events_knows_the_usage_chunk_and_done() -> None:
    usage = b'data: {"choices": [], "usage": {"prompt_tokens": 3}}\n\n'
    text = b'data: {"choices": [{"text": "a"}], "usage": null}\n\n'
    assert is_usage_event(usage) and not is_usage_event(text) and not is_usage_event(DONE)
    plan = edit_events([text, usage, DONE], omit_usage=True, omit_done=True)
    assert plan.events == [text] and plan.fault == "no_done"
    assert edit_events([text, usage, DONE]).fault is None


def test_malformed_after_chunks_puts_a_broken_event_in_the_stream(
    fake_deepseek: FakeDeepSeek, fim: OpenAI
) -> None:
    normal = normal_events(fake_deepseek)
    fake_deepseek.malformed_after_chunks = 1
    with send(fake_deepseek, STREAM) as sock:
        broken = events(read_response(sock))
    assert broken == [normal[0], MALFORMED_EVENT, *normal[2:]]
    assert fake_deepseek.requests[-1].fault == "malformed"
    with pytest.raises(json.JSONDecodeError):  # the SDK lets the parse error escape
        list(fim.completions.create(model=FLASH, prompt="x", suffix="", stream=True))


@pytest.mark.parametrize(
    ("knob", "value", "fault"),
    [("end_after_chunks", 2, "end_early"), ("omit_usage", True, "no_usage"), ("omit_done", True, "no_done")],
)
def test_streams_can_end_without_usage_or_done(
    fake_deepseek: FakeDeepSeek, knob: str, value: object, fault: str
) -> None:
    normal = normal_events(fake_deepseek)
    assert normal[-1] == DONE and is_usage_event(normal[-2])
    setattr(fake_deepseek, knob, value)
    with send(fake_deepseek, STREAM) as sock:
        sent = events(read_response(sock))  # a clean end of the chunked body
    expected = {
        "end_early": normal[:2],
        "no_usage": normal[:-2] + normal[-1:],
        "no_done": normal[:-1],
    }[fault]
    assert sent == expected
    record = fake_deepseek.requests[-1]
    assert record.fault == fault and record.finished and not record.disconnected


def test_a_stream_without_done_looks_complete_to_the_sdk(fake_deepseek: FakeDeepSeek, fim: OpenAI) -> None:
    fake_deepseek.script_fim("return a + b\n")
    fake_deepseek.end_after_chunks = 2
    pieces = list(fim.completions.create(model=FLASH, prompt="x", suffix="", stream=True))
    assert "".join(c.choices[0].text for c in pieces) == "return a"  # no error: a caller must check


def test_trickle_sends_the_rest_one_byte_at_a_time(fake_deepseek: FakeDeepSeek) -> None:
    normal = normal_events(fake_deepseek)
    fake_deepseek.trickle_after_chunks = 2
    fake_deepseek.trickle_interval_s = 0.001
    with send(fake_deepseek, STREAM) as sock:
        raw = read_response(sock)
    pieces = chunks(raw)
    assert [_same_ids(piece) for piece in pieces[:2]] == normal[:2]
    assert {len(piece) for piece in pieces[2:]} == {1}
    assert events(raw) == normal
    record = fake_deepseek.requests[-1]
    assert record.fault == "trickle" and record.finished


def test_hang_after_chunks_keeps_the_stream_alive_with_comments(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.hang_after_chunks = 1
    fake_deepseek.keepalive_interval_s = 0.01
    with send(fake_deepseek, STREAM) as sock:
        raw = read_response(sock, until=b": keep-alive\n\n\r\n")
        raw += read_response(sock, until=b": keep-alive\n\n\r\n")
    pieces = chunks(raw + b"0\r\n\r\n")
    assert pieces[0].startswith(b"data: {") and pieces[1:] == [b": keep-alive\n\n"] * 2
    assert fake_deepseek.wait_for_disconnect().chunks_sent == 1


@pytest.mark.parametrize("after", [0, 2])
def test_reset_after_chunks_aborts_the_connection(fake_deepseek: FakeDeepSeek, after: int) -> None:
    fake_deepseek.reset_after_chunks = after
    with send(fake_deepseek, STREAM) as sock, pytest.raises(ConnectionResetError):
        while sock.recv(65536):  # a clean end (b"") leaves the loop without the error
            pass
    record = fake_deepseek.wait_for_request(lambda r: r.done)
    assert record.fault == "reset" and record.chunks_sent == after and not record.finished


def test_reset_reaches_the_sdk_as_a_connection_error(fake_deepseek: FakeDeepSeek, fim: OpenAI) -> None:
    fake_deepseek.reset_after_chunks = 0
    with pytest.raises(openai.APIConnectionError):
        fim.completions.create(model=FLASH, prompt="x", suffix="", stream=True)


@pytest.mark.parametrize("stream", [True, False])
def test_garbage_body_answers_200_with_those_bytes(fake_deepseek: FakeDeepSeek, stream: bool) -> None:
    fake_deepseek.garbage_body = b'{"choi'
    with send(fake_deepseek, {**STREAM, "stream": stream}) as sock:
        raw = read_response(sock, until=b'{"choi')
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"application/json" in head.lower()
    assert body == b'{"choi'
    assert fake_deepseek.requests[-1].fault == "garbage"


def test_a_stopped_server_refuses_and_restarts_on_its_port(fake_deepseek: FakeDeepSeek, fim: OpenAI) -> None:
    port = fake_deepseek.port
    fake_deepseek.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((fake_deepseek.host, port), timeout=5).close()
    fake_deepseek.start()
    assert fake_deepseek.port == port
    assert fim.completions.create(model=FLASH, prompt="x", suffix="").choices
