"""The simulated user: types a scenario's block back in real time through any strategy.

At each action time (see `Scenario.gap`) the user looks at the suggestion on screen. If it
matches what they are about to type (`accept_length`) they accept it with one key (Tab) and
skip the characters it covers; otherwise they type the next key. A strategy only sees
`key(...)` and `accept(...)` calls and shows suggestions by setting `visible`; whatever it does
in between (debounce, requests, caches) runs on the same asyncio loop in real time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from bench.replay_metrics import Tally
from bench.replay_scenarios import Scenario, Timing, accept_length

__all__ = ["Strategy", "Visible", "replay_scenario"]


@dataclass(frozen=True)
class Visible:
    """A suggestion on screen: its identity, the text still to insert, and where it applies."""

    id: str
    text: str
    k: int  # block position (typed characters) the suggestion was made for
    item: Any = None  # flashpro: the InlineCompletionItem (its command carries the arguments)


class Strategy(Protocol):
    name: str
    tally: Tally
    visible: Visible | None

    async def open(self, sc: Scenario) -> None: ...

    def key(self, k: int, text: str) -> None: ...

    def accept(self, suggestion: Visible, n: int, k: int) -> None: ...

    async def close(self, sc: Scenario) -> None: ...


async def replay_scenario(
    strategy: Strategy, sc: Scenario, seed: int, timing: Timing, settle_s: float = 0.5
) -> None:
    """Type `sc.block` back through `strategy`, in real time; returns when it is all typed."""
    loop = asyncio.get_running_loop()
    tally = strategy.tally
    block = sc.block
    tally.block_chars += len(block)
    tally.keys_needed += sc.keystrokes_needed
    await strategy.open(sc)
    k = 0
    at = loop.time()
    while k < len(block):
        at += sc.gap(k, seed, timing)
        delay = at - loop.time()
        await asyncio.sleep(max(delay, 0.0))
        tally.key_late_ms.append(max(loop.time() - at, 0.0) * 1000)
        shown = strategy.visible
        n = accept_length(shown.text, block[k:]) if shown is not None and shown.k == k else 0
        if n:
            assert shown is not None
            tally.accept_actions += 1
            tally.accepted_chars += n
            tally.accepted.add(shown.id)
            if n < len(shown.text):
                tally.partial_accepts += 1
            strategy.accept(shown, n, k)
            k += n
        else:
            text = sc.key_at(k)
            tally.keystrokes += 1
            tally.typed_chars += len(text)
            strategy.key(k, text)
            k += len(text)
    await asyncio.sleep(settle_s)
    await strategy.close(sc)
