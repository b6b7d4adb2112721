"""The normalised usage record of one model call.

DeepSeek reports `prompt_tokens`, `completion_tokens`, `prompt_cache_hit_tokens`,
`prompt_cache_miss_tokens` (hit + miss = prompt) and, for thinking models,
`completion_tokens_details.reasoning_tokens`. Providers turn whatever the wire said into a
`Usage`; the ledger prices it. Nothing here imports an SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Usage"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, exactly as the API reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_api(cls, usage: Any) -> Usage:
        """Build from an SDK usage object or a plain dict (DeepSeek's field names)."""
        if usage is None:
            return cls()
        data = usage if isinstance(usage, dict) else _as_dict(usage)
        prompt = int(data.get("prompt_tokens") or 0)
        hit = data.get("prompt_cache_hit_tokens")
        if hit is None:
            details = data.get("prompt_tokens_details") or {}
            hit = details.get("cached_tokens") if isinstance(details, dict) else None
        hit = int(hit or 0)
        miss = data.get("prompt_cache_miss_tokens")
        miss = int(miss) if miss is not None else max(prompt - hit, 0)
        completion_details = data.get("completion_tokens_details") or {}
        reasoning = (
            int(completion_details.get("reasoning_tokens") or 0)
            if isinstance(completion_details, dict)
            else 0
        )
        return cls(
            prompt_tokens=prompt,
            completion_tokens=int(data.get("completion_tokens") or 0),
            cache_hit_tokens=hit,
            cache_miss_tokens=miss,
            reasoning_tokens=reasoning,
        )

    def to_api(self, *, reasoning: bool = False) -> dict[str, Any]:
        """DeepSeek's `usage` object for these counts (`completion_tokens_details` only when the
        call thought): what the API sends, for the offline model and the test fake."""
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_cache_hit_tokens": self.cache_hit_tokens,
            "prompt_cache_miss_tokens": self.cache_miss_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cache_hit_tokens},
        }
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return usage

    @property
    def cache_hit_ratio(self) -> float | None:
        """Share of prompt tokens served from the prompt cache, or None with no prompt."""
        if self.prompt_tokens <= 0:
            return None
        return self.cache_hit_tokens / self.prompt_tokens


def _as_dict(obj: Any) -> dict[str, Any]:
    """Turn a pydantic SDK model (with DeepSeek's extra fields kept) into a dict."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        result = dump()
        if isinstance(result, dict):
            return result
    return dict(getattr(obj, "__dict__", {}))
