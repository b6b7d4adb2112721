"""Client-side emulations of the peers' documented FIM strategies (shared/docs/peers.md).

Each peer builds its own prompt and suffix and calls the fake's `/beta/completions` with the
openai SDK (streamed, `include_usage`, max_tokens 128, temperature 0), on the same keystrokes
and with the same acceptance rule as flashpro. What differs is what the peers document:

| peer      | context                                         | when it asks                         |
|-----------|-------------------------------------------------|--------------------------------------|
| naive     | the whole file: prefix before, suffix after     | every key, the stale call aborted    |
| llm-ls    | lines grown outward from the cursor, one before | 150 ms debounce, stale aborted       |
|           | and one after, to 2,048 real tokens             |                                      |
| lsp-ai    | 1,024 tokens as chars/4: 2,048 chars before,    | at most one request per second       |
|           | 2,048 after                                     | (trailing edge); never aborted       |
| Continue  | 1,024 real tokens: 30% prefix, 20% suffix, cut  | 350 ms debounce, stale aborted; LRU  |
|           | by whole lines                                  | cache by pruned prefix (longest key) |
| llama.vim | 256 lines before, 64 after                      | every key, stale aborted; type-      |
|           |                                                 | through + 250-entry cache, look-back |
|           |                                                 | 128 chars: no request when it hits   |

A suggestion is shown only if it comes back before the text changes. Editor-seen latency runs
from the key that the request answers (so debounce waits count) to the answer, for answers with
text; answers from a local cache count too, with their real (debounce) delay.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from typing import Any

from openai import AsyncOpenAI

from bench.replay_driver import Visible
from bench.replay_metrics import MODEL, Tally
from bench.replay_scenarios import Scenario
from flashpro.tokens import count

__all__ = ["PEERS", "Continue", "LlamaVim", "LlmLs", "LspAi", "Naive", "Peer"]

MAX_TOKENS = 128


@functools.lru_cache(maxsize=200_000)
def tokens_of(line: str) -> int:
    return count(line)


def lines_back(text: str, end: int, budget_fn: Any) -> int:
    """Walk whole lines backwards from `end` (a line start) while `budget_fn(line)` allows; the
    offset where the kept lines begin."""
    pos = end
    while pos > 0:
        start = text.rfind("\n", 0, pos - 1) + 1
        if not budget_fn(text[start:pos]):
            break
        pos = start
    return pos


class Peer:
    """Base: request machinery, debounce / throttle, abort, showing answers."""

    name = "peer"
    debounce_s = 0.0
    throttle_s = 0.0
    abort_stale = True

    def __init__(self, tally: Tally, base_url: str):
        self.tally = tally
        self.visible: Visible | None = None
        self.client = AsyncOpenAI(api_key="sk-test", base_url=base_url, max_retries=0, timeout=60.0)
        self.sc: Scenario | None = None
        self.k = 0
        self.version = 0
        self.changed_at = 0.0
        self._n = 0
        self._timer: asyncio.TimerHandle | None = None
        self._last_sent = -1e9
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the editor ----------------------------------------------------------------------------

    async def open(self, sc: Scenario) -> None:
        self.sc, self.k, self.visible = sc, 0, None
        self.version += 1

    def key(self, k: int, text: str) -> None:
        self._changed(k + len(text), text)

    def accept(self, suggestion: Visible, n: int, k: int) -> None:
        self._changed(k + n, None)

    async def close(self, sc: Scenario) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=30)
        self.visible = None

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        await self.client.close()

    # -- strategy hooks ------------------------------------------------------------------------

    def build(self, k: int) -> tuple[str, str]:
        """(prompt, suffix) for the cursor after `k` typed characters."""
        raise NotImplementedError

    def type_through(self, previous: Visible | None, typed: str | None) -> bool:
        """Keep showing the rest of `previous` after `typed`, with no request (llama.vim)."""
        return False

    def local(self, prompt: str, suffix: str) -> str | None:
        """A suggestion from a local cache, or None."""
        return None

    def remember(self, prompt: str, suffix: str, text: str) -> None:
        """Store an answer in the local cache."""

    # -- internals -----------------------------------------------------------------------------

    def _changed(self, k: int, typed: str | None) -> None:
        previous = self.visible
        self.k, self.visible = k, None
        self.version += 1
        self.changed_at = time.monotonic()
        if self.abort_stale:
            for task in list(self._tasks):
                task.cancel()
        if self.type_through(previous, typed):
            return
        loop = asyncio.get_running_loop()
        if self.debounce_s:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(self.debounce_s, self._fire)
        elif self.throttle_s:
            if self._timer is None:
                wait = self._last_sent + self.throttle_s - time.monotonic()
                if wait <= 0:
                    self._fire()
                else:
                    self._timer = loop.call_later(wait, self._fire)
        else:
            self._fire()

    def _fire(self) -> None:
        self._timer = None
        prompt, suffix = self.build(self.k)
        cached = self.local(prompt, suffix)
        if cached:
            self.tally.local_answers += 1
            self.tally.latency_ms.append((time.monotonic() - self.changed_at) * 1000)
            self._show(f"{self.name}-local-{self._next()}", cached)
            return
        self._last_sent = time.monotonic()
        task = asyncio.ensure_future(self._call(prompt, suffix, self.version, self.k, self.changed_at))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _next(self) -> int:
        self._n += 1
        return self._n

    def _show(self, suggestion_id: str, text: str) -> None:
        self.visible = Visible(suggestion_id, text, self.k)
        self.tally.shown.add(suggestion_id)

    async def _call(self, prompt: str, suffix: str, version: int, k: int, changed_at: float) -> None:
        started = time.monotonic()
        parts: list[str] = []
        try:
            stream = await self.client.completions.create(
                model=MODEL,
                prompt=prompt,
                suffix=suffix,
                max_tokens=MAX_TOKENS,
                temperature=0.0,
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                async for chunk in stream:
                    for choice in chunk.choices or ():
                        if choice.text:
                            parts.append(choice.text)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed call shows nothing, like an editor
            self.tally.lsp_errors += 1
            return
        done = time.monotonic()
        text = "".join(parts)
        self.remember(prompt, suffix, text)
        if not text.strip():
            self.tally.empty_answers += 1
            return
        self.tally.api_latency_ms.append((done - started) * 1000)
        self.tally.latency_ms.append((done - changed_at) * 1000)
        if version != self.version:
            self.tally.stale_answers += 1
            return
        self._show(f"{self.name}-{self._next()}", text)


class Naive(Peer):
    """Whole file on every key."""

    name = "naive"

    def build(self, k: int) -> tuple[str, str]:
        assert self.sc is not None
        return self.sc.before(k), self.sc.after


class LlmLs(Peer):
    """huggingface llm-ls: lines grown outward from the cursor to 2,048 real tokens."""

    name = "llm-ls"
    debounce_s = 0.150
    window = 2048

    def build(self, k: int) -> tuple[str, str]:
        assert self.sc is not None
        before, after = self.sc.before(k), self.sc.after
        head_start = before.rfind("\n") + 1
        nl = after.find("\n")
        tail_end = len(after) if nl < 0 else nl + 1
        left = self.window
        before_line: str | None = before[head_start:]  # the cursor line first, then outward
        after_line: str | None = after[:tail_end]
        b, a = len(before), 0  # kept so far: before[b:], after[:a]
        while before_line is not None or after_line is not None:
            if before_line is not None:
                n = tokens_of(before_line)
                if n > left:
                    break
                left -= n
                b -= len(before_line)
            if after_line is not None:
                n = tokens_of(after_line)
                if n > left:
                    break
                left -= n
                a += len(after_line)
            if b > 0:
                start = before.rfind("\n", 0, b - 1) + 1
                before_line = before[start:b]
            else:
                before_line = None
            if a < len(after):
                nl = after.find("\n", a)
                after_line = after[a : (len(after) if nl < 0 else nl + 1)]
            else:
                after_line = None
        return before[b:], after[:a]


class LspAi(Peer):
    """lsp-ai: 1,024 tokens as chars/4, half before and half after; 1 request/s; never aborted."""

    name = "lsp-ai"
    throttle_s = 1.0
    abort_stale = False
    chars = 1024 * 4 // 2

    def build(self, k: int) -> tuple[str, str]:
        assert self.sc is not None
        return self.sc.before(k)[-self.chars :], self.sc.after[: self.chars]


class Continue(Peer):
    """Continue: 1,024 real tokens, 30% prefix / 20% suffix by whole lines; 350 ms debounce; LRU
    completion cache matched by the longest cached prefix."""

    name = "Continue"
    debounce_s = 0.350
    prefix_tokens = int(1024 * 0.3)
    suffix_tokens = int(1024 * 0.2)
    cache_size = 1000

    def __init__(self, tally: Tally, base_url: str):
        super().__init__(tally, base_url)
        self._cache: OrderedDict[str, str] = OrderedDict()

    def build(self, k: int) -> tuple[str, str]:
        assert self.sc is not None
        before, after = self.sc.before(k), self.sc.after
        head_start = before.rfind("\n") + 1
        left = [self.prefix_tokens - tokens_of(before[head_start:])]

        def fits(line: str) -> bool:
            left[0] -= tokens_of(line)
            return left[0] >= 0

        start = lines_back(before, head_start, fits) if left[0] >= 0 else head_start
        end, room = 0, self.suffix_tokens
        while end < len(after):
            nl = after.find("\n", end)
            stop = len(after) if nl < 0 else nl + 1
            room -= tokens_of(after[end:stop])
            if room < 0:
                break
            end = stop
        return before[start:], after[:end]

    def local(self, prompt: str, suffix: str) -> str | None:
        best = None
        for key in self._cache:
            if prompt.startswith(key) and (best is None or len(key) > len(best)):
                best = key
        if best is None:
            return None
        value = self._cache[best]
        typed = prompt[len(best) :]
        if value.startswith(typed) and len(value) > len(typed):
            self._cache.move_to_end(best)
            return value[len(typed) :]
        return None

    def remember(self, prompt: str, suffix: str, text: str) -> None:
        if text.strip():
            self._cache[prompt] = text
            self._cache.move_to_end(prompt)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)


class LlamaVim(Peer):
    """llama.vim: 256 lines before, 64 after; a request on nearly every key; type-through and a
    250-entry cache keyed by the context with a 128-character look-back."""

    name = "llama.vim"
    n_prefix = 256
    n_suffix = 64
    cache_size = 250
    look_back = 128

    def __init__(self, tally: Tally, base_url: str):
        super().__init__(tally, base_url)
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()

    def build(self, k: int) -> tuple[str, str]:
        assert self.sc is not None
        before, after = self.sc.before(k), self.sc.after
        head_start = before.rfind("\n") + 1
        lines = [0]

        def fits(line: str) -> bool:
            lines[0] += 1
            return lines[0] <= self.n_prefix

        start = lines_back(before, head_start, fits)
        end, n = after.find("\n"), 0
        end = len(after) if end < 0 else end + 1
        while end < len(after) and n < self.n_suffix:
            nl = after.find("\n", end)
            end = len(after) if nl < 0 else nl + 1
            n += 1
        return before[start:], after[:end]

    def type_through(self, previous: Visible | None, typed: str | None) -> bool:
        if previous is None or not typed or not previous.text.startswith(typed):
            return False
        rest = previous.text[len(typed) :]
        if not rest.strip():
            return False
        self.visible = Visible(previous.id, rest, self.k)
        return True

    def local(self, prompt: str, suffix: str) -> str | None:
        for i in range(min(self.look_back, len(prompt)) + 1):
            value = self._cache.get((prompt[: len(prompt) - i], suffix))
            if value is None:
                continue
            typed = prompt[len(prompt) - i :]
            if value.startswith(typed) and value[i:].strip():
                return value[i:]
        return None

    def remember(self, prompt: str, suffix: str, text: str) -> None:
        if text.strip():
            self._cache[(prompt, suffix)] = text
            self._cache.move_to_end((prompt, suffix))
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)


PEERS: dict[str, type[Peer]] = {
    cls.name: cls for cls in (Naive, LlmLs, LspAi, Continue, LlamaVim)
}
