"""The DeepSeek client: FIM and chat through the `openai` SDK, normalised results and errors.

This is the only module that talks to the network, and the one boundary where failures are
mapped: whatever goes wrong in a call (an HTTP status, a refused or broken connection, a body
or stream that is not DeepSeek's JSON, a stream cut short, a deadline) leaves as an error of
the tree in `providers.errors`, never as anything else; a call that failed never returns a
partial answer. The SDK sends the request and maps statuses; the streamed body is read by
`providers.stream`, which sees keep-alives, `[DONE]` and malformed events the SDK hides.

Each call fills a `CallTrace` as it goes, so the caller can record a ledger row even when the
call is cancelled or fails half way. `asyncio.CancelledError` is never swallowed: cancelling
the awaiting task closes the HTTP connection, which is how the editor's `$/cancelRequest`
reaches DeepSeek; the call's deadlines (`providers.request`) close it the same way.

The real API and the fake test server differ only in the base URL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import ssl
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import httpx2
import openai
from openai import AsyncOpenAI

from flashpro.config import beta_url
from flashpro.providers.errors import (
    AuthFailed,
    BadRequest,
    ConnectionFailed,
    InsufficientBalance,
    Internal,
    Malformed,
    MissingKey,
    Overloaded,
    ProviderError,
    RateLimited,
    Timeout,
    Truncated,
    Unavailable,
)
from flashpro.providers.request import ChatRequest, FimRequest, chat_body, fim_body
from flashpro.providers.stream import Deadlines, Events, fold_chat, fold_fim
from flashpro.providers.trace import CallTrace

__all__ = ["CallTrace", "ChatRequest", "DeepSeekProvider", "FimRequest", "map_error", "redact"]

logger = logging.getLogger(__name__)

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*]{4,}")
_MODELS_TIMEOUT_S = 10.0
_BODY_EXCERPT_BYTES = 4096


def redact(text: str, key: str | None = None) -> str:
    """Remove anything that looks like an API key from a message before it is shown or logged."""
    if key:
        text = text.replace(key, "sk-***")
    return _KEY_LIKE.sub("sk-***", text)


def _error_message(exc: openai.APIStatusError) -> str:
    """DeepSeek's own error message from a status error body, else the SDK's."""
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
    return str(exc.message or exc)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds from a Retry-After header, if the server sent one."""
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _status_error(exc: openai.APIStatusError, key: str | None) -> ProviderError:
    status = exc.status_code
    detail = redact(_error_message(exc), key)
    if status in (401, 403):
        return AuthFailed(f"DeepSeek rejected the API key ({status}: {detail})", status=status)
    if status == 402:
        return InsufficientBalance(f"DeepSeek account balance is insufficient ({detail})", status=status)
    if status == 429:
        return RateLimited(f"DeepSeek rate limit ({detail})", status=status, retry_after=_retry_after(exc))
    if status == 503:
        return Overloaded(f"DeepSeek server error {status} ({detail})", status=status)
    if status >= 500:
        return Unavailable(f"DeepSeek server error {status} ({detail})", status=status)
    return BadRequest(f"DeepSeek refused the request ({status}: {detail})", status=status)


def map_error(exc: BaseException, key: str | None = None) -> ProviderError:
    """Map any exception raised while calling DeepSeek to the provider error tree (messages
    scrubbed of keys). What is not a known SDK, transport or wire failure is `Internal`."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return Timeout("DeepSeek did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ConnectionFailed(redact(f"cannot reach DeepSeek ({exc.__cause__ or exc})", key))
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, key)
    if isinstance(exc, httpx2.DecodingError | json.JSONDecodeError | UnicodeDecodeError):
        return Malformed(redact(f"DeepSeek sent a body flashpro cannot read ({exc})", key))
    if isinstance(exc, httpx2.RequestError | ssl.SSLError | anyio.EndOfStream | ConnectionError):
        detail = str(exc) or type(exc).__name__
        return ConnectionFailed(redact(f"the connection to DeepSeek broke ({detail})", key))
    if isinstance(exc, openai.OpenAIError):
        return Unavailable(redact(f"DeepSeek call failed ({exc})", key))
    logger.debug("unexpected error in a DeepSeek call", exc_info=exc)
    return Internal(redact(f"flashpro failed while calling DeepSeek ({type(exc).__name__}: {exc})", key))


class DeepSeekProvider:
    """FIM and chat calls against DeepSeek (or anything that speaks its API)."""

    def __init__(self, api_key: str | None, base_url: str, *, chat_timeout: float = 120.0):
        self._key = api_key
        self.base_url = base_url
        self.beta_url = beta_url(base_url)
        self._chat_timeout = chat_timeout
        self._beta: AsyncOpenAI | None = None
        self._main: AsyncOpenAI | None = None
        if api_key:
            # max_retries=0: no blind retries; the caller decides what a failure means.
            self._beta = AsyncOpenAI(api_key=api_key, base_url=self.beta_url, max_retries=0)
            self._main = AsyncOpenAI(
                api_key=api_key, base_url=base_url, max_retries=0, timeout=chat_timeout
            )

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured."""
        return self._key is not None

    def _client(self, beta: bool) -> AsyncOpenAI:
        client = self._beta if beta else self._main
        if client is None:
            raise MissingKey("no DeepSeek API key is configured")
        return client

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        for client in (self._beta, self._main):
            if client is not None:
                await client.close()

    async def list_models(self) -> list[str]:
        """Model ids this key may use (`GET /models`)."""
        client = self._client(beta=False)
        try:
            async with Deadlines(_MODELS_TIMEOUT_S, _MODELS_TIMEOUT_S):
                page = await client.models.list(timeout=_MODELS_TIMEOUT_S)
                return [model.id async for model in page]
        except Exception as exc:  # noqa: BLE001 - the one boundary: everything is mapped
            raise map_error(exc, self._key) from exc

    async def fim(
        self,
        request: FimRequest,
        trace: CallTrace,
        on_text: Callable[[str], bool] | None = None,
    ) -> str:
        """Stream a FIM completion into `trace`; return its text.

        `on_text` sees the accumulated text after each chunk that carried something and may
        return True to stop early (the connection is closed, so DeepSeek stops generating).
        """
        client = self._client(beta=True)

        def after() -> bool:
            return on_text is not None and bool(trace.parts) and on_text(trace.text)

        opened = client.completions.with_streaming_response.create(**fim_body(request))
        return await self._stream(opened, trace, fold_fim, after, request.timeout, request.idle)

    async def chat(
        self,
        request: ChatRequest,
        trace: CallTrace,
        on_delta: Callable[[CallTrace], None] | None = None,
    ) -> str:
        """Stream a chat completion into `trace` (content and reasoning); return the content.

        `on_delta` sees the trace after each chunk that carried something (progress reports).
        """
        client = self._client(beta=False)

        def after() -> bool:
            if on_delta is not None:
                on_delta(trace)
            return False

        opened = client.chat.completions.with_streaming_response.create(**chat_body(request))
        return await self._stream(opened, trace, fold_chat, after, request.timeout, request.idle)

    async def _stream(
        self,
        opened: AbstractAsyncContextManager[Any],
        trace: CallTrace,
        fold: Callable[[Any, CallTrace], bool],
        after: Callable[[], bool],
        total: float,
        idle: float,
    ) -> str:
        """Run one streaming call within its deadlines: each chunk is folded into `trace`,
        then `after()` may stop early (True). Ends complete or raises a provider error."""
        stopped = False
        events: Events | None = None
        try:
            async with Deadlines(total, idle) as deadlines, opened as response:
                events = Events(response.iter_bytes())
                await _expect_event_stream(response)
                async with contextlib.aclosing(events.chunks()) as chunks:
                    async for chunk in chunks:
                        if fold(chunk, trace):
                            deadlines.touch()
                            if after():
                                stopped = True
                                break
        except Exception as exc:  # noqa: BLE001 - the one boundary: everything is mapped
            raise map_error(exc, self._key) from exc
        finally:
            trace.finished_at = time.monotonic()
        if not stopped:
            assert events is not None
            _check_complete(trace, events.done)
        return trace.text


async def _expect_event_stream(response: Any) -> None:
    """A streamed call must answer with an event stream; anything else is `Malformed`."""
    content_type = str(response.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "text/event-stream":
        return
    head = b""
    with contextlib.suppress(Exception):
        async for raw in response.iter_bytes():
            head += raw
            if len(head) >= _BODY_EXCERPT_BYTES:
                break
    what = content_type or "no content type"
    text = redact(head[:60].decode("utf-8", "replace").strip())
    raise Malformed(f"DeepSeek answered with {what} instead of an event stream ({text!r})")


def _check_complete(trace: CallTrace, done: bool) -> None:
    """After the body ended: was this a whole answer? (Otherwise it must not be used.)"""
    if trace.finish_reason == "insufficient_system_resource":
        raise Overloaded("DeepSeek ran out of capacity mid-answer (insufficient_system_resource)")
    if not done:
        raise Truncated("DeepSeek's answer ended before its end-of-stream marker")
    if trace.usage is None:
        raise Truncated("DeepSeek's answer ended without its usage report")
