"""The `flashpro` command line: version, help, and the server over TCP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from flashpro import __version__
from tests.lsp_session import clean_env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashpro", *args], capture_output=True, text=True, env=clean_env())


def test_version_and_help() -> None:
    assert _run("--version").stdout.strip() == f"flashpro {__version__}"
    usage = _run("--help").stdout
    for command in ("lsp", "demo", "doctor", "report"):
        assert command in usage
    assert "--tcp" in _run("lsp", "--help").stdout
    assert "--serve-api" in _run("demo", "--help").stdout
    assert "--settings" in _run("doctor", "--help").stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_message(conn: socket.socket) -> dict[str, object]:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += conn.recv(4096)
    header, _, rest = buffer.partition(b"\r\n\r\n")
    length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += conn.recv(4096)
    return json.loads(rest[:length])


def test_tcp_server_answers_initialize() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flashpro", "lsp", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline, "the TCP server never listened"
                time.sleep(0.1)
        with conn:
            conn.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
            reply = _read_message(conn)
            while "id" not in reply:  # notifications may come first
                reply = _read_message(conn)
            result = reply["result"]
            assert isinstance(result, dict)
            assert result["serverInfo"] == {"name": "flashpro", "version": __version__}
            assert "inlineCompletionProvider" in result["capabilities"]
    finally:
        server.kill()
        server.wait()
