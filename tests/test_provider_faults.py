"""The provider boundary: every way a DeepSeek call can fail leaves `DeepSeekProvider` as an
error of the tree (never a partial answer, never another exception), within its deadlines.

Driven against the fake DeepSeek server's fault knobs; the stream reader, the error mapping,
the request sanitising and the error gate are also tested on their own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import openai
import pytest

from flashpro.providers import (
    AuthFailed,
    BadRequest,
    CallTrace,
    ChatRequest,
    ConnectionFailed,
    DeepSeekProvider,
    FimRequest,
    InsufficientBalance,
    Internal,
    Malformed,
    Overloaded,
    ProviderError,
    RateLimited,
    Stalled,
    Timeout,
    Truncated,
    Unavailable,
    map_error,
    sendable,
)
from flashpro.providers.gate import ErrorGate
from flashpro.providers.request import chat_body, fim_body, idle_gap
from flashpro.providers.stream import MAX_LINE_BYTES, Deadlines, Events, SSEDecoder, fold_chat, fold_fim
from tests.fakes import Answer, FakeDeepSeek, fake_deepseek  # noqa: F401

FLASH, PRO = "deepseek-v4-flash", "deepseek-v4-pro"
DEFAULTS = FakeDeepSeek()  # never started: only its knobs' default values are read


@pytest.fixture
async def provider(fake_deepseek: FakeDeepSeek) -> AsyncIterator[DeepSeekProvider]:
    client = DeepSeekProvider("sk-test", fake_deepseek.url)
    yield client
    await client.aclose()


def fim_request(timeout: float = 5.0) -> FimRequest:
    return FimRequest(model=FLASH, prompt="def add(a, b):\n    ", suffix="\n", max_tokens=64, timeout=timeout)


def chat_request(timeout: float = 5.0) -> ChatRequest:
    messages = [{"role": "user", "content": "Say OK"}]
    return ChatRequest(model=PRO, messages=messages, max_tokens=64, timeout=timeout)


async def call(provider: DeepSeekProvider, endpoint: str, timeout: float = 5.0) -> tuple[str, CallTrace]:
    trace = CallTrace()
    if endpoint == "fim":
        return await provider.fim(fim_request(timeout), trace), trace
    return await provider.chat(chat_request(timeout), trace), trace


# -- faults on the wire, through the real client -------------------------------------------------

WIRE_FAULTS = {
    "malformed event": ({"malformed_after_chunks": 1}, Malformed, "not JSON"),
    "garbage body": ({"garbage_body": b'{"choi'}, Malformed, "instead of an event stream"),
    "cut short": ({"end_after_chunks": 2}, Truncated, "end-of-stream marker"),
    "no [DONE]": ({"omit_done": True}, Truncated, "end-of-stream marker"),
    "no usage": ({"omit_usage": True}, Truncated, "usage report"),
    "reset before answering": ({"reset_after_chunks": 0}, ConnectionFailed, "cannot reach"),
    "reset mid-stream": ({"reset_after_chunks": 2}, ConnectionFailed, "broke"),
}


@pytest.mark.parametrize("endpoint", ["fim", "chat"])
@pytest.mark.parametrize("fault", sorted(WIRE_FAULTS))
async def test_each_wire_fault_is_one_error_of_the_tree(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider, endpoint: str, fault: str
) -> None:
    knobs, error, words = WIRE_FAULTS[fault]
    fake_deepseek.script_fim("return a + b\n")
    for name, value in knobs.items():
        setattr(fake_deepseek, name, value)
    with pytest.raises(error, match=words) as raised:
        await call(provider, endpoint)
    assert type(raised.value) is error
    assert fake_deepseek.requests[-1].fault is not None  # the fault really was injected
    for name in knobs:  # and the very next call is fine
        setattr(fake_deepseek, name, getattr(DEFAULTS, name))
    assert (await call(provider, endpoint))[0]


async def test_a_truncated_answer_is_never_returned(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider
) -> None:
    fake_deepseek.script_fim("return a + b\n")
    fake_deepseek.end_after_chunks = 2
    trace = CallTrace()
    with pytest.raises(Truncated):
        await provider.fim(fim_request(), trace)
    assert trace.text == "return a" and trace.usage is None  # what the ledger may know; not shown


async def test_insufficient_system_resource_is_overloaded(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider
) -> None:
    fake_deepseek.script_fim(Answer("return", finish_reason="insufficient_system_resource"))
    trace = CallTrace()
    with pytest.raises(Overloaded, match="capacity"):
        await provider.fim(fim_request(), trace)
    assert trace.usage is not None  # the stream ran to its end: what was billed is known


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequest),
        (401, AuthFailed),
        (402, InsufficientBalance),
        (422, BadRequest),
        (429, RateLimited),
        (500, Unavailable),
        (503, Overloaded),
    ],
)
async def test_status_errors(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider, status: int, error: type[ProviderError]
) -> None:
    fake_deepseek.fail_next(status, headers={"Retry-After": "3"})
    with pytest.raises(error) as raised:
        await call(provider, "chat")
    assert type(raised.value) is error and raised.value.status == status
    assert raised.value.retry_after == (3.0 if status == 429 else None)


async def test_a_stopped_server_is_a_connection_failure(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider
) -> None:
    fake_deepseek.stop()
    for endpoint in ("fim", "chat"):
        with pytest.raises(ConnectionFailed, match="cannot reach DeepSeek"):
            await call(provider, endpoint)
    with pytest.raises(ConnectionFailed):
        await provider.list_models()


# -- deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["fim", "chat"])
async def test_keepalives_do_not_extend_the_total_deadline(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider, endpoint: str
) -> None:
    fake_deepseek.hang = True
    fake_deepseek.keepalive_interval_s = 0.02  # bytes keep coming: an HTTP read timeout never fires
    with pytest.raises(Timeout, match=r"in time \(0.4 s\)") as raised:
        await call(provider, endpoint, timeout=0.4)
    assert type(raised.value) is Timeout
    record = await fake_deepseek.wait_for_disconnect_async()
    assert record.status == 200 and not record.finished  # headers came, then only keep-alives


@pytest.mark.parametrize(
    "knobs", [{"hang_after_chunks": 1, "keepalive_interval_s": 0.02}, {"trickle_after_chunks": 1}]
)
async def test_silence_after_the_answer_started_is_a_stall(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider, knobs: dict[str, object]
) -> None:
    for name, value in knobs.items():
        setattr(fake_deepseek, name, value)
    trace = CallTrace()
    request = fim_request(timeout=30.0)
    request.idle_timeout = 0.3
    with pytest.raises(Stalled, match=r"nothing for 0.3 s"):
        await provider.fim(request, trace)
    assert trace.parts  # it had started
    record = await fake_deepseek.wait_for_disconnect_async()
    assert not record.finished


async def test_a_trickle_from_the_start_meets_the_total_deadline(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider
) -> None:
    fake_deepseek.trickle_after_chunks = 0
    with pytest.raises(Timeout) as raised:
        await call(provider, "chat", timeout=0.4)
    assert type(raised.value) is Timeout
    assert (await fake_deepseek.wait_for_disconnect_async()).fault == "trickle"


async def test_cancelling_a_call_closes_its_connection(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider
) -> None:
    fake_deepseek.hang_after_chunks = 1
    fake_deepseek.keepalive_interval_s = 0.02
    task = asyncio.ensure_future(call(provider, "chat"))
    record = await fake_deepseek.wait_for_request_async()
    await fake_deepseek.wait_until_async(lambda: record.chunks_sent == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await fake_deepseek.wait_for_disconnect_async()) is record


def test_idle_gap_is_half_the_deadline_up_to_15_seconds() -> None:
    assert idle_gap(1.0) == 0.5 and idle_gap(120.0) == 15.0
    assert fim_request(timeout=8.0).idle == 4.0
    assert ChatRequest(model=PRO, messages=[], max_tokens=1, idle_timeout=2.0).idle == 2.0


async def test_deadlines_touch_moves_the_idle_gap_never_past_the_total() -> None:
    loop = asyncio.get_running_loop()
    async with Deadlines(total=30.0, idle=1.0) as deadlines:
        total_at = deadlines.when()
        assert total_at >= loop.time() + 29  # before the answer starts: the total deadline only
        deadlines.touch()
        assert deadlines.when() <= loop.time() + 1.0
    async with Deadlines(total=0.5, idle=10.0) as deadlines:
        total_at = deadlines.when()
        deadlines.touch()
        assert deadlines.when() == total_at
    forever = asyncio.Event()
    with pytest.raises(Timeout) as raised:
        async with Deadlines(total=0.05, idle=1.0) as deadlines:
            deadlines.touch()
            await forever.wait()
    assert type(raised.value) is Timeout
    with pytest.raises(Stalled):
        async with Deadlines(total=30.0, idle=0.05) as deadlines:
            deadlines.touch()
            await forever.wait()


# -- the stream reader on its own ----------------------------------------------------------------


def test_sse_decoder_splits_events_anywhere_and_skips_comments() -> None:
    body = b': keep-alive\r\n\r\ndata: {"a": 1}\r\n\r\n\n\ndata: x\ndata: y\r\rdata: [DONE]\n\n'
    for size in (1, 2, 3, len(body)):
        decoder = SSEDecoder()
        found = [e for i in range(0, len(body), size) for e in decoder.feed(body[i : i + size])]
        assert found == ['{"a": 1}', "x\ny", "[DONE]"], size


def test_sse_decoder_refuses_what_is_not_an_event_stream() -> None:
    with pytest.raises(Malformed, match="UTF-8"):
        SSEDecoder().feed(b"data: \xff\n\n")
    with pytest.raises(Malformed, match="longer than"):
        SSEDecoder().feed(b"x" * (MAX_LINE_BYTES + 1))
    assert SSEDecoder().feed(b'data: {"unfinished": true}\n') == []  # no blank line: not an event yet


async def test_events_stop_at_done_and_remember_it() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'data: {"n": 1}\n\ndata: [DONE]\n\n'
        yield b"data: ignored\n\n"

    events = Events(body())
    assert [chunk async for chunk in events.chunks()] == [{"n": 1}] and events.done

    async def cut() -> AsyncIterator[bytes]:
        yield b'data: {"n": 1}\n\n'

    events = Events(cut())
    assert [chunk async for chunk in events.chunks()] == [{"n": 1}] and not events.done


@pytest.mark.parametrize(
    ("fold", "chunk"),
    [
        (fold_fim, [1, 2]),
        (fold_fim, {"choices": "text"}),
        (fold_fim, {"choices": ["text"]}),
        (fold_fim, {"choices": [{"text": 42}]}),
        (fold_fim, {"id": 7, "choices": []}),
        (fold_chat, {"choices": [{"delta": "x"}]}),
        (fold_chat, {"choices": [{"delta": {"content": ["x"]}}]}),
        (fold_chat, {"choices": [{"delta": {}, "finish_reason": 1}]}),
        (fold_chat, {"choices": [], "usage": "lots"}),
        (fold_chat, {"choices": [], "usage": {"prompt_tokens": "many"}}),
    ],
)
def test_chunks_not_shaped_like_deepseeks_are_malformed(
    fold: Callable[[object, CallTrace], bool], chunk: object
) -> None:
    with pytest.raises(Malformed):
        fold(chunk, CallTrace())


def test_an_error_event_mid_stream_is_an_error() -> None:
    with pytest.raises(Unavailable, match="mid-answer \\(model overloaded\\)"):
        fold_fim({"error": {"message": "model overloaded"}}, CallTrace())


def test_only_chunks_that_carry_something_count() -> None:
    trace = CallTrace()
    assert not fold_chat({"id": "r1", "choices": [{"delta": {"role": "assistant", "content": ""}}]}, trace)
    assert fold_chat({"choices": [{"delta": {"reasoning_content": "hm"}}]}, trace)
    assert fold_chat({"choices": [{"delta": {}, "finish_reason": "stop"}]}, trace)
    assert fold_chat({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}, trace)
    assert (trace.request_id, trace.reasoning, trace.finish_reason) == ("r1", "hm", "stop")
    assert trace.usage is not None and trace.usage.prompt_tokens == 3


# -- mapping and sanitising ----------------------------------------------------------------------


def test_anything_unexpected_maps_to_internal_with_the_key_scrubbed() -> None:
    error = map_error(RuntimeError("boom near sk-abcdef123456"), key="sk-abcdef123456")
    assert isinstance(error, Internal) and "boom" in error.message and "sk-abcdef123456" not in error.message
    assert isinstance(map_error(json.JSONDecodeError("x", "{", 0)), Malformed)
    sdk_error = openai.APIError("stream error", request=None, body=None)  # type: ignore[arg-type]
    assert isinstance(map_error(sdk_error), Unavailable)
    assert isinstance(map_error(ConnectionResetError(104, "reset")), ConnectionFailed)


def test_lone_surrogates_become_replacement_characters_before_sending() -> None:
    assert sendable("plain text") == "plain text"
    assert sendable('x = "\ud800"') == 'x = "\ufffd"'
    assert sendable("\ud83d\ude00") == "\U0001f600"  # a split pair is joined again
    fim = fim_body(FimRequest(model=FLASH, prompt="a\udc00", suffix="\ud800b", max_tokens=8, stop=["\udfff"]))
    assert (fim["prompt"], fim["suffix"], fim["stop"]) == ("a\ufffd", "\ufffdb", ["\ufffd"])
    chat = chat_body(ChatRequest(model=PRO, messages=[{"role": "user", "content": "\udbff?"}], max_tokens=8))
    assert chat["messages"] == [{"role": "user", "content": "\ufffd?"}]
    json.dumps(fim, ensure_ascii=False).encode("utf-8")  # what the SDK does with it


async def test_a_document_with_surrogates_reaches_the_api(
    fake_deepseek: FakeDeepSeek, provider: DeepSeekProvider
) -> None:
    request = fim_request()
    request.prompt = 'x = "\ud800"\n' + request.prompt
    assert await provider.fim(request, CallTrace())
    assert fake_deepseek.requests[-1].body["prompt"].startswith('x = "\ufffd"\n')


# -- the error gate ------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_pause_reports_its_cause_and_when_it_ends() -> None:
    clock = _Clock()
    gate = ErrorGate(balance_pause=60, rate_limit_pause=2, clock=clock)
    assert gate.pause_ends_in() is None
    balance = InsufficientBalance("402")
    gate.observe(balance)
    assert gate.blocked_by() is balance and balance.kind == "insufficient_balance"
    assert gate.pause_ends_in() == 60
    clock.now += 59
    assert gate.pause_ends_in() == 1
    clock.now += 1
    assert gate.blocked_by() is None and gate.pause_ends_in() is None

    limited = RateLimited("429", retry_after=5)
    gate.observe(limited)
    assert gate.blocked_by() is limited and gate.pause_ends_in() == 5
    gate.succeeded()
    assert gate.blocked_by() is None and gate.pause_ends_in() is None

    gate.observe(AuthFailed("401"))
    assert gate.pause_ends_in() is None  # not a timed pause: until the key changes


@pytest.mark.parametrize(
    "error", [Malformed("x"), Truncated("x"), Stalled("x"), ConnectionFailed("x"), Internal("x")]
)
def test_new_kinds_never_pause_and_are_announced_once(error: ProviderError) -> None:
    gate = ErrorGate()
    assert gate.observe(error) is True and gate.observe(error) is False
    assert gate.blocked_by() is None and gate.pause_ends_in() is None
    assert error.user_message().startswith("flashpro: x. ") and not error.fatal
