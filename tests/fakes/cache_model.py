"""The fake's model of DeepSeek's on-disk context cache (one `PromptCache` per account).

Owns the rules of docs/deepseek-api.md, "Context caching on disk":

- a hit is the longest prefix of the request's tokens that equals a stored *prefix unit*
  completely, counted from token 0;
- units are stored (a) at the end of each request's input, (b) at the end of input + output,
  (c) where the request shares a common prefix with an earlier request (A+B, then A+C misses
  but saves A, so a later A+D hits A), (d) every `interval` tokens along the input;
- nothing shorter than `min_unit` tokens is stored;
- optionally a unit becomes usable only `store_delay_s` after it was written ("building a cache
  entry takes seconds"); the default 0 makes it usable at once, which keeps tests deterministic.

Everything lives in one compressed token trie (radix tree): every sequence seen (inputs and
input + output) is a path, units are marks on nodes. A lookup is one walk down the request's
path, so it costs the number of nodes on that path plus C-speed byte comparisons of the edges,
never a comparison against each earlier request. Tokens are packed as 4-byte big-endian words.
"""

from __future__ import annotations

import sys
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CacheLookup", "PromptCache"]

_WORD = 4  # bytes per packed token


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """What one request's input met in the cache."""

    hit_tokens: int
    """Length of the longest stored unit that the input matches completely (0 on a miss)."""
    shared_tokens: int
    """Longest common prefix with any sequence seen before (rule (c) stores a unit here)."""


class _Node:
    """A trie node: `edge` leads here from the parent; `depth` counts tokens from the root."""

    __slots__ = ("children", "depth", "edge", "ready_at")

    def __init__(self, edge: bytes, depth: int) -> None:
        self.edge = edge
        self.depth = depth
        self.children: dict[bytes, _Node] = {}
        self.ready_at: float | None = None  # None: no unit ends here

    def is_unit(self, now: float) -> bool:
        return self.ready_at is not None and self.ready_at <= now


def pack(tokens: Sequence[int]) -> bytes:
    """Token ids as 4-byte big-endian words (the trie's key format)."""
    words = array("I", tokens)
    if words.itemsize != _WORD:  # pragma: no cover - exotic platforms
        words = array("L", tokens)
    if sys.byteorder != "big":
        words.byteswap()
    return words.tobytes()


def common_tokens(edge: bytes, seq: bytes, offset: int, limit: int) -> int:
    """How many leading tokens of `edge` equal `seq` from byte `offset`, at most `limit`."""
    end = limit * _WORD
    a = edge[:end]
    b = seq[offset : offset + end]
    if a == b:
        return limit
    diff = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    first_byte = len(a) - 1 - (diff.bit_length() - 1) // 8
    return first_byte // _WORD


class PromptCache:
    """DeepSeek-like prefix-unit cache for one account. Thread-safe."""

    def __init__(
        self,
        *,
        min_unit: int = 64,
        interval: int | None = 128,
        store_delay_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_unit = min_unit
        self.interval = interval
        self.store_delay_s = store_delay_s
        self._clock = clock
        self._lock = threading.Lock()
        self._root = _Node(b"", 0)
        self.units = 0
        """Number of units stored so far (for tests and curiosity)."""

    def clear(self) -> None:
        """Forget every sequence and unit."""
        with self._lock:
            self._root = _Node(b"", 0)
            self.units = 0

    def lookup(self, tokens: Sequence[int]) -> CacheLookup:
        """Match `tokens` against the cache without storing anything."""
        seq = pack(tokens)
        with self._lock:
            return self._walk(seq, self._clock())

    def on_input(self, tokens: Sequence[int]) -> CacheLookup:
        """Look the request's input up, then store its units (a), (c) and (d)."""
        seq = pack(tokens)
        with self._lock:
            found = self._walk(seq, self._clock())
            marks = self._input_marks(len(tokens), found.shared_tokens)
            self._insert(seq, marks)
            return found

    def on_output(self, sequence: Sequence[int]) -> None:
        """Store unit (b) at the end of input + output (`sequence` is the two joined)."""
        n = len(sequence)
        with self._lock:
            self._insert(pack(sequence), [n] if n >= self.min_unit else [])

    def store(self, tokens: Sequence[int]) -> None:
        """Store one unit covering all of `tokens` (if long enough): seeds a cache in tests."""
        self.on_output(tokens)

    def _input_marks(self, n: int, shared: int) -> list[int]:
        marks = {n, shared}
        if self.interval:
            marks.update(range(self.interval, n + 1, self.interval))
        return sorted(m for m in marks if self.min_unit <= m <= n and m > 0)

    def _walk(self, seq: bytes, now: float) -> CacheLookup:
        node, pos, best = self._root, 0, 0
        n = len(seq) // _WORD
        while pos < n:
            child = node.children.get(seq[pos * _WORD : (pos + 1) * _WORD])
            if child is None:
                break
            edge_len = len(child.edge) // _WORD
            common = common_tokens(child.edge, seq, pos * _WORD, min(edge_len, n - pos))
            if common < edge_len:
                pos += common
                break
            node, pos = child, pos + edge_len
            if node.is_unit(now):
                best = pos
        return CacheLookup(hit_tokens=best, shared_tokens=pos)

    def _insert(self, seq: bytes, marks: list[int]) -> None:
        """Add `seq` as a path and put a unit on the node at each depth in sorted `marks`."""
        ready_at = self._clock() + self.store_delay_s
        n = len(seq) // _WORD
        node, pos, mi = self._root, 0, 0
        while True:
            while mi < len(marks) and marks[mi] == pos:
                self._mark(node, ready_at)
                mi += 1
            if pos == n:
                return
            target = marks[mi] if mi < len(marks) else n
            key = seq[pos * _WORD : (pos + 1) * _WORD]
            child = node.children.get(key)
            if child is None:
                child = _Node(seq[pos * _WORD : target * _WORD], target)
                node.children[key] = child
                node, pos = child, target
                continue
            edge_len = len(child.edge) // _WORD
            common = common_tokens(child.edge, seq, pos * _WORD, min(edge_len, n - pos))
            cut = min(common, target - pos)
            if cut < edge_len:
                child = self._split(node, child, cut)
            node, pos = child, pos + cut

    def _mark(self, node: _Node, ready_at: float) -> None:
        if node.ready_at is None:
            self.units += 1
            node.ready_at = ready_at
        else:
            node.ready_at = min(node.ready_at, ready_at)

    @staticmethod
    def _split(parent: _Node, child: _Node, cut: int) -> _Node:
        """Put a new node `cut` tokens down `child`'s edge; return it."""
        middle = _Node(child.edge[: cut * _WORD], parent.depth + cut)
        child.edge = child.edge[cut * _WORD :]
        middle.children[child.edge[:_WORD]] = child
        parent.children[middle.edge[:_WORD]] = middle
        return middle
