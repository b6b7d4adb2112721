"""Why did the prompt cache stop hitting? Compare a file's prompt with the previous one.

DeepSeek caches whole prefix units from token 0, so one changed byte early in the prompt turns
everything after it into misses. When a request's hit ratio falls well below the file's usual
level, the first byte where its prompt differs from the previous prompt names the cause.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import median

__all__ = ["CacheDrop", "CacheWatch"]

_HISTORY = 20
_DROP = 0.3  # "well below": at least 30 points under the usual ratio


@dataclass(frozen=True, slots=True)
class CacheDrop:
    """A cache-hit drop and, when known, where the prompt head changed."""

    ratio: float
    usual: float
    changed_line: int | None

    def explain(self) -> str:
        """`cache hit fell to 12% (usual 85%): prompt head changed at line 3`."""
        text = f"cache hit fell to {self.ratio * 100:.0f}% (usual {self.usual * 100:.0f}%)"
        if self.changed_line is not None:
            text += f": prompt head changed at line {self.changed_line + 1}"
        return text


@dataclass(slots=True)
class _FileState:
    prompt: str = ""
    first_line: int = 0
    ratios: deque[float] | None = None


class CacheWatch:
    """Tracks each file's recent hit ratios and last prompt."""

    def __init__(self) -> None:
        self._files: dict[str, _FileState] = {}

    def observe(self, uri: str, prompt: str, first_line: int, hit_ratio: float | None) -> CacheDrop | None:
        """Record one call; returns a `CacheDrop` when this call's hit ratio fell well below usual.

        `first_line` is the document line at which `prompt` starts.
        """
        state = self._files.setdefault(uri, _FileState(ratios=deque(maxlen=_HISTORY)))
        assert state.ratios is not None
        drop: CacheDrop | None = None
        if hit_ratio is not None:
            if len(state.ratios) >= 3:
                usual = median(state.ratios)
                if hit_ratio < usual - _DROP:
                    drop = CacheDrop(hit_ratio, usual, self._changed_line(state, prompt, first_line))
            state.ratios.append(hit_ratio)
        state.prompt, state.first_line = prompt, first_line
        return drop

    def forget(self, uri: str) -> None:
        """Drop what is known about `uri` (closed document)."""
        self._files.pop(uri, None)

    @staticmethod
    def _changed_line(state: _FileState, prompt: str, first_line: int) -> int | None:
        """Document line of the first difference between the previous prompt and this one."""
        old = state.prompt
        if not old:
            return None
        if first_line != state.first_line:
            return min(first_line, state.first_line)
        limit = min(len(old), len(prompt))
        index = next((i for i in range(limit) if old[i] != prompt[i]), limit)
        return first_line + prompt.count("\n", 0, index)
