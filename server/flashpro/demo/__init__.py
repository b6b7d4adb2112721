"""`flashpro demo`: flashpro seen working in the terminal, with no editor and (offline) no key.

- ``model``: the offline model (FIM continuations of a known file, schema-valid action JSON);
  ``answers`` builds the action answers, ``cache`` models the prompt cache;
- ``api``: that model behind DeepSeek's HTTP endpoints on 127.0.0.1 (also ``--serve-api``);
- ``driver``: the simulated user typing into the real server over LSP, then Review and Design;
- ``view``: the live terminal view, or plain lines;
- ``command``: the command line and the closing report.
"""

from __future__ import annotations

from flashpro.demo.command import run_demo

__all__ = ["run_demo"]
