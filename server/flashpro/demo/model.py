"""The offline model: answers FIM and chat requests the way a model would, with no network.

FIM: when the text before the cursor is found in a file the model was told about (`learn`; the
demo tells it the file it types), the answer is that file's true continuation most of the time
(`p_right`, decided per cursor position so a run is repeatable) and a plausible wrong line,
taken from elsewhere in the file, otherwise. With no known file it copies what followed an
earlier occurrence of the current line's text in the prompt itself, or answers nothing.

Chat: flashpro's code-action prompts get schema-valid JSON (`answers`); anything else a short
plain answer. Thinking requests get a short simulated reasoning text.

Usage is counted with flashpro's exact V4 tokenizer: FIM prompt + suffix + 3 markers, chat
messages + 8 template tokens, and cache hits from `cache.PrefixCache`. Every answer is marked
simulated where a person reads it; the model names are the configured ones, so prices apply.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flashpro.demo.answers import answer_action
from flashpro.demo.cache import PrefixCache
from flashpro.tokens import count, encode
from flashpro.usage import Usage

__all__ = ["DEFAULT_MODELS", "OfflineModel", "Reply"]

DEFAULT_MODELS = ("deepseek-v4-flash", "deepseek-v4-pro", "deepseek-flash")
"""Model ids the offline API lists (flashpro's defaults among them)."""

_FIM_MARKERS = 3
_CHAT_TEMPLATE = 8
_TAIL = 200
"""Characters of the prompt's end used to find the cursor in a known file."""
_REASONING = "Simulated reasoning (offline model): read the numbered lines, check each against the task, answer in json."


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: its text, reasoning (thinking only), DeepSeek's usage block and finish."""

    text: str
    reasoning: str | None
    usage: dict[str, Any]
    finish_reason: str


def _usage(prompt: int, hit: int, text: str, reasoning: str | None) -> dict[str, Any]:
    thought = count(reasoning) if reasoning else 0
    counts = Usage(prompt, count(text) + thought, hit, prompt - hit, thought)
    return counts.to_api(reasoning=reasoning is not None)


def _cut(text: str, stop: Sequence[str], max_tokens: int) -> tuple[str, str]:
    """`text` cut at its first stop string, then to `max_tokens`; and the finish reason."""
    ends = [i for s in stop if s and (i := text.find(s)) >= 0]
    if ends:
        text = text[: min(ends)]
    if count(text) <= max_tokens:
        return text, "stop"
    low, high = 0, len(text)
    while high - low > 1:
        middle = (low + high) // 2
        if count(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle
    return text[:low], "length"


class OfflineModel:
    """Answers for the offline API (thread-safe)."""

    def __init__(self, *, p_right: float = 0.8, seed: int = 7) -> None:
        self.p_right = p_right
        self.seed = seed
        self.cache = PrefixCache()
        self._lock = threading.Lock()
        self._files: list[str] = []

    def learn(self, text: str) -> None:
        """Tell the model a file, so its FIM answers can continue it."""
        with self._lock:
            if text not in self._files:
                self._files.append(text)

    # -- FIM -------------------------------------------------------------------------------
    def fim(self, prompt: str, suffix: str, stop: Sequence[str], max_tokens: int) -> Reply:
        """The answer to one FIM request."""
        tokens = [*encode(prompt), *encode(suffix)]
        prompt_tokens = len(tokens) + _FIM_MARKERS
        hit = min(self.cache.lookup_and_store(tokens), prompt_tokens)
        text, finish = _cut(self._continuation(prompt, suffix), stop, max_tokens)
        return Reply(text, None, _usage(prompt_tokens, hit, text, None), finish)

    def _continuation(self, prompt: str, suffix: str) -> str:
        with self._lock:
            files = list(self._files)
        tail = prompt[-_TAIL:]
        for text in files:
            at = self._locate(text, tail)
            if at is not None:
                return self._answer(text, at)
        return self._copy(prompt, suffix)

    @staticmethod
    def _locate(text: str, tail: str) -> int | None:
        """The offset in `text` just after `tail` (the cursor), or None. Lines are dropped from
        the front of `tail` until it is found: the prompt may start with a header (the file's
        path) or with context from other files."""
        while True:
            found = text.find(tail)
            if found >= 0:
                return found + len(tail)
            cut = tail.find("\n")
            if cut < 0:
                return None
            tail = tail[cut + 1 :]

    def _answer(self, text: str, at: int) -> str:
        """The true continuation at `at`, or (1 - p_right of the time) a wrong line."""
        rng = random.Random(f"{self.seed}|{len(text)}|{at}")
        rest = text[at:]
        if not rest.strip():
            return ""
        if rng.random() < self.p_right:
            end = rest.find("\n", 1 if rest.startswith("\n") else 0)
            for _ in range(rng.choice((0, 0, 1, 2))):
                if end < 0:
                    break
                end = rest.find("\n", end + 1)
            return rest if end < 0 else rest[:end]
        truth = rest.split("\n", 1)[0].strip() or rest.lstrip("\n").split("\n", 1)[0].strip()
        lines = [line.strip() for line in text.split("\n") if len(line.strip()) >= 8]
        wrong = [line for line in lines if line != truth and not truth.startswith(line)]
        if not wrong:
            return ""
        guess = rng.choice(wrong)
        return ("\n" + guess) if rest.startswith("\n") else guess

    @staticmethod
    def _copy(prompt: str, suffix: str) -> str:
        """No known file: what followed an earlier occurrence of the current line's text."""
        line = prompt.rsplit("\n", 1)[-1]
        key = line.strip()
        if len(key) < 3:
            return ""
        earlier = prompt[: len(prompt) - len(line)]
        found = earlier.rfind(key)
        if found < 0:
            return ""
        after = earlier[found + len(key) :].split("\n", 1)[0]
        return after if after.strip() and not suffix.startswith(after) else ""

    # -- chat ------------------------------------------------------------------------------
    def chat(
        self, messages: Sequence[dict[str, Any]], *, thinking: bool, json_output: bool, max_tokens: int
    ) -> Reply:
        """The answer to one chat request (flashpro's actions get schema-valid JSON)."""
        texts = [_content(m.get("content")) for m in messages]
        tokens: list[int] = []
        for text in texts:
            tokens += encode(text)
        prompt_tokens = len(tokens) + _CHAT_TEMPLATE
        hit = min(self.cache.lookup_and_store(tokens), prompt_tokens)
        pairs = list(zip(messages, texts, strict=True))
        user = next((t for m, t in reversed(pairs) if m.get("role") == "user"), "")
        first_user = next((t for m, t in pairs if m.get("role") == "user"), user)
        found = answer_action(first_user)
        if found is not None:
            text = found[1]
        elif json_output:
            text = '{"answer": "simulated answer from the offline model"}'
        else:
            text = "Simulated answer from the offline model: no real model was called."
        reasoning = _REASONING if thinking else None
        budget = max(max_tokens - (count(reasoning) if reasoning else 0), 1)
        text, finish = _cut(text, (), budget)
        return Reply(text, reasoning, _usage(prompt_tokens, hit, text, reasoning), finish)


def _content(content: Any) -> str:
    """A message's text: a string, None, or a list of `{"type": "text"}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""
