"""What the fake DeepSeek model sees (token layouts) and says (scripted answers, shaping).

Token layouts, OUR ASSUMPTIONS (DeepSeek does not document how it lays prompts out):

- FIM: `<｜fim▁begin｜>` + prompt + `<｜fim▁hole｜>` + suffix + `<｜fim▁end｜>`, no BOS. The three
  markers are one token each (V4 ids 128801 / 128800 / 128802); the text parts are encoded
  separately with `flashpro.tokens.encode`, so marker text inside the prompt is never special.
- Chat: the DeepSeek V3.1/V4 chat template, simplified: `<｜begin▁of▁sentence｜>`, system
  text, `<｜User｜>` + text per user turn, `<｜Assistant｜></think>` + text +
  `<｜end▁of▁sentence｜>` per past assistant turn, tool results between
  `<｜tool▁output▁begin｜>` / `<｜tool▁output▁end｜>`, and the generation prompt
  `<｜Assistant｜>` + `<think>` (thinking on) or `</think>` (off). A last assistant message
  with `"prefix": true` (chat prefix completion) is left open instead.
  Request `tools` and message `tool_calls` are serialised as sorted JSON text.
- The output appended to the input for cache unit (b) is the answer's tokens plus
  `<｜end▁of▁sentence｜>` (for thinking: reasoning + `</think>` + content + EOS), so that a
  non-thinking chat turn's input + output is a prefix of the next turn's input.

Answers: a `Script` per endpoint hands out queued answers first, then a responder callable,
then the default. `shape` applies `stop` strings and the `max_tokens` budget.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flashpro.tokens import encode

__all__ = [
    "Answer",
    "Responder",
    "Script",
    "Shaped",
    "chat_output_tokens",
    "chat_tokens",
    "fim_output_tokens",
    "fim_tokens",
    "shape",
    "split_chunks",
]

BOS, EOS = 0, 1
FIM_HOLE, FIM_BEGIN, FIM_END = 128800, 128801, 128802
USER, ASSISTANT = 128803, 128804
TOOL_OUTPUT_BEGIN, TOOL_OUTPUT_END = 128812, 128813
THINK, END_THINK = 128821, 128822


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted answer: FIM text or chat content, optional reasoning and finish reason."""

    text: str = ""
    reasoning: str | None = None
    """Chat `reasoning_content`; used only when thinking is on (a default is made up if None)."""
    finish_reason: str | None = None
    """Overrides "stop"/"length", e.g. "insufficient_system_resource"."""


Responder = Callable[[dict[str, Any]], "str | Answer"]
"""A hook that answers a request from its parsed JSON body."""


@dataclass(frozen=True, slots=True)
class Shaped:
    """An answer after `stop` and `max_tokens`: what is returned and billed."""

    text: str
    reasoning: str | None
    finish_reason: str
    text_tokens: list[int] = field(repr=False)
    reasoning_tokens: list[int] = field(repr=False)

    @property
    def completion_tokens(self) -> int:
        return len(self.text_tokens) + len(self.reasoning_tokens)


class Script:
    """Answers for one endpoint: a FIFO queue, then a responder, then the default."""

    def __init__(self, default: Responder) -> None:
        self._default = default
        self._lock = threading.Lock()
        self._queue: deque[str | Answer] = deque()
        self._responder: Responder | None = None

    def add(self, answers: str | Answer | Iterable[str | Answer] | Responder | None) -> None:
        """Queue answers (str/Answer or an iterable of them) or set the responder (callable).

        None removes the responder and empties the queue.
        """
        with self._lock:
            if answers is None:
                self._queue.clear()
                self._responder = None
            elif isinstance(answers, (str, Answer)):
                self._queue.append(answers)
            elif callable(answers):
                self._responder = answers
            else:
                self._queue.extend(answers)

    def next(self, request: dict[str, Any]) -> Answer:
        """The answer for `request` (consumes one queued answer if any)."""
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
            responder = self._responder
        if queued is None:
            queued = (responder or self._default)(request)
        return queued if isinstance(queued, Answer) else Answer(text=str(queued))


def fim_tokens(prompt: str, suffix: str | None) -> list[int]:
    """The FIM prompt as the model sees it (see the module docstring)."""
    return [FIM_BEGIN, *encode(prompt), FIM_HOLE, *encode(suffix or ""), FIM_END]


def fim_output_tokens(shaped: Shaped) -> list[int]:
    """Tokens that follow a FIM input in cache unit (b)."""
    return [*shaped.text_tokens, EOS]


def message_text(content: Any) -> str:
    """Text of a message `content`: a string, None, or a list of `{"type": "text"}` parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") for p in content if isinstance(p, dict)]
    return "".join(p for p in parts if isinstance(p, str))


def chat_tokens(request: dict[str, Any], *, thinking: bool) -> list[int]:
    """The chat prompt as the model sees it (see the module docstring)."""
    tokens = [BOS]
    if request.get("tools"):
        tokens += encode(_json(request["tools"]))
    messages: list[dict[str, Any]] = request["messages"]
    for i, message in enumerate(messages):
        open_prefix = i == len(messages) - 1 and is_prefix_message(message)
        tokens += _message_tokens(message, open_prefix=open_prefix)
    if not (messages and is_prefix_message(messages[-1])):
        tokens += [ASSISTANT, THINK if thinking else END_THINK]
    return tokens


def is_prefix_message(message: dict[str, Any]) -> bool:
    """A chat-prefix-completion message: assistant with `"prefix": true`."""
    return message.get("role") == "assistant" and message.get("prefix") is True


def _message_tokens(message: dict[str, Any], *, open_prefix: bool) -> list[int]:
    role = message.get("role")
    text = encode(message_text(message.get("content")))
    if role == "system":
        return text
    if role == "user":
        return [USER, *text]
    if role == "tool":
        return [TOOL_OUTPUT_BEGIN, *text, TOOL_OUTPUT_END]
    calls = encode(_json(message["tool_calls"])) if message.get("tool_calls") else []
    tail = [] if open_prefix else [EOS]
    return [ASSISTANT, END_THINK, *text, *calls, *tail]


def chat_output_tokens(shaped: Shaped, *, thinking: bool) -> list[int]:
    """Tokens that follow a chat input in cache unit (b)."""
    head = [*shaped.reasoning_tokens, END_THINK] if thinking else []
    return [*head, *shaped.text_tokens, EOS]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def shape(
    answer: Answer, *, stop: list[str], max_tokens: int, reasoning: str | None = None
) -> Shaped:
    """Cut the answer at the first stop string, then to `max_tokens` (reasoning first)."""
    text = _cut_at_stop(answer.text, stop)
    budget = max_tokens
    reasoning_tokens: list[int] = []
    cut = False
    if reasoning is not None:
        reasoning, reasoning_tokens, cut = _truncate(reasoning, budget)
        budget -= len(reasoning_tokens)
    text, text_tokens, text_cut = _truncate(text, budget)
    if cut:
        text, text_tokens = "", []
    finish = "length" if (cut or text_cut) else "stop"
    return Shaped(
        text=text,
        reasoning=reasoning,
        finish_reason=answer.finish_reason or finish,
        text_tokens=text_tokens,
        reasoning_tokens=reasoning_tokens,
    )


def _cut_at_stop(text: str, stop: list[str]) -> str:
    positions = [i for s in stop if s and (i := text.find(s)) >= 0]
    return text[: min(positions)] if positions else text


def _truncate(text: str, budget: int) -> tuple[str, list[int], bool]:
    """Longest head of `text` whose token count fits `budget`; whether it was cut."""
    tokens = encode(text)
    if len(tokens) <= budget:
        return text, tokens, False
    lo, hi = 0, len(text)  # encode(text[:lo]) fits, text[:hi] does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(encode(text[:mid])) <= budget:
            lo = mid
        else:
            hi = mid
    head = text[:lo]
    return head, encode(head), True


def split_chunks(text: str) -> list[str]:
    """Split text into stream chunks at word boundaries (at least one chunk, maybe "")."""
    pieces = re.findall(r"\s*\S+|\s+", text)
    return pieces or [""]
