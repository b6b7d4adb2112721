"""Structured answers: a metered chat call whose JSON is validated, asked for once more if not.

DeepSeek's JSON Output mode (`response_format: json_object`) can still come back empty, fenced
or not matching the example. `ask_structured` validates each answer with the caller's `parse`
(pydantic, typically through `parse_json`); an answer that fails is recorded with outcome
`unusable` (billed, then thrown away) and asked for once more with the error appended after the
model's own answer. A second failure raises `Unusable`. Calls that end early (cancelled, or
failed mid-stream) get their usage estimated with the exact tokenizer when DeepSeek never sent it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flashpro.calls.info import CallInfo
from flashpro.calls.meter import Meter
from flashpro.providers import CallTrace, ChatRequest
from flashpro.tokens import count
from flashpro.usage import Usage

__all__ = [
    "CHAT_TEMPLATE_TOKENS",
    "Unusable",
    "ask_structured",
    "estimate_usage",
    "parse_json",
    "retry_message",
    "strip_fences",
]

CHAT_TEMPLATE_TOKENS = 8
"""Tokens the chat template adds around two messages (BOS, role markers, think switch)."""

Answer = TypeVar("Answer")
Messages = list[dict[str, str]]


class Unusable(Exception):
    """The model's answer failed validation twice; `str(exc)` is the last problem."""


def strip_fences(text: str) -> str:
    """The answer without a surrounding Markdown code fence."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        if body.rstrip().endswith("```"):
            body = body.rstrip()[:-3]
    return body.strip()


def parse_json(text: str, schema: type[BaseModel]) -> Any:
    """Validate a JSON answer against `schema`; raises ValueError with a message fit to send back
    to the model."""
    body = strip_fences(text)
    if not body:
        raise ValueError("the answer was empty")
    try:
        raw = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid json ({exc.msg} at character {exc.pos})") from exc
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ValueError(f"json does not match the example ({problems})") from exc


def retry_message(error: str) -> str:
    """What to say after an answer that did not validate (sent once)."""
    return (
        "That answer was not valid json for the task: "
        f"{error[:800]}\nAnswer again with only the json object, following the example."
    )


def estimate_usage(trace: CallTrace, messages: Messages) -> bool:
    """Usage for a call that ended before DeepSeek reported it: exact counts, all misses (the
    upper bound). Returns whether it estimated (False when DeepSeek's own usage had arrived)."""
    if trace.usage is not None:
        return False
    prompt = sum(count(m["content"]) for m in messages) + CHAT_TEMPLATE_TOKENS
    reasoning = count(trace.reasoning)
    trace.usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=reasoning + count(trace.text),
        cache_hit_tokens=0,
        cache_miss_tokens=prompt,
        reasoning_tokens=reasoning,
    )
    return True


async def ask_structured(
    meter: Meter,
    messages: Messages,
    *,
    call: Callable[[int, Messages], tuple[CallInfo, ChatRequest]],
    parse: Callable[[str], Answer],
    on_delta: Callable[[CallTrace], None] | None = None,
    announce: bool = False,
) -> tuple[Answer, int]:
    """Ask until `parse` accepts the answer (two tries); returns it and the attempt number.

    `call(attempt, messages)` builds each call's `CallInfo` and request. Raises `Unusable`,
    `ProviderError` or `asyncio.CancelledError` (each call recorded first)."""
    error = ""
    for attempt in (1, 2):
        if attempt == 2:
            messages = [*messages, {"role": "user", "content": retry_message(error)}]
        info, request = call(attempt, messages)
        answer: list[Any] = []

        def on_end(info: CallInfo, answer: list[Any] = answer, sent: Messages = messages) -> None:
            trace = info.trace
            if info.status == "ok":
                try:
                    answer.append(parse(trace.text))
                except ValueError as exc:
                    answer.append(exc)
                    info.outcome = "unusable"
            elif info.status == "cancelled" or trace.parts or trace.reasoning_parts:
                info.details["estimated"] = estimate_usage(trace, sent)

        text = await meter.chat(info, request, on_delta, announce=announce, on_end=on_end)
        if isinstance(answer[0], ValueError):
            error = str(answer[0])
            if attempt == 1:
                messages = [*messages, {"role": "assistant", "content": text or "(empty)"}]
            continue
        return answer[0], attempt
    raise Unusable(error)
