"""Coalesce bursts: run a callback at most once per interval per key, always with the latest state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

__all__ = ["Throttle"]

logger = logging.getLogger(__name__)


class Throttle:
    """`poke(key)` schedules `action(key)`; pokes within `interval` seconds share one run."""

    def __init__(self, interval: float, action: Callable[[Hashable], Awaitable[None]]):
        self._interval = interval
        self._action = action
        self._pending: dict[Hashable, asyncio.Task[None]] = {}

    def poke(self, key: Hashable) -> None:
        """Ask for a run for `key` (coalesced with any run already pending)."""
        if key in self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pending[key] = loop.create_task(self._run(key))

    async def _run(self, key: Hashable) -> None:
        try:
            await asyncio.sleep(self._interval)
        finally:
            self._pending.pop(key, None)
        try:
            await self._action(key)
        except Exception:  # noqa: BLE001 - a failed refresh must not kill the server
            logger.exception("throttled refresh for %s failed", key)

    async def drain(self) -> None:
        """Wait for every pending run (shutdown and tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
