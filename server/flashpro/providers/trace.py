"""`CallTrace`: what one model call has produced so far, filled while it streams.

The provider writes into a trace as chunks arrive (text, reasoning, usage, ids, timings), so
the caller can record a ledger row with what is known even when the call is cancelled or
fails half way. Nothing here touches the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flashpro.usage import Usage

__all__ = ["CallTrace"]


@dataclass(slots=True)
class CallTrace:
    """What a call has produced so far; filled while streaming, read by the caller afterwards."""

    started: float = field(default_factory=time.monotonic)
    started_utc: datetime = field(default_factory=lambda: datetime.now(UTC))
    first_token_at: float | None = None
    finished_at: float | None = None
    parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    model_reported: str | None = None
    request_id: str | None = None
    finish_reason: str | None = None

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self.parts)

    @property
    def reasoning(self) -> str:
        """The reasoning text received so far (chat with thinking on)."""
        return "".join(self.reasoning_parts)

    @property
    def latency_first_ms(self) -> float | None:
        """Milliseconds from the start of the call to the first token, if one arrived."""
        if self.first_token_at is None:
            return None
        return (self.first_token_at - self.started) * 1000.0

    @property
    def latency_total_ms(self) -> float:
        """Milliseconds from the start of the call to its end (or to now, if unfinished)."""
        end = self.finished_at if self.finished_at is not None else time.monotonic()
        return (end - self.started) * 1000.0
