"""What a model call asks for: the request records, their deadlines and their wire form.

`FimRequest` / `ChatRequest` are filled in by the services; `fim_body` / `chat_body` turn
them into the SDK's keyword arguments (always streaming, with usage). Every text on its way
out passes `sendable`: a document may hold lone UTF-16 surrogates (an editor sends them as
`"\\ud800"` in JSON and Python keeps them), which UTF-8 cannot encode; they become U+FFFD,
which is also how the tokenizer counts them, and a split surrogate pair is joined again.

Each request has two deadlines: `timeout`, the most the whole call may take (keep-alives do
not extend it), and the idle gap, the longest silence allowed once the answer has started
(`idle_timeout`, by default `idle_gap(timeout)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_IDLE_GAP_S", "ChatRequest", "FimRequest", "chat_body", "fim_body", "idle_gap", "sendable"]

MAX_IDLE_GAP_S = 15.0
"""The idle gap never exceeds this: a healthy stream sends tokens many times a second."""


def idle_gap(timeout: float) -> float:
    """The default idle gap of a call with total deadline `timeout`: half of it, at most 15 s."""
    return min(timeout / 2, MAX_IDLE_GAP_S)


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
    idle_timeout: float | None = None

    @property
    def idle(self) -> float:
        """The idle gap this call allows once its answer has started."""
        return self.idle_timeout if self.idle_timeout is not None else idle_gap(self.timeout)


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
    idle_timeout: float | None = None

    @property
    def idle(self) -> float:
        """The idle gap this call allows once its answer has started."""
        return self.idle_timeout if self.idle_timeout is not None else idle_gap(self.timeout)


def sendable(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD (unchanged, and not copied, when valid)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def fim_body(request: FimRequest) -> dict[str, Any]:
    """The SDK arguments of a streamed FIM call."""
    body: dict[str, Any] = {
        "model": request.model,
        "prompt": sendable(request.prompt),
        "suffix": sendable(request.suffix),
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
        "timeout": request.timeout,
    }
    if request.stop:
        body["stop"] = [sendable(stop) for stop in list(request.stop)[:16]]
    return body


def chat_body(request: ChatRequest) -> dict[str, Any]:
    """The SDK arguments of a streamed chat call. Thinking is switched explicitly either way,
    so the model's default never decides the bill."""
    extra: dict[str, Any] = {"thinking": {"type": "enabled" if request.thinking else "disabled"}}
    if request.thinking and request.reasoning_effort:
        extra["reasoning_effort"] = request.reasoning_effort
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [
            {key: sendable(value) if isinstance(value, str) else value for key, value in message.items()}
            for message in request.messages
        ],
        "max_tokens": request.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
        "timeout": request.timeout,
        "extra_body": extra,
    }
    if request.json_output:
        body["response_format"] = {"type": "json_object"}
    return body
