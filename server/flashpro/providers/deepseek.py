"""The DeepSeek client: FIM and chat through the `openai` SDK, normalised results and errors.

This is the only module that talks to the network. It returns text plus a `Usage` record
and maps every SDK exception to the tree in `providers.errors`. Each call fills a `CallTrace`
as it goes, so the caller can record a ledger row even when the call is cancelled or fails
half way. `asyncio.CancelledError` is never swallowed: cancelling the awaiting task closes
the HTTP connection, which is how the editor's `$/cancelRequest` reaches DeepSeek.

The real API and the fake test server differ only in the base URL.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import openai
from openai import AsyncOpenAI

from flashpro.config import beta_url
from flashpro.providers.errors import (
    AuthFailed,
    BadRequest,
    InsufficientBalance,
    MissingKey,
    ProviderError,
    RateLimited,
    Timeout,
    Unavailable,
)
from flashpro.usage import Usage

__all__ = ["CallTrace", "ChatRequest", "DeepSeekProvider", "FimRequest", "map_error", "redact"]

logger = logging.getLogger(__name__)

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*]{4,}")


def redact(text: str, key: str | None = None) -> str:
    """Remove anything that looks like an API key from a message before it is shown or logged."""
    if key:
        text = text.replace(key, "sk-***")
    return _KEY_LIKE.sub("sk-***", text)


@dataclass(slots=True)
class FimRequest:
    """One fill-in-the-middle request."""

    model: str
    prompt: str
    suffix: str
    max_tokens: int
    stop: Sequence[str] = ()
    temperature: float = 0.0
    timeout: float = 8.0


@dataclass(slots=True)
class ChatRequest:
    """One chat request (planner actions and quick edits)."""

    model: str
    messages: list[dict[str, str]]
    max_tokens: int
    thinking: bool = False
    reasoning_effort: str | None = None
    json_output: bool = False
    timeout: float = 120.0


@dataclass(slots=True)
class CallTrace:
    """What a call has produced so far; filled while streaming, read by the caller afterwards."""

    started: float = field(default_factory=time.monotonic)
    started_utc: datetime = field(default_factory=lambda: datetime.now(UTC))
    first_token_at: float | None = None
    finished_at: float | None = None
    parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    model_reported: str | None = None
    request_id: str | None = None
    finish_reason: str | None = None

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self.parts)

    @property
    def reasoning(self) -> str:
        """The reasoning text received so far (chat with thinking on)."""
        return "".join(self.reasoning_parts)

    @property
    def latency_first_ms(self) -> float | None:
        """Milliseconds from the start of the call to the first token, if one arrived."""
        if self.first_token_at is None:
            return None
        return (self.first_token_at - self.started) * 1000.0

    @property
    def latency_total_ms(self) -> float:
        """Milliseconds from the start of the call to its end (or to now, if unfinished)."""
        end = self.finished_at if self.finished_at is not None else time.monotonic()
        return (end - self.started) * 1000.0


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


def map_error(exc: BaseException, key: str | None = None) -> ProviderError:
    """Map an SDK exception to the provider error tree (messages scrubbed of keys)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return Timeout("DeepSeek did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return Unavailable(redact(f"cannot reach DeepSeek ({exc.__cause__ or exc})", key))
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = redact(_error_message(exc), key)
        if status in (401, 403):
            return AuthFailed(f"DeepSeek rejected the API key ({status}: {detail})", status=status)
        if status == 402:
            return InsufficientBalance(f"DeepSeek account balance is insufficient ({detail})", status=status)
        if status == 429:
            return RateLimited(f"DeepSeek rate limit ({detail})", status=status, retry_after=_retry_after(exc))
        if status >= 500:
            return Unavailable(f"DeepSeek server error {status} ({detail})", status=status)
        return BadRequest(f"DeepSeek refused the request ({status}: {detail})", status=status)
    return Unavailable(redact(f"unexpected error talking to DeepSeek: {exc!r}", key))


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
        try:
            page = await self._client(beta=False).models.list(timeout=10.0)
            return [model.id async for model in page]
        except ProviderError:
            raise
        except openai.OpenAIError as exc:
            raise map_error(exc, self._key) from exc

    async def fim(
        self,
        request: FimRequest,
        trace: CallTrace,
        on_text: Callable[[str], bool] | None = None,
    ) -> str:
        """Stream a FIM completion into `trace`; return its text.

        `on_text` sees the accumulated text after each chunk and may return True to stop early
        (the connection is closed, so DeepSeek stops generating).
        """
        client = self._client(beta=True)
        kwargs: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "suffix": request.suffix,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": request.timeout,
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)[:16]

        def absorb(chunk: Any) -> bool:
            self._absorb_fim_chunk(chunk, trace)
            return on_text is not None and bool(trace.parts) and on_text(trace.text)

        return await self._stream(client.completions.create(**kwargs), trace, absorb)

    async def chat(
        self,
        request: ChatRequest,
        trace: CallTrace,
        on_delta: Callable[[CallTrace], None] | None = None,
    ) -> str:
        """Stream a chat completion into `trace` (content and reasoning); return the content.

        `on_delta` sees the trace after each chunk (for progress reports). Thinking is switched
        explicitly either way, so the model's default never decides the bill.
        """
        client = self._client(beta=False)
        extra: dict[str, Any] = {"thinking": {"type": "enabled" if request.thinking else "disabled"}}
        if request.thinking and request.reasoning_effort:
            extra["reasoning_effort"] = request.reasoning_effort
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": request.timeout,
            "extra_body": extra,
        }
        if request.json_output:
            kwargs["response_format"] = {"type": "json_object"}

        def absorb(chunk: Any) -> bool:
            self._absorb_chat_chunk(chunk, trace)
            if on_delta is not None:
                on_delta(trace)
            return False

        return await self._stream(client.chat.completions.create(**kwargs), trace, absorb)

    async def _stream(
        self, create: Awaitable[Any], trace: CallTrace, absorb: Callable[[Any], bool]
    ) -> str:
        """Run a streaming call: each chunk goes to `absorb` (True stops early); SDK errors
        become provider errors; the trace records when it ended."""
        try:
            stream = await create
            async with stream:
                async for chunk in stream:
                    if absorb(chunk):
                        break
        except ProviderError:
            raise
        except openai.OpenAIError as exc:
            raise map_error(exc, self._key) from exc
        finally:
            trace.finished_at = time.monotonic()
        if trace.finish_reason == "insufficient_system_resource":
            raise Unavailable("DeepSeek ran out of capacity mid-answer")
        return trace.text

    @staticmethod
    def _absorb_chat_chunk(chunk: Any, trace: CallTrace) -> None:
        """Fold one streamed chat chunk (content, reasoning, usage) into the trace."""

        def pieces(choice: Any) -> tuple[str, str]:
            delta = getattr(choice, "delta", None)
            return getattr(delta, "content", None) or "", getattr(delta, "reasoning_content", None) or ""

        _absorb(chunk, trace, pieces)

    @staticmethod
    def _absorb_fim_chunk(chunk: Any, trace: CallTrace) -> None:
        """Fold one streamed completion chunk into the trace."""
        _absorb(chunk, trace, lambda choice: (getattr(choice, "text", None) or "", ""))


def _absorb(chunk: Any, trace: CallTrace, pieces: Callable[[Any], tuple[str, str]]) -> None:
    """Fold a streamed chunk into the trace: ids, (text, reasoning) of each choice, usage."""
    trace.request_id = trace.request_id or getattr(chunk, "id", None)
    trace.model_reported = getattr(chunk, "model", None) or trace.model_reported
    for choice in getattr(chunk, "choices", None) or ():
        text, reasoning = pieces(choice)
        if (text or reasoning) and trace.first_token_at is None:
            trace.first_token_at = time.monotonic()
        if text:
            trace.parts.append(text)
        if reasoning:
            trace.reasoning_parts.append(reasoning)
        if getattr(choice, "finish_reason", None):
            trace.finish_reason = choice.finish_reason
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        trace.usage = Usage.from_api(usage)
