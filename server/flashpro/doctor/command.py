"""`flashpro doctor`: is everything in place? One line per check, then editor configurations.

    flashpro doctor [--settings FILE] [--offline] [--json] [--timeout SECONDS]

Settings are read as the server reads them: environment variables (`DEEPSEEK_API_KEY`,
`DEEPSEEK_BASE_URL`, `FLASHPRO_LEDGER`), then the optional `--settings` JSON file (the
`flashpro` section, or an object holding it under `flashpro`, as editors send it). `--offline`
skips the `GET /models` call. Exit status: 0 when no check failed, 1 otherwise, 2 for bad
arguments (an unreadable settings file included). `--json` prints one object: `ok`, `checks`
(name, status, detail, fix), `command` and `snippets`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from flashpro import __version__
from flashpro.config import load_settings, merge_sources
from flashpro.doctor.checks import (
    Check,
    check_api,
    check_base_url,
    check_key,
    check_ledger,
    check_models,
    check_on_path,
    check_prices,
    check_python,
)
from flashpro.doctor.snippets import executable, server_command, snippets
from flashpro.ledger import default_ledger_path

__all__ = ["run_doctor"]

_MARKS = {"ok": ("✓", "green"), "fail": ("✗", "bold red"), "skip": ("–", "dim")}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flashpro doctor",
        description="Check Python, the API key and URL, the models and prices, and the ledger; "
        "print editor configurations that start this flashpro.",
    )
    parser.add_argument("--settings", metavar="FILE", help="a JSON file with flashpro settings (as an editor sends them)")
    parser.add_argument("--offline", action="store_true", help="do not call the API (GET /models)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds for the API call (default 5)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _read_settings(path: str | None) -> dict[str, Any] | None:
    """The settings file's object; raises ValueError with a message for the user."""
    if path is None:
        return None
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read settings from {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"settings in {path} must be a JSON object")
    return data


def _checks(args: argparse.Namespace, raw: dict[str, Any] | None) -> list[Check]:
    settings, problems = load_settings(merge_sources(raw))
    section = raw.get("flashpro", raw) if raw else {}
    from_file = isinstance(section, dict) and bool(section.get("apiKey") or section.get("api_key"))
    source = f"from {args.settings}" if from_file else "from DEEPSEEK_API_KEY"
    checks = [check_python(), check_on_path(executable())]
    if problems:
        checks.append(Check("settings", "fail", "; ".join(problems), "fix these values (their defaults apply meanwhile)"))
    elif raw is not None:
        checks.append(Check("settings", "ok", f"{args.settings}: valid"))
    checks += [check_key(settings, source), check_base_url(settings)]
    if args.offline:
        api, offered = Check("API", "skip", "not called (--offline)"), None
    else:
        api, offered = check_api(settings, args.timeout)
    checks += [api, check_models(settings, offered), check_prices(settings)]
    checks.append(check_ledger(default_ledger_path(settings.ledger_path)))
    return checks


def _print(console: Console, checks: list[Check], command: list[str]) -> None:
    console.print(f"flashpro {__version__} doctor", style="bold")
    width = max(len(check.name) for check in checks)
    for check in checks:
        mark, style = _MARKS[check.status]
        line = Text.assemble((mark, style), " ", (check.name.ljust(width), "bold"), "  ", check.detail)
        console.print(line, soft_wrap=True)
        if check.fix and check.status == "fail":
            console.print(Text(f"  {' ' * width}  → {check.fix}", style="yellow"), soft_wrap=True)
    console.print()
    console.print(Text("Editor configuration (this flashpro, absolute path):", style="bold"))
    for name, text in snippets(command).items():
        console.print(Text(f"\n[{name}]", style="bold cyan"))
        console.print(text, markup=False, highlight=False, soft_wrap=True)


def run_doctor(argv: list[str] | None = None) -> int:
    """Run `flashpro doctor` with `argv` (the arguments after `doctor`); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        raw = _read_settings(args.settings)
    except ValueError as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"flashpro doctor: {exc}", file=sys.stderr)
        return 2
    checks = _checks(args, raw)
    ok = all(check.ok for check in checks)
    command = server_command()
    if args.json:
        payload = {
            "ok": ok,
            "version": __version__,
            "checks": [check.to_dict() for check in checks],
            "command": command,
            "snippets": snippets(command),
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        _print(Console(highlight=False), checks, command)
    return 0 if ok else 1
