"""Request validation for the fake DeepSeek server: JSON body -> typed parameters or `ApiError`.

Owns which requests DeepSeek refuses and with which status: 422 for fields of the wrong
type or out of range (FIM `max_tokens` over the 4K cap, more than 16 `stop` strings, `logprobs`
over 20, ...), 400 for an unknown model ("Model Not Exist"), JSON Output without the word
"json" in the prompt, unsupported `response_format` types and prefix completion outside beta.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tests.fakes.model import is_prefix_message, message_text

__all__ = ["ApiError", "ChatParams", "FimParams", "parse_chat", "parse_fim"]

FIM_MAX_TOKENS = 4096
CHAT_MAX_TOKENS = 384 * 1024
CHAT_DEFAULT_MAX_TOKENS = 32 * 1024
MAX_STOP = 16
MAX_LOGPROBS = 20
ROLES = frozenset({"system", "user", "assistant", "tool"})
_DESERIALIZE = "Failed to deserialize the JSON body"


class ApiError(Exception):
    """A refusal: HTTP status plus the message for the DeepSeek-like error body."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param


@dataclass(frozen=True, slots=True)
class FimParams:
    model: str
    prompt: str
    suffix: str | None
    max_tokens: int
    stop: list[str]
    stream: bool
    include_usage: bool
    echo: bool
    logprobs: int | None


@dataclass(frozen=True, slots=True)
class ChatParams:
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int
    stop: list[str]
    stream: bool
    include_usage: bool
    thinking: bool
    json_mode: bool
    reasoning_effort: str | None
    prefix: bool


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, f"{_DESERIALIZE}: expected an object")
    return body


def _model(body: dict[str, Any], models: Collection[str]) -> str:
    model = body.get("model")
    if not isinstance(model, str):
        raise ApiError(422, f"{_DESERIALIZE}: missing field `model`", "model")
    if model not in models:
        raise ApiError(400, "Model Not Exist", "model")
    return model


def _int(body: dict[str, Any], name: str, lo: int, hi: int, default: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ApiError(422, f"Invalid {name} value, the valid range of {name} is [{lo}, {hi}]", name)
    return value


def _number(body: dict[str, Any], name: str, lo: float, hi: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ApiError(422, f"Invalid {name} value, the valid range of {name} is [{lo}, {hi}]", name)


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(422, f"{_DESERIALIZE}: `{name}` must be a boolean", name)
    return value


def _stop(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise ApiError(422, f"{_DESERIALIZE}: `stop` must be a string or a list", "stop")
    if len(stop) > MAX_STOP:
        raise ApiError(422, f"Invalid stop: at most {MAX_STOP} stop sequences", "stop")
    return list(stop)


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise ApiError(422, f"{_DESERIALIZE}: `stream_options`", "stream_options")
    return bool(options.get("include_usage"))


def _sampling(body: dict[str, Any]) -> None:
    _number(body, "temperature", 0.0, 2.0)
    _number(body, "top_p", 0.0, 1.0)


def parse_fim(body: Any, *, models: Collection[str], max_tokens_cap: int = FIM_MAX_TOKENS) -> FimParams:
    """Validate a `POST /beta/completions` body."""
    body = _require_object(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise ApiError(422, f"{_DESERIALIZE}: `prompt` must be a string", "prompt")
    suffix = body.get("suffix")
    if suffix is not None and not isinstance(suffix, str):
        raise ApiError(422, f"{_DESERIALIZE}: `suffix` must be a string", "suffix")
    model = _model(body, models)
    _sampling(body)
    max_tokens = _int(body, "max_tokens", 1, max_tokens_cap, max_tokens_cap)
    assert max_tokens is not None
    return FimParams(
        model=model,
        prompt=prompt,
        suffix=suffix,
        max_tokens=max_tokens,
        stop=_stop(body),
        stream=_bool(body, "stream"),
        include_usage=_include_usage(body),
        echo=_bool(body, "echo"),
        logprobs=_int(body, "logprobs", 0, MAX_LOGPROBS, None),
    )


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(422, f"{_DESERIALIZE}: `messages` must be a non-empty list", "messages")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ApiError(422, f"{_DESERIALIZE}: unknown variant in `messages`", "messages")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise ApiError(422, f"{_DESERIALIZE}: invalid `content`", "messages")
    return messages


def _thinking(body: dict[str, Any], default: bool) -> bool:
    thinking = body.get("thinking")
    if thinking is None:
        return default
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in ("enabled", "disabled"):
        raise ApiError(422, f"{_DESERIALIZE}: `thinking.type`", "thinking")
    return kind == "enabled"


def _json_mode(body: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
    response_format = body.get("response_format")
    if response_format is None:
        return False
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return False
    if kind != "json_object":
        raise ApiError(400, "This response_format type is unavailable now", "response_format")
    if not any("json" in message_text(m.get("content")).lower() for m in messages):
        raise ApiError(
            400,
            "Prompt must contain the word 'json' in some form to use 'response_format' of type "
            "'json_object'.",
            "response_format",
        )
    return True


def parse_chat(
    body: Any,
    *,
    models: Collection[str],
    beta: bool,
    thinking_default: bool = True,
    max_tokens_cap: int = CHAT_MAX_TOKENS,
) -> ChatParams:
    """Validate a `POST /chat/completions` body (`beta`: it came in under `/beta`)."""
    body = _require_object(body)
    messages = _messages(body)
    model = _model(body, models)
    _sampling(body)
    prefix = is_prefix_message(messages[-1])
    if prefix and not beta:
        raise ApiError(400, "Prefix completion is only available on the beta endpoint", "messages")
    effort = body.get("reasoning_effort")
    if effort is not None and not isinstance(effort, str):
        raise ApiError(422, f"{_DESERIALIZE}: `reasoning_effort`", "reasoning_effort")
    max_tokens = _int(body, "max_tokens", 1, max_tokens_cap, min(CHAT_DEFAULT_MAX_TOKENS, max_tokens_cap))
    assert max_tokens is not None
    return ChatParams(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        stop=_stop(body),
        stream=_bool(body, "stream"),
        include_usage=_include_usage(body),
        thinking=_thinking(body, thinking_default),
        json_mode=_json_mode(body, messages),
        reasoning_effort=effort,
        prefix=prefix,
    )
