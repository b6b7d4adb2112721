"""Turning a validated request into the fake's reply: tokens, cache hit, answer, usage, payload.

Owns the per-endpoint recipe: lay the prompt out as tokens (`model`), ask the account's
`PromptCache` for the hit (storing the input's units), take the scripted answer, shape it
with `stop` / `max_tokens`, count usage, and build the non-stream body or the SSE events
(`wire`). Delivery (latency, sockets) is the server's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes import wire
from tests.fakes.cache_model import PromptCache
from tests.fakes.model import (
    Script,
    Shaped,
    chat_output_tokens,
    chat_tokens,
    fim_output_tokens,
    fim_tokens,
    shape,
    split_chunks,
)
from tests.fakes.validate import ChatParams, FimParams

__all__ = ["Reply", "chat_reply", "fim_reply"]


@dataclass(slots=True)
class Reply:
    """A computed answer, ready to deliver."""

    body: dict[str, Any] | None
    """The JSON body (non-stream), None for a stream."""
    events: list[bytes]
    """Stream: SSE events, ending with `data: [DONE]`."""
    usage: dict[str, Any]
    text: str
    reasoning: str | None
    finish_reason: str
    miss_tokens: int
    cache: PromptCache | None
    cache_sequence: list[int]
    """Input + output tokens, for cache unit (b) once the reply was delivered."""

    @property
    def stream(self) -> bool:
        return self.body is None


def _hit(cache: PromptCache | None, tokens: list[int]) -> int:
    return cache.on_input(tokens).hit_tokens if cache is not None else 0


def _ids(model: str, prefix: str = "") -> dict[str, Any]:
    return {"rid": prefix + wire.new_id(), "model": model, "created": wire.now()}


def fim_reply(params: FimParams, body: dict[str, Any], script: Script, cache: PromptCache | None) -> Reply:
    """The reply to a FIM request."""
    tokens = fim_tokens(params.prompt, params.suffix)
    hit = _hit(cache, tokens)
    shaped = shape(script.next(body), stop=params.stop, max_tokens=params.max_tokens)
    usage = wire.usage_body(prompt=len(tokens), hit=hit, completion=shaped.completion_tokens)
    text = params.prompt + shaped.text if params.echo else shaped.text
    ids = _ids(params.model, "cmpl-")
    payload, events = None, []
    if params.stream:
        events = _fim_events(ids, text, shaped.finish_reason, params, usage)
    else:
        top = params.logprobs
        logprobs = wire.fim_logprobs(split_chunks(text), 0, top) if top is not None else None
        payload = wire.completion_body(
            **ids, text=text, finish_reason=shaped.finish_reason, usage=usage, logprobs=logprobs
        )
    return Reply(
        body=payload,
        events=events,
        usage=usage,
        text=text,
        reasoning=None,
        finish_reason=shaped.finish_reason,
        miss_tokens=len(tokens) - hit,
        cache=cache,
        cache_sequence=tokens + fim_output_tokens(shaped),
    )


def _fim_events(
    ids: dict[str, Any], text: str, finish_reason: str, params: FimParams, usage: dict[str, Any]
) -> list[bytes]:
    pieces = split_chunks(text)
    events: list[bytes] = []
    offset = 0
    for i, piece in enumerate(pieces):
        top = params.logprobs
        chunk = wire.completion_chunk(
            **ids,
            text=piece,
            finish_reason=finish_reason if i == len(pieces) - 1 else None,
            include_usage=params.include_usage,
            logprobs=wire.fim_logprobs([piece], offset, top) if top is not None else None,
        )
        offset += len(piece)
        events.append(wire.sse(chunk))
    if params.include_usage:
        events.append(wire.sse(wire.completion_chunk(**ids, text=None, usage=usage)))
    return [*events, wire.DONE]


def chat_reply(
    params: ChatParams,
    body: dict[str, Any],
    script: Script,
    cache: PromptCache | None,
    default_reasoning: str,
) -> Reply:
    """The reply to a chat request (reasoning only when thinking is on)."""
    tokens = chat_tokens(body, thinking=params.thinking)
    hit = _hit(cache, tokens)
    answer = script.next(body)
    reasoning = (answer.reasoning or default_reasoning) if params.thinking else None
    shaped = shape(answer, stop=params.stop, max_tokens=params.max_tokens, reasoning=reasoning)
    usage = wire.usage_body(
        prompt=len(tokens),
        hit=hit,
        completion=shaped.completion_tokens,
        reasoning=len(shaped.reasoning_tokens) if params.thinking else None,
    )
    ids = _ids(params.model)
    payload, events = None, []
    if params.stream:
        events = _chat_events(ids, shaped, params.include_usage, usage)
    else:
        payload = wire.chat_body(
            **ids,
            content=shaped.text,
            reasoning=shaped.reasoning,
            finish_reason=shaped.finish_reason,
            usage=usage,
        )
    return Reply(
        body=payload,
        events=events,
        usage=usage,
        text=shaped.text,
        reasoning=shaped.reasoning,
        finish_reason=shaped.finish_reason,
        miss_tokens=len(tokens) - hit,
        cache=cache,
        cache_sequence=tokens + chat_output_tokens(shaped, thinking=params.thinking),
    )


def _chat_events(
    ids: dict[str, Any], shaped: Shaped, include_usage: bool, usage: dict[str, Any]
) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return wire.sse(
            wire.chat_chunk(**ids, delta=delta, finish_reason=finish, include_usage=include_usage)
        )

    reasoning = shaped.reasoning
    if reasoning is None:
        events = [chunk({"role": "assistant", "content": ""})]
        extra: dict[str, Any] = {}
    else:
        events = [chunk({"role": "assistant", "content": None, "reasoning_content": ""})]
        events += [chunk({"content": None, "reasoning_content": p}) for p in split_chunks(reasoning)]
        extra = {"reasoning_content": None}
    events += [chunk({"content": p, **extra}) for p in split_chunks(shaped.text) if p]
    events.append(chunk({"content": "", **extra}, shaped.finish_reason))
    if include_usage:
        events.append(wire.sse(wire.chat_chunk(**ids, delta=None, usage=usage)))
    return [*events, wire.DONE]
