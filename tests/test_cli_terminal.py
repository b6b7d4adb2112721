"""`flashpro lsp` started by a person in a terminal: one line saying what it is, Ctrl-C quits.

Real processes, real signals: the stdio server runs on a pseudo-terminal (its controlling
terminal, so typing Ctrl-C there sends SIGINT as a terminal does); the TCP server gets SIGINT
from `os.kill` once it has printed where it listens.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from flashpro import __version__
from tests.lsp_session import clean_env

DEADLINE_S = 60.0
"""Upper bound on waiting for a line (a loaded machine); the tests wait for events, not time."""


def _read_until(fd: int, pattern: bytes) -> bytes:
    """Read from `fd` until `pattern` appears (or EOF / the deadline, which fail the test)."""
    seen = b""
    end = time.monotonic() + DEADLINE_S
    while pattern not in seen:
        left = end - time.monotonic()
        assert left > 0, f"no {pattern!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the pty's other side closed
            chunk = b""
        assert chunk, f"EOF before {pattern!r}; got {seen!r}"
        seen += chunk
    return seen


def _read_rest(fd: int) -> bytes:
    rest = b""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], end - time.monotonic())
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        rest += chunk
    return rest


def _spawn_on_pty(*args: str) -> tuple[int, int]:
    """Start `python -m flashpro ARGS` with a new pty as its controlling terminal."""
    env = clean_env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        try:
            os.execve(sys.executable, [sys.executable, "-m", "flashpro", *args], env)
        finally:
            os._exit(127)
    return pid, fd


def _exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_stdio_on_a_terminal_says_what_it_is_and_ctrl_c_exits_0() -> None:
    pid, fd = _spawn_on_pty("lsp")
    try:
        banner = _read_until(fd, b"Ctrl-C quits.")
        os.write(fd, b"\x03")  # Ctrl-C typed on the terminal: SIGINT to its foreground group
        rest = _read_rest(fd)
        code = _exit_code(pid)
    finally:
        os.close(fd)
    lines = [line for line in banner.decode().splitlines() if line.strip()]
    assert len(lines) == 1, banner
    assert lines[0].startswith(f"flashpro {__version__} language server: waiting for an editor")
    assert "stdin/stdout" in lines[0]
    assert code == 0
    assert b"Traceback" not in rest and b"Fatal Python error" not in rest
    assert rest.replace(b"^C", b"").strip() == b""


def test_stdio_from_an_editor_prints_nothing() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "flashpro", "lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    out, err = server.communicate(b"", timeout=DEADLINE_S)  # EOF on stdin: the editor went away
    assert err == b"" and out == b""


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("connect", [False, True], ids=["idle", "connected"])
def test_tcp_prints_where_it_listens_and_sigint_exits_0(connect: bool) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "flashpro", "lsp", "--tcp", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline().decode()
        found = re.search(r"listening on 127\.0\.0\.1:(\d+) ", line)
        assert found, line
        assert "Ctrl-C quits" in line
        if connect:
            with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=DEADLINE_S) as conn:
                conn.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
                assert b"Content-Length" in conn.recv(65536)
                server.send_signal(signal.SIGINT)
                code = server.wait(timeout=DEADLINE_S)
        else:
            server.send_signal(signal.SIGINT)
            code = server.wait(timeout=DEADLINE_S)
        rest = server.stderr.read().decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert code == 0
    assert "Traceback" not in rest and "Fatal Python error" not in rest


def test_bad_tcp_port_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flashpro", "lsp", "--tcp", "127.0.0.1:99999"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=DEADLINE_S,
    )
    assert result.returncode == 2
    assert "port must be 0..65535" in result.stderr


def test_tcp_port_in_use_is_one_line_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "flashpro", "lsp", "--tcp", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=DEADLINE_S,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
