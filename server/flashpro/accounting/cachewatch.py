"""Why did the prompt cache stop hitting? Compare a file's prompt with the previous one.

DeepSeek caches whole prefix units from token 0, so one changed byte early in the prompt turns
everything after it into misses. When a request's hit ratio falls well below the file's usual
level, the first byte where its prompt differs from the previous prompt names the cause.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
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
    changed_in_extra: bool = False

    def explain(self) -> str:
        """`cache hit fell to 12% (usual 85%): prompt head changed at line 3`."""
        text = f"cache hit fell to {self.ratio * 100:.0f}% (usual {self.usual * 100:.0f}%)"
        if self.changed_line is not None:
            text += f": prompt head changed at line {self.changed_line + 1}"
        elif self.changed_in_extra:
            text += ": the extra context from other files changed"
        return text


@dataclass(slots=True)
class _FileState:
    prompt: str = ""
    ratios: deque[float] | None = None


class CacheWatch:
    """Tracks each file's recent hit ratios and last prompt."""

    def __init__(self) -> None:
        self._files: dict[str, _FileState] = {}

    def observe(
        self,
        uri: str,
        prompt: str,
        hit_ratio: float | None,
        line_at: Callable[[int], int | None] | None = None,
    ) -> CacheDrop | None:
        """Record one call; returns a `CacheDrop` when this call's hit ratio fell well below usual.

        `line_at` maps an offset in `prompt` to its document line (None inside extra context).
        """
        state = self._files.setdefault(uri, _FileState(ratios=deque(maxlen=_HISTORY)))
        assert state.ratios is not None
        drop: CacheDrop | None = None
        if hit_ratio is not None:
            if len(state.ratios) >= 3:
                usual = median(state.ratios)
                if hit_ratio < usual - _DROP:
                    drop = self._explain(state.prompt, prompt, hit_ratio, usual, line_at)
            state.ratios.append(hit_ratio)
        state.prompt = prompt
        return drop

    def forget(self, uri: str) -> None:
        """Drop what is known about `uri` (closed document)."""
        self._files.pop(uri, None)

    @staticmethod
    def _explain(
        old: str, new: str, ratio: float, usual: float, line_at: Callable[[int], int | None] | None
    ) -> CacheDrop:
        """Locate the first difference between the previous prompt and this one."""
        if not old:
            return CacheDrop(ratio, usual, None)
        limit = min(len(old), len(new))
        index = next((i for i in range(limit) if old[i] != new[i]), limit)
        line = line_at(index) if line_at is not None else new.count("\n", 0, index)
        return CacheDrop(ratio, usual, line, changed_in_extra=line is None)
