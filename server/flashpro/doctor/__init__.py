"""`flashpro doctor`: checks of the installation and settings, and editor configurations.

- ``checks``: one function per check (Python, PATH, key, base URL, API, models, prices, ledger);
- ``snippets``: Neovim / Helix / Emacs / VS Code configurations with this flashpro's absolute path;
- ``command``: the command line, text or ``--json`` output and the exit status.
"""

from __future__ import annotations

from flashpro.doctor.command import run_doctor

__all__ = ["run_doctor"]
