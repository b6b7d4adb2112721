"""The debounce counts from the document's last content change, not from the request's arrival:
an editor that asks on every key (VS Code) waits the whole delay, one that asks after its own
idle time (Neovim 0.12: 200 ms) waits only what is left of it."""

from __future__ import annotations

import asyncio
import types as pytypes
from typing import Any

import pytest
from flashpro.completion import service as service_module
from flashpro.calls import Meter
from flashpro.completion.service import CompletionService
from flashpro.completion.trigger import TypingRhythm
from flashpro.config import Settings
from flashpro.documents import DocumentStore, TextChange

from tests.fakes import FakeDeepSeek
from tests.meters import QuietSession, RecordingLedger

URI = "file:///p/calc.py"


def test_the_wait_is_the_delay_minus_the_time_since_the_last_keystroke() -> None:
    rhythm = TypingRhythm()
    assert rhythm.wait(URI, 5.0) == rhythm.delay(URI)  # no keystroke seen: the whole delay
    rhythm.keystroke(URI, 10.0)
    delay = rhythm.delay(URI)
    assert rhythm.wait(URI, 10.0) == pytest.approx(delay)  # asked with the keystroke
    assert rhythm.wait(URI, 10.0 + delay / 2) == pytest.approx(delay / 2)
    assert rhythm.wait(URI, 10.2) == 0.0  # asked after 200 ms of quiet: no more waiting
    assert rhythm.wait(URI, 9.0) == pytest.approx(delay)  # a clock that went back: the whole delay


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_service_debounces_from_the_last_change(
    fake_deepseek: FakeDeepSeek, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_deepseek.script_fim("return a + b\n")
    clock = _Clock()
    meter = Meter(RecordingLedger(), QuietSession())  # type: ignore[arg-type]
    meter.configure(Settings.model_validate({"apiKey": "sk-test", "baseUrl": fake_deepseek.url}))
    service = CompletionService(meter, QuietSession(), clock=clock)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        waits.append(delay)
        return await real_sleep(0, result)

    spy = pytypes.ModuleType("asyncio")
    spy.__dict__.update(vars(asyncio))
    spy.sleep = sleep  # type: ignore[attr-defined]
    monkeypatch.setattr(service_module, "asyncio", spy)

    store = DocumentStore()
    doc = store.open(URI, "python", 1, "def add(a, b):\n    \n")
    service.opened(doc)
    column = 4

    async def key_then_ask(char: str, quiet: float) -> float:
        """Type `char`, let `quiet` seconds pass, ask (automatic); the debounce waited."""
        nonlocal column
        store.change(URI, doc.version + 1, [TextChange(char, (1, column), (1, column))])
        service.edited(doc, [1])
        column += 1
        clock.now += quiet
        delay = service.rhythm.delay(URI)
        waits.clear()
        await service.complete(doc, 1, column, invoked=False)
        assert waits, "an automatic request waits (or yields) before asking"
        return waits[0] - delay

    assert await key_then_ask("r", 0.0) == pytest.approx(0.0)  # VS Code: asked with the key
    assert await key_then_ask("x", 0.04) == pytest.approx(-0.04)  # 40 ms already passed
    quiet = await key_then_ask("y", 0.2)  # Neovim: asked after 200 ms without typing
    assert waits[0] == 0.0 and quiet < 0
    assert len(fake_deepseek.requests_to("fim")) == 3
