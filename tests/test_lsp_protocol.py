"""The protocol in process: a failing handler is answered with InternalError and logged once."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flashpro.lsp import FlashproLanguageServer
from flashpro.lsp.protocol import FlashproProtocol


class _Wire:
    """The server's output, one JSON message per write (no headers)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data))
        self.arrived.set()

    def close(self) -> None:
        pass

    async def response(self, msg_id: Any) -> dict[str, Any]:
        while True:
            found = [m for m in self.messages if m.get("id") == msg_id and "method" not in m]
            if found:
                return found[0]
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FlashproLanguageServer:
    monkeypatch.setenv("FLASHPRO_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    return FlashproLanguageServer()


def _send(protocol: FlashproProtocol, message: dict[str, Any]) -> None:
    protocol.receive(json.dumps({"jsonrpc": "2.0", **message}).encode())


async def test_failing_handlers_get_internal_error_and_one_log_line(server: FlashproLanguageServer) -> None:
    @server.feature("flashpro/test/sync")
    def fails_now(ls: FlashproLanguageServer, params: Any) -> None:
        raise KeyError("no such thing")

    @server.feature("flashpro/test/async")
    async def fails_later(ls: FlashproLanguageServer, params: Any) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("boom\nwith a second line")

    @server.feature("flashpro/test/notify")
    def notification_fails(ls: FlashproLanguageServer, params: Any) -> None:
        raise ValueError("bad")

    wire, records = _Wire(), _Records()
    protocol = server.protocol
    assert isinstance(protocol, FlashproProtocol)
    protocol.set_writer(wire, include_headers=False)
    logger = logging.getLogger("flashpro.lsp.protocol")
    logger.addHandler(records)
    try:
        _send(protocol, {"id": 0, "method": "initialize", "params": {"capabilities": {}}})
        assert "result" in await wire.response(0)
        _send(protocol, {"id": 1, "method": "flashpro/test/sync", "params": {}})
        _send(protocol, {"id": 2, "method": "flashpro/test/async", "params": {}})
        _send(protocol, {"method": "flashpro/test/notify", "params": {}})
        first, second = await wire.response(1), await wire.response(2)
    finally:
        logger.removeHandler(records)
    assert first["error"] == {"code": -32603, "message": "flashpro/test/sync failed: KeyError: 'no such thing'"}
    assert second["error"] == {
        "code": -32603,
        "message": "flashpro/test/async failed: RuntimeError: boom with a second line",
    }
    assert not any(m.get("method") == "window/showMessage" for m in wire.messages)
    errors = [r for r in records.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in errors] == [
        "flashpro: flashpro/test/sync (request 1) failed: KeyError: 'no such thing'",
        "flashpro: flashpro/test/notify notification failed: ValueError: bad",
        "flashpro: flashpro/test/async (request 2) failed: RuntimeError: boom with a second line",
    ]
    assert all(r.exc_info is None for r in errors)  # tracebacks only at DEBUG
    assert all(r.exc_info is not None for r in records.records if r.levelno == logging.DEBUG)
    assert protocol._request_futures == {}  # noqa: SLF001 - nothing left behind by notifications
