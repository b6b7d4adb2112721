"""When to call the API at all, after what it last said; and which errors the user has seen.

- MissingKey / AuthFailed pause every call until the settings change (a new key).
- InsufficientBalance pauses for `balance_pause` seconds (the user may top up meanwhile).
- RateLimited pauses for the server's Retry-After, else `rate_limit_pause` seconds.
- Every other kind (Unavailable and its subkinds, BadRequest, Internal) never pauses: the next
  request tries again.

While paused, `blocked_by` answers the error that caused the pause (so `flashpro/status`
reports its real kind as `pausedBy`), and `pause_ends_in` says when a timed pause is over, so
the status can be refreshed at that moment without waiting for another call.

Each error kind is announced to the user once per settings generation (so once per session
unless the settings change), however many keystrokes hit it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flashpro.providers.errors import (
    AuthFailed,
    InsufficientBalance,
    MissingKey,
    ProviderError,
    RateLimited,
)

__all__ = ["ErrorGate"]


class ErrorGate:
    """Decides whether a call may go out now, and whether an error is news to the user."""

    def __init__(
        self,
        *,
        balance_pause: float = 60.0,
        rate_limit_pause: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._balance_pause = balance_pause
        self._rate_limit_pause = rate_limit_pause
        self._clock = clock
        self._blocked: ProviderError | None = None
        self._paused_until = 0.0
        self._paused_by: ProviderError | None = None
        self._announced: set[str] = set()

    def reset(self) -> None:
        """Settings changed: lift every pause and allow each message to be shown again."""
        self._blocked = None
        self._paused_until = 0.0
        self._paused_by = None
        self._announced.clear()

    def blocked_by(self) -> ProviderError | None:
        """The error that stops calls right now, or None when a call may go out."""
        if self._blocked is not None:
            return self._blocked
        if self._paused_by is not None and self._clock() < self._paused_until:
            return self._paused_by
        return None

    def pause_ends_in(self) -> float | None:
        """Seconds until the current timed pause (402 / 429) ends; None when none is running."""
        if self._blocked is not None or self._paused_by is None:
            return None
        left = self._paused_until - self._clock()
        return left if left > 0 else None

    def observe(self, error: ProviderError) -> bool:
        """Record a failed call; returns True if the user has not been told about this kind yet."""
        if isinstance(error, (MissingKey, AuthFailed)):
            self._blocked = error
        elif isinstance(error, InsufficientBalance):
            self._pause(error, self._balance_pause)
        elif isinstance(error, RateLimited):
            pause = error.retry_after if error.retry_after is not None else self._rate_limit_pause
            self._pause(error, min(pause, 60.0))
        if error.kind in self._announced:
            return False
        self._announced.add(error.kind)
        return True

    def _pause(self, error: ProviderError, seconds: float) -> None:
        self._paused_until = self._clock() + seconds
        self._paused_by = error

    def succeeded(self) -> None:
        """A call went through: transient pauses are over."""
        self._paused_until = 0.0
        self._paused_by = None
