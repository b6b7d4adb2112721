"""The `flashpro` command line: `lsp` (the language server) and `report` (the ledger)."""

from __future__ import annotations

import argparse
import logging
import sys

from flashpro import __version__

__all__ = ["main"]


def _parse_hostport(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or PORT, got {value!r}") from None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flashpro",
        description="A token-efficient AI language server for DeepSeek V4 (Flash FIM, Pro planning).",
    )
    parser.add_argument("--version", action="version", version=f"flashpro {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    lsp = sub.add_parser("lsp", help="run the language server (stdio by default)")
    lsp.add_argument("--tcp", metavar="HOST:PORT", type=_parse_hostport, help="listen on TCP instead of stdio")
    lsp.add_argument("--stdio", action="store_true", help="use stdio (the default; accepted for editors that pass it)")
    lsp.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO to the editor, WARNING to stderr; given: both)",
    )
    sub.add_parser("report", help="spend, cache-hit rate and acceptance from the ledger", add_help=False)
    return parser


def _run_lsp(args: argparse.Namespace) -> int:
    from flashpro.lsp import create_server

    level = getattr(logging, args.log_level or "INFO")
    from flashpro.logs import configure_logging

    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Editors log a server's stderr as errors (Neovim's lsp.log): only warnings go there; the
    # full log at --log-level reaches the editor as window/logMessage.
    stderr.setLevel(level if args.log_level else max(level, logging.WARNING))
    configure_logging(stderr, level)
    server = create_server(level)
    if args.tcp:
        host, port = args.tcp
        server.start_tcp(host, port)
    else:
        server.start_io()
    return server.exit_code  # 1 after `exit` without `shutdown`, or a framing error


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `flashpro` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        from flashpro.ledger.report import run_report

        return run_report(argv[1:])
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "lsp":
        return _run_lsp(args)
    parser.print_help()
    return 0
