"""A raw JSON-RPC client for `python -m flashpro lsp`: bytes in, bytes out, nothing decoded first.

pytest-lsp's client encodes through lsprotocol, so it cannot send a negative position, a
request without an id type LSP knows, or a broken header. `RawClient` frames whatever JSON
(or bytes) a test gives it, keeps every message the server sends, answers the server's own
requests the way a plain editor would, and sends the server's stderr to a file the test reads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.lsp_session import clean_env

__all__ = ["INITIALIZE_PARAMS", "RawClient", "frame"]

INITIALIZE_PARAMS: dict[str, Any] = {
    "processId": None,
    "rootUri": "file:///workspace",
    "capabilities": {
        "window": {"workDoneProgress": True, "showDocument": {"support": True}},
        "workspace": {"configuration": True, "applyEdit": True},
        "textDocument": {
            "codeAction": {
                "dataSupport": True,
                "resolveSupport": {"properties": ["command"]},
                "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["", "quickfix", "refactor", "source"]}},
            },
            "inlineCompletion": {},
        },
    },
    "initializationOptions": {},
}

# How the server's requests are answered (a plain editor: no edits applied).
_ANSWERS: dict[str, Any] = {
    "workspace/configuration": [None],
    "window/workDoneProgress/create": None,
    "workspace/applyEdit": {"applied": False, "failureReason": "raw client"},
    "window/showDocument": {"success": True},
    "client/registerCapability": None,
}


def frame(message: Any) -> bytes:
    """`message` as JSON with its Content-Length header."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawClient:
    """One server process spoken to over its stdio pipes."""

    def __init__(self, process: asyncio.subprocess.Process, stderr: Path, scratch: tempfile.TemporaryDirectory[str]):
        self.process = process
        self.stderr_path = stderr
        self._scratch = scratch
        self.received: list[dict[str, Any]] = []
        """Every message from the server, in order (responses, notifications, requests)."""
        self._responses: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.init_options: dict[str, Any] = {}
        """`initializationOptions` for `initialize()` (e.g. the fake DeepSeek's URL and a key)."""
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> RawClient:
        scratch = tempfile.TemporaryDirectory(prefix="flashpro-raw-")
        stderr = Path(scratch.name) / "stderr.txt"
        ledger = Path(scratch.name) / "ledger.sqlite3"
        with stderr.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "flashpro", "lsp", *args,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                env=env if env is not None else clean_env(FLASHPRO_LEDGER=str(ledger)),
                limit=2**26,
            )
        return cls(process, stderr, scratch)

    # -- sending ---------------------------------------------------------------------------
    async def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        await self.process.stdin.drain()

    async def send(self, message: Any) -> None:
        await self.send_bytes(frame(message))

    async def notify(self, method: str, params: Any = None) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Any = None, *, timeout: float = 60) -> dict[str, Any]:
        """Send a request with a fresh id and wait for the response with that id."""
        msg_id = next(self._ids)
        await self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await self.response(msg_id, timeout=timeout)

    async def response(self, msg_id: Any, *, timeout: float = 60) -> dict[str, Any]:
        """The response to the request `msg_id` (sent by the test, raw)."""
        future = self._responses.setdefault(msg_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    async def initialize(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """`initialize` (with `init_options` unless `params` says otherwise), then `initialized`."""
        params = params or {**INITIALIZE_PARAMS, "initializationOptions": self.init_options}
        response = await self.request("initialize", params)
        await self.notify("initialized", {})
        return response

    # -- what came back --------------------------------------------------------------------
    def notifications(self, method: str) -> list[Any]:
        return [m.get("params") for m in self.received if m.get("method") == method and "id" not in m]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def wait_exit(self, timeout: float = 30) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def close(self) -> None:
        """End the process (politely if it still runs) and stop reading."""
        if self.process.returncode is None:
            try:
                await self.request("shutdown", timeout=10)
                await self.notify("exit")
                await self.wait_exit(10)
            except (TimeoutError, ConnectionError, OSError):
                pass
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()
        self._scratch.cleanup()

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
                message = json.loads(await stdout.readexactly(length))
                self.received.append(message)
                self._dispatch(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for future in self._responses.values():
                if not future.done():
                    future.set_exception(ConnectionError("the server closed its output"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:  # a response to the test
            future = self._responses.setdefault(message.get("id"), asyncio.get_running_loop().create_future())
            if not future.done():
                future.set_result(message)
        elif "id" in message:  # the server asks something
            answer = _ANSWERS.get(method)
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": answer}
            asyncio.ensure_future(self.send(reply))
