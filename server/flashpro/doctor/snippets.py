"""Editor configurations for the flashpro in use, with the absolute path to start it.

`server_command()` is the command line an editor should run: this installation's `flashpro`
script (the one next to the interpreter, as pipx, uv and venvs install it) with `lsp`; when
there is none (a checkout run with `python -m flashpro`), the interpreter with `-m flashpro lsp`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

__all__ = ["executable", "server_command", "snippets"]


def executable() -> str:
    """The absolute path of the `flashpro` script in use (or of the interpreter, if none)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "flashpro" and argv0.exists():
        return os.path.abspath(argv0)
    beside = Path(sys.executable).parent / ("flashpro.exe" if os.name == "nt" else "flashpro")
    if beside.exists():
        return os.path.abspath(beside)
    return os.path.abspath(sys.executable)


def server_command() -> list[str]:
    """The command line that starts this flashpro's language server."""
    program = executable()
    if Path(program).stem == "flashpro":
        return [program, "lsp"]
    return [program, "-m", "flashpro", "lsp"]


def _lua(items: list[str]) -> str:
    return "{ " + ", ".join(json.dumps(item) for item in items) + " }"


def _elisp(items: list[str]) -> str:
    return "(" + " ".join(json.dumps(item) for item in items) + ")"


def snippets(command: list[str] | None = None) -> dict[str, str]:
    """Neovim, Helix, Emacs and VS Code configurations that start `command`."""
    cmd = command or server_command()
    helix_args = ", ".join(json.dumps(arg) for arg in cmd[1:])
    return {
        "neovim": (
            "-- init.lua (Neovim 0.11+)\n"
            "vim.lsp.config('flashpro', {\n"
            f"  cmd = {_lua(cmd)},\n"
            "  root_markers = { '.git' },\n"
            "})\n"
            "vim.lsp.enable('flashpro')\n"
            "if vim.lsp.inline_completion then vim.lsp.inline_completion.enable() end  -- 0.12+: ghost text"
        ),
        "helix": (
            "# languages.toml\n"
            "[language-server.flashpro]\n"
            f"command = {json.dumps(cmd[0])}\n"
            f"args = [{helix_args}]\n"
            "\n"
            "[[language]]\n"
            'name = "python"\n'
            'language-servers = ["pylsp", "flashpro"]'
        ),
        "emacs": (
            ";; init.el (eglot)\n"
            "(with-eval-after-load 'eglot\n"
            "  (add-to-list 'eglot-server-programs\n"
            f"               '((python-mode python-ts-mode) . {_elisp(cmd)})))"
        ),
        "vscode": (
            "// settings.json (the flashpro extension)\n"
            f'"flashpro.server.command": {json.dumps(cmd)}'
        ),
    }
