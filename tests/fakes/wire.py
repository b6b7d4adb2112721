"""JSON shapes the fake DeepSeek server puts on the wire.

Owns the exact bodies the `openai` SDK parses: `text_completion` (FIM) and `chat.completion`
objects, their stream chunks (`data: {...}` SSE events ending with `data: [DONE]`), DeepSeek's
`usage` block, DeepSeek-like error bodies and the model list. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from flashpro.usage import Usage

__all__ = [
    "DONE",
    "chat_body",
    "chat_chunk",
    "completion_body",
    "completion_chunk",
    "error_body",
    "fim_logprobs",
    "models_body",
    "new_id",
    "sse",
    "usage_body",
]

FINGERPRINT = "fp_fake_deepseek"
DONE = b"data: [DONE]\n\n"

# status -> (message, type); code is "invalid_request_error" like DeepSeek's own bodies.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Invalid request", "invalid_request_error"),
    401: ("Authentication Fails, Your api key is invalid", "authentication_error"),
    402: ("Insufficient Balance", "unknown_error"),
    404: ("Not Found", "invalid_request_error"),
    422: ("Invalid parameters", "invalid_request_error"),
    429: ("Rate Limit Reached", "rate_limit_error"),
    500: ("Server Error", "server_error"),
    503: ("Server Overloaded, please try again later", "server_error"),
}


def new_id() -> str:
    """A response id like DeepSeek's (a UUID)."""
    return str(uuid.uuid4())


def now() -> int:
    """`created` timestamp (seconds)."""
    return int(time.time())


def error_body(status: int, message: str | None = None, param: str | None = None) -> dict[str, Any]:
    """A DeepSeek-like error body: `{"error": {"message", "type", "param", "code"}}`."""
    fallback = ("Error", "server_error" if status >= 500 else "invalid_request_error")
    default, kind = _ERRORS.get(status, fallback)
    return {
        "error": {
            "message": message or default,
            "type": kind,
            "param": param,
            "code": "invalid_request_error",
        }
    }


def usage_body(
    *, prompt: int, hit: int, completion: int, reasoning: int | None = None
) -> dict[str, Any]:
    """DeepSeek's `usage`: hit + miss = prompt; cached_tokens = hit; reasoning when thinking."""
    counts = Usage(prompt, completion, hit, prompt - hit, reasoning or 0)
    return counts.to_api(reasoning=reasoning is not None)


def _envelope(rid: str, model: str, created: int, obj: str) -> dict[str, Any]:
    return {
        "id": rid,
        "object": obj,
        "created": created,
        "model": model,
        "system_fingerprint": FINGERPRINT,
    }


def completion_body(
    *,
    rid: str,
    model: str,
    created: int,
    text: str,
    finish_reason: str,
    usage: dict[str, Any],
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A non-stream FIM `text_completion`."""
    choice = {"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish_reason}
    return {**_envelope(rid, model, created, "text_completion"), "choices": [choice], "usage": usage}


def completion_chunk(
    *,
    rid: str,
    model: str,
    created: int,
    text: str | None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    include_usage: bool = False,
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A FIM stream chunk; `text=None` makes the usage-only chunk (`choices: []`)."""
    chunk = _envelope(rid, model, created, "text_completion")
    chunk["choices"] = (
        []
        if text is None
        else [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish_reason}]
    )
    if include_usage or usage is not None:
        chunk["usage"] = usage
    return chunk


def chat_body(
    *,
    rid: str,
    model: str,
    created: int,
    content: str,
    reasoning: str | None,
    finish_reason: str,
    usage: dict[str, Any],
) -> dict[str, Any]:
    """A non-stream `chat.completion`."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
    return {**_envelope(rid, model, created, "chat.completion"), "choices": [choice], "usage": usage}


def chat_chunk(
    *,
    rid: str,
    model: str,
    created: int,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    include_usage: bool = False,
) -> dict[str, Any]:
    """A `chat.completion.chunk`; `delta=None` makes the usage-only chunk (`choices: []`)."""
    chunk = _envelope(rid, model, created, "chat.completion.chunk")
    chunk["choices"] = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
    )
    if include_usage or usage is not None:
        chunk["usage"] = usage
    return chunk


def fim_logprobs(pieces: list[str], offset: int, top: int) -> dict[str, Any]:
    """A made-up legacy `logprobs` block over text pieces (the fake cannot decode tokens)."""
    offsets: list[int] = []
    for piece in pieces:
        offsets.append(offset)
        offset += len(piece)
    return {
        "tokens": list(pieces),
        "token_logprobs": [-0.01] * len(pieces),
        "top_logprobs": [{p: -0.01} for p in pieces] if top > 0 else None,
        "text_offset": offsets,
    }


def models_body(models: Iterable[str]) -> dict[str, Any]:
    """The `GET /models` list."""
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "owned_by": "deepseek"} for m in models],
    }


def sse(data: dict[str, Any]) -> bytes:
    """One SSE `data:` event."""
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def dumps(data: Any) -> bytes:
    """A JSON response body."""
    return json.dumps(data, ensure_ascii=False).encode()
