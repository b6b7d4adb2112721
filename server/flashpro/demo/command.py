"""`flashpro demo`: the command line around the driver, the offline API and the report.

    flashpro demo [FILE] [--speed X] [--max-seconds N] [--ledger PATH] [--no-live] [--offline]
    flashpro demo --serve-api [--port N]

With `DEEPSEEK_API_KEY` set (and no `--offline`) the server calls the real API; otherwise the
offline model answers on 127.0.0.1 and everything shown is labelled simulated. The live view
needs a terminal on stdout; `--no-live` (or a pipe) prints plain lines. The run ends with the
report of the demo's ledger (a temporary one unless `--ledger`, then only this run's rows).
Exit status: 0 when the file was typed and Review and Design both answered, 1 otherwise, 2 for
bad arguments.

`--serve-api` only runs the offline API in the foreground (URL and key printed; Ctrl-C stops),
for pointing an editor at it with DEEPSEEK_BASE_URL / DEEPSEEK_API_KEY.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from flashpro import __version__
from flashpro.demo.api import OfflineApi
from flashpro.demo.driver import DemoResult, Typist, language_of
from flashpro.demo.model import OfflineModel
from flashpro.demo.view import LiveView, PlainView, View
from flashpro.ledger import Ledger, LedgerError, render_report

__all__ = ["SAMPLE", "run_demo"]

SAMPLE = "inventory.py"
"""The file typed when none is given (package data: flashpro/demo/sample/)."""
_MAX_FILE_CHARS = 20_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flashpro demo",
        description="Watch flashpro type a file with inline completions, review it and design "
        "its TODO, then see what it cost. Offline (simulated) unless DEEPSEEK_API_KEY is set.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help=f"the file to type (default: a sample, {SAMPLE})")
    parser.add_argument("--speed", type=float, default=1.0, help="typing speed factor (default 1; 4 is brisk)")
    parser.add_argument(
        "--max-seconds", type=float, default=180.0, metavar="N", help="time for the whole run (default 180)"
    )
    parser.add_argument("--ledger", metavar="PATH", help="record into this ledger (default: a temporary one)")
    parser.add_argument("--no-live", action="store_true", help="plain lines instead of the live view")
    parser.add_argument("--offline", action="store_true", help="use the offline model even with an API key set")
    parser.add_argument(
        "--serve-api", action="store_true", help="only run the offline model's API for an editor (Ctrl-C stops)"
    )
    parser.add_argument("--port", type=int, default=0, help="port for --serve-api (default: any free port)")
    return parser


def _source(file: str | None) -> tuple[str, str]:
    """(name, text) of the file to type; raises ValueError with a message for the user."""
    if file is None:
        text = resources.files("flashpro.demo").joinpath("sample", SAMPLE).read_text(encoding="utf-8")
        return SAMPLE, text
    path = Path(file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {file}: {exc}") from None
    if not text.strip():
        raise ValueError(f"{file} is empty: nothing to type")
    if len(text) > _MAX_FILE_CHARS:
        raise ValueError(f"{file} has {len(text):,} characters; the demo types at most {_MAX_FILE_CHARS:,}")
    return path.name, text.replace("\r\n", "\n")


def serve_api(port: int) -> int:
    """`--serve-api`: the offline API in the foreground until Ctrl-C."""
    api = OfflineApi(port=port, latency_s=0.15, chunk_delay_s=0.01)
    try:
        api.bind()
    except OSError as exc:
        print(f"flashpro demo: cannot listen on 127.0.0.1:{port}: {exc}", file=sys.stderr)
        return 1
    print(f"flashpro offline model (SIMULATED answers, no real API) at {api.url}", flush=True)
    print(f"  export DEEPSEEK_BASE_URL={api.url}", flush=True)
    print(f"  export DEEPSEEK_API_KEY={api.key}", flush=True)
    print("Ctrl-C stops.", flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _report(console: Console, ledger_path: Path, root: Path, simulated: bool) -> bool:
    """The report of this run's rows; False when the ledger cannot be read."""
    label = "simulated: offline model, no API calls; $ = what DeepSeek would charge" if simulated else "DeepSeek API"
    console.print(Rule(f"flashpro report ({label})"))
    try:
        with Ledger(ledger_path, read_only=True) as ledger:
            report = ledger.report(workspace=[str(root), root.as_uri()])
            roots = ledger.workspaces()
    except LedgerError as exc:
        console.print(f"flashpro demo: {exc}", markup=False)
        return False
    render_report(report, console, roots)
    return report.total.calls > 0


def _summary(console: Console, result: DemoResult, simulated: bool) -> None:
    review = len(result.findings) if result.review.get("status") == "ok" else "failed"
    design = result.design_path.name if result.design_path is not None else "failed"
    console.print(
        f"demo: typed={'yes' if result.typed else 'no'} accepted={result.accepts} "
        f"accepted_chars={result.accepted_chars} keys={result.keys} review_findings={review} "
        f"design={design} simulated={'yes' if simulated else 'no'}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for problem in dict.fromkeys(result.problems):
        console.print(f"problem: {problem}", markup=False, highlight=False, soft_wrap=True)


def run_demo(argv: list[str] | None = None) -> int:
    """Run `flashpro demo` with `argv` (the arguments after `demo`); return the exit status."""
    args = _parser().parse_args(argv)
    if args.serve_api:
        return serve_api(args.port)
    if args.speed <= 0 or args.max_seconds <= 0:
        print("flashpro demo: --speed and --max-seconds must be positive", file=sys.stderr)
        return 2
    try:
        name, text = _source(args.file)
    except ValueError as exc:
        print(f"flashpro demo: {exc}", file=sys.stderr)
        return 2
    console = Console()
    live = not args.no_live and console.is_terminal
    key = os.environ.get("DEEPSEEK_API_KEY", "").strip()
    simulated = args.offline or not key
    with tempfile.TemporaryDirectory(prefix="flashpro-demo-") as scratch:
        root = Path(scratch) / "workspace"
        root.mkdir()
        ledger = Path(args.ledger).expanduser() if args.ledger else Path(scratch) / "ledger.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHPRO_")}
        env["FLASHPRO_LEDGER"] = str(ledger)
        api = None
        if simulated:
            model = OfflineModel()
            model.learn(text)
            api = OfflineApi(model, latency_s=0.12 / args.speed, chunk_delay_s=0.01 / args.speed).start()
            env.update(DEEPSEEK_BASE_URL=api.url, DEEPSEEK_API_KEY=api.key)
        where = "offline model, simulated" if simulated else env.get("DEEPSEEK_BASE_URL", "https://api.deepseek.com")
        title = f"flashpro {__version__} demo: {name} ({where})"
        view: View = LiveView(console, title, simulated, language_of(name)) if live else PlainView(console, title, simulated)
        typist = Typist(view, args.speed, time.monotonic() + args.max_seconds, 20.0 if simulated else 8.0, live)
        view.start()
        try:
            result = asyncio.run(typist.run(text, name, root, env))
        except KeyboardInterrupt:
            view.stop()
            console.print("flashpro demo: interrupted")
            return 130
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            view.stop()
            console.print(f"flashpro demo: the server could not be driven: {exc}", markup=False)
            return 1
        finally:
            if api is not None:
                api.stop()
        view.stop()
        recorded = _report(console, ledger, root, simulated)
        _summary(console, result, simulated)
    ok = result.typed and result.review.get("status") == "ok" and result.design.get("status") == "ok"
    return 0 if ok and recorded and not result.problems else 1
