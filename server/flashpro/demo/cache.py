"""The offline model's prompt cache: a simple model of DeepSeek's prefix-unit cache.

A request hits the longest run of whole 64-token units, counted from token 0, that an earlier
request's input already contained (each input stores every one of its complete units), or its
whole input when the same input came before. That is enough to make the hit rates of a
stable-head FIM prompt and of a repeated system message look like DeepSeek's; the tests' fake
(tests/fakes/cache_model.py) models the documented rules in full.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections.abc import Sequence

__all__ = ["UNIT_TOKENS", "PrefixCache"]

UNIT_TOKENS = 64
"""Tokens per stored prefix unit."""


def _unit_digests(tokens: Sequence[int]) -> tuple[list[bytes], bytes]:
    """Digests of every complete-unit prefix of `tokens`, and of all of `tokens`."""
    running = hashlib.blake2b(digest_size=16)
    units = []
    whole = len(tokens) // UNIT_TOKENS * UNIT_TOKENS
    for start in range(0, whole, UNIT_TOKENS):
        running.update(array("I", tokens[start : start + UNIT_TOKENS]).tobytes())
        units.append(running.digest())
    running.update(array("I", tokens[whole:]).tobytes())
    running.update(len(tokens).to_bytes(8, "little"))
    return units, running.digest()


class PrefixCache:
    """Stored prefixes of every input seen; thread-safe."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._stored: set[bytes] = set()
        self._max_entries = max_entries

    def lookup_and_store(self, tokens: Sequence[int]) -> int:
        """The request's cache-hit tokens; then remember its units for the requests after it."""
        units, whole = _unit_digests(tokens)
        with self._lock:
            if whole in self._stored:
                hit = len(tokens)
            else:
                hit = 0
                for index, digest in enumerate(units):
                    if digest not in self._stored:
                        break
                    hit = (index + 1) * UNIT_TOKENS
            if len(self._stored) > self._max_entries:
                self._stored.clear()  # a long-running --serve-api: forget, as DeepSeek does
            self._stored.update(units)
            self._stored.add(whole)
        return hit
