"""Reading one streamed answer: SSE events, the JSON chunks in them, and the call's deadlines.

The SDK's own stream hides what this module must see, so the body is read here:

- `SSEDecoder` splits a `text/event-stream` body into the `data` of each event. Comments
  (DeepSeek's `: keep-alive`), blank lines and other fields are skipped; an event the body
  ends in the middle of is dropped (as the SSE standard says); a line longer than
  `MAX_LINE_BYTES` or bytes that are not UTF-8 are `Malformed`.
- `Events` yields each event's JSON until `data: [DONE]` and remembers whether it came
  (a stream that ends without it was cut short); JSON that does not parse is `Malformed`.
- `fold_fim` / `fold_chat` fold a chunk into the `CallTrace`, reject anything not shaped like
  DeepSeek's chunks, turn an `{"error": ...}` event into a provider error, and say whether
  the chunk carried anything (text, reasoning, a finish reason or usage).
- `Deadlines` keeps the total deadline, fixed at the start, and the idle gap, re-armed by
  `touch()` after each chunk that carried something. Keep-alives and trickling bytes that
  never complete an event extend neither; when one passes, the task is cancelled (which
  closes the HTTP connection) and `Timeout` or `Stalled` is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Any

from flashpro.providers.errors import Malformed, ProviderError, Stalled, Timeout, Unavailable
from flashpro.providers.trace import CallTrace
from flashpro.usage import Usage

__all__ = ["MAX_LINE_BYTES", "Deadlines", "Events", "SSEDecoder", "fold_chat", "fold_fim"]

MAX_LINE_BYTES = 8 * 1024 * 1024
"""A single SSE line longer than this is not DeepSeek talking."""

_DRAIN_S = 0.1
"""After `data: [DONE]`, how long to wait for the end of the body (so the connection is reused)."""

_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSEDecoder:
    """Incremental `text/event-stream` decoding: `feed` returns the `data` of each finished event."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        """Take more bytes; returns the data of every event they complete."""
        self._buffer += chunk
        events: list[str] = []
        start = 0
        while (end := _LINE_END.search(self._buffer, start)) is not None:
            if end.group() == b"\r" and end.end() == len(self._buffer):
                break  # maybe the first half of a CRLF split across chunks
            self._line(bytes(self._buffer[start : end.start()]), events)
            start = end.end()
        del self._buffer[:start]
        if len(self._buffer) > MAX_LINE_BYTES:
            raise Malformed(f"DeepSeek sent an event-stream line longer than {MAX_LINE_BYTES} bytes")
        return events

    def _line(self, raw: bytes, events: list[str]) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("DeepSeek sent an event stream that is not UTF-8") from None
        if not line:
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
            return
        if line.startswith(":"):
            return  # a comment: `: keep-alive`
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)


class Events:
    """The JSON chunks of one event-stream body; `done` tells whether `data: [DONE]` ended it."""

    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self._body = body
        self.done = False

    async def chunks(self) -> AsyncGenerator[Any, None]:
        """Each `data:` payload, parsed, until `data: [DONE]` or the end of the body."""
        decoder = SSEDecoder()
        async for raw in self._body:
            for data in decoder.feed(raw):
                if data.strip() == "[DONE]":
                    self.done = True
                    await self._drain()
                    return
                yield _parse(data)

    async def _drain(self) -> None:
        """Read what little follows `[DONE]`, so the connection goes back to the pool."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_DRAIN_S):
                async for _ in self._body:
                    pass


def _parse(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise Malformed(f"DeepSeek sent a stream event that is not JSON ({_excerpt(data)})") from None


def _excerpt(text: str, limit: int = 40) -> str:
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string"}


def _field(obj: dict[str, Any], name: str, kind: Any) -> Any:
    """`obj[name]` if present and not null; Malformed when it has the wrong type."""
    value = obj.get(name)
    if value is not None and not isinstance(value, kind):
        raise Malformed(f"DeepSeek sent a stream chunk whose `{name}` is not {_TYPE_NAMES[kind]}")
    return value


def _fold(chunk: Any, trace: CallTrace, chat: bool) -> bool:
    """Fold one chunk into `trace`; returns whether it carried anything."""
    if not isinstance(chunk, dict):
        shown = _excerpt(json.dumps(chunk))
        raise Malformed(f"DeepSeek sent a stream chunk that is not an object ({shown})")
    error = chunk.get("error")
    if error is not None:
        raise _stream_error(error)
    trace.request_id = trace.request_id or _field(chunk, "id", str)
    trace.model_reported = _field(chunk, "model", str) or trace.model_reported
    carried = False
    for choice in _field(chunk, "choices", list) or ():
        if not isinstance(choice, dict):
            raise Malformed("DeepSeek sent a stream chunk whose choice is not an object")
        if chat:
            delta = _field(choice, "delta", dict) or {}
            text, reasoning = _field(delta, "content", str), _field(delta, "reasoning_content", str)
        else:
            text, reasoning = _field(choice, "text", str), None
        if (text or reasoning) and trace.first_token_at is None:
            trace.first_token_at = time.monotonic()
        if text:
            trace.parts.append(text)
        if reasoning:
            trace.reasoning_parts.append(reasoning)
        finish = _field(choice, "finish_reason", str)
        if finish:
            trace.finish_reason = finish
        carried = carried or bool(text or reasoning or finish)
    usage = _field(chunk, "usage", dict)
    if usage is not None:
        try:
            trace.usage = Usage.from_api(usage)
        except (TypeError, ValueError, AttributeError):
            raise Malformed("DeepSeek sent a usage report flashpro cannot read") from None
        carried = True
    return carried


def fold_fim(chunk: Any, trace: CallTrace) -> bool:
    """Fold a streamed completion chunk (`choices[].text`) into `trace`; True if it carried anything."""
    return _fold(chunk, trace, chat=False)


def fold_chat(chunk: Any, trace: CallTrace) -> bool:
    """Fold a streamed chat chunk (content, reasoning) into `trace`; True if it carried anything."""
    return _fold(chunk, trace, chat=True)


def _stream_error(error: Any) -> ProviderError:
    """An `{"error": ...}` event in the middle of a stream."""
    message = error.get("message") if isinstance(error, dict) else error
    text = message if isinstance(message, str) and message else "no details"
    return Unavailable(f"DeepSeek reported an error mid-answer ({text[:200]})")


class Deadlines:
    """`async with Deadlines(total, idle) as deadlines:` bounds a call in time.

    The total deadline holds from entry; `touch()` (after a chunk that carried something) moves
    the deadline to `idle` seconds from now, never past the total one. On expiry the body is
    cancelled and `Timeout` (total) or `Stalled` (idle gap) is raised instead of TimeoutError.
    """

    def __init__(self, total: float, idle: float) -> None:
        self._total = total
        self._idle = min(idle, total)
        self._total_at = 0.0
        self._scope: asyncio.Timeout | None = None

    async def __aenter__(self) -> Deadlines:
        self._total_at = asyncio.get_running_loop().time() + self._total
        self._scope = asyncio.timeout_at(self._total_at)
        await self._scope.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._scope is not None
        stalled = (self._scope.when() or self._total_at) < self._total_at
        try:
            await self._scope.__aexit__(exc_type, exc, tb)
        except TimeoutError:
            if stalled:
                raise Stalled(f"DeepSeek stopped sending mid-answer (nothing for {self._idle:g} s)") from None
            raise Timeout(f"DeepSeek did not answer in time ({self._total:g} s)") from None

    def when(self) -> float:
        """The event-loop time at which the call is cut off, as things stand."""
        assert self._scope is not None
        return self._scope.when() or self._total_at

    def touch(self) -> None:
        """Something arrived: the idle gap starts again (the total deadline stays)."""
        if self._scope is not None:
            now = asyncio.get_running_loop().time()
            self._scope.reschedule(min(self._total_at, now + self._idle))
