"""The `flashpro` command line: `lsp` (the language server), `demo`, `doctor` and `report`.

`flashpro lsp` in a terminal says what it is in one stderr line (stdin a TTY: that it waits for
an editor over stdio; `--tcp`: where it listens) and quits on Ctrl-C with exit status 0: the
ledger is flushed and the process ends at once, since the thread blocked reading stdin cannot
be woken any other way.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType
from typing import Any

from flashpro import __version__

__all__ = ["main"]

_OWN_PARSERS = ("report", "demo", "doctor")
"""Subcommands that parse their own arguments (their --help lists their options)."""


def _parse_hostport(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or PORT, got {value!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {number}")
    return host or "127.0.0.1", number


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flashpro",
        description="A token-efficient AI language server for DeepSeek V4 (Flash FIM, Pro planning).",
    )
    parser.add_argument("--version", action="version", version=f"flashpro {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    lsp = sub.add_parser("lsp", help="run the language server (stdio by default; editors start it)")
    lsp.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        type=_parse_hostport,
        help="listen on TCP instead of stdio (port 0: any free port; the port is printed)",
    )
    lsp.add_argument("--stdio", action="store_true", help="use stdio (the default; accepted for editors that pass it)")
    lsp.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO to the editor, WARNING to stderr; given: both)",
    )
    sub.add_parser("demo", help="watch flashpro complete, review and design a file in the terminal", add_help=False)
    sub.add_parser("doctor", help="check the key, API, models, prices and ledger; print editor configs", add_help=False)
    sub.add_parser("report", help="spend, cache-hit rate and acceptance from the ledger", add_help=False)
    return parser


def _quit_on_interrupt(server: Any) -> None:
    """Ctrl-C (SIGINT): flush the ledger, then exit 0 without a traceback."""

    def stop(signum: int, frame: FrameType | None) -> None:
        try:
            server.core.accounting.close()
        except Exception:  # noqa: BLE001 - quitting must not fail; rows already committed stay
            pass
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - e.g. a reentrant write; nothing left to say
            pass
        os._exit(0)

    signal.signal(signal.SIGINT, stop)


def _say(text: str) -> None:
    """One line on stderr, at once."""
    print(text, file=sys.stderr, flush=True)


def _run_lsp(args: argparse.Namespace) -> int:
    from flashpro.logs import configure_logging
    from flashpro.lsp import create_server

    level = getattr(logging, args.log_level or "INFO")
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Editors log a server's stderr as errors (Neovim's lsp.log): only warnings go there; the
    # full log at --log-level reaches the editor as window/logMessage.
    stderr.setLevel(level if args.log_level else max(level, logging.WARNING))
    configure_logging(stderr, level)
    server = create_server(level)
    _quit_on_interrupt(server)
    name = f"flashpro {__version__} language server"
    if args.tcp:
        host, port = args.tcp

        def listening(bound_host: str, bound_port: int) -> None:
            _say(f"{name}: listening on {bound_host}:{bound_port} (LSP over TCP; Ctrl-C quits)")

        try:
            server.start_tcp(host, port, listening)
        except OSError as exc:  # the address is taken or not ours
            _say(f"{name}: cannot listen on {host}:{port}: {exc.strerror or exc}")
            return 1
        return server.exit_code
    if sys.stdin is not None and sys.stdin.isatty():
        _say(
            f"{name}: waiting for an editor to speak LSP on stdin/stdout; this is not an "
            "interactive prompt (try `flashpro demo` or `flashpro doctor`). Ctrl-C quits."
        )
    server.start_io()
    return server.exit_code  # 1 after `exit` without `shutdown`, or a framing error


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `flashpro` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _OWN_PARSERS:
        command, rest = argv[0], argv[1:]
        if command == "report":
            from flashpro.ledger.report import run_report

            return run_report(rest)
        if command == "demo":
            from flashpro.demo import run_demo

            return run_demo(rest)
        from flashpro.doctor import run_doctor

        return run_doctor(rest)
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "lsp":
        return _run_lsp(args)
    parser.print_help()
    return 0
