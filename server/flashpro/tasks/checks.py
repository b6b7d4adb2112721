"""The checks a task runs on every result — chosen by name in the plan, run by the server.

| name              | what runs                                                              |
|-------------------|------------------------------------------------------------------------|
| `compiles`        | Python files: `compile()` in-process; other files: reported not checked |
| `lint`            | `ruff check` on the written Python files, counting only new problems   |
| `tests:<selector>`| pytest on the selector in the shadow copy, only with `tasks.runTests`  |
| `<name>`          | the user's own command `flashpro.tasks.checks.<name>` (an argv)         |

A model never chooses a command: unknown names are refused when the plan is checked. Commands
run in the shadow copy with a timeout, in their own process group (cancelling the task kills
them), with an environment stripped of the API key and anything else that looks like a secret.
A check that cannot run says so (`not_run`) and never counts as passed; a check the settings
leave off is `skipped`. Lint compares the file before and after the node's edit, so problems the
change did not introduce never fail it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flashpro.config import TaskSettings

__all__ = ["CheckResult", "Checker", "clean_environment"]

_SECRET_NAME = re.compile(r"(?i)(^DEEPSEEK_|^FLASHPRO_|KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|SESSION|COOKIE)")
_KEEP = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL", "SYSTEMROOT"})
_OUTPUT_CHARS = 6000


def clean_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the API key and anything named like a credential."""
    return {k: v for k, v in env.items() if k in _KEEP or not _SECRET_NAME.search(k)}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's result: `passed`, `failed`, `skipped` (settings) or `not_run` (cannot run)."""

    name: str
    status: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """`lint ✓`, `tests:tests/test_a.py ✗`, `compiles –` for the review and annotations."""
        mark = {"passed": "✓", "failed": "✗"}.get(self.status, "–")
        return f"{self.name} {mark}"


class Checker:
    """Runs checks in one shadow copy."""

    def __init__(self, folder: Path, settings: TaskSettings, env: Mapping[str, str] | None = None) -> None:
        self.folder = folder
        self.settings = settings
        self._env = clean_environment(os.environ if env is None else env)
        paths = [str(folder), str(folder / "src")]
        self._env["PYTHONPATH"] = os.pathsep.join(paths)  # the shadow's modules win over installs
        self._env["PYTHONDONTWRITEBYTECODE"] = "1"

    def python(self, workspace: Path) -> str:
        """The interpreter for tests: the setting, else the workspace's .venv, else flashpro's."""
        if self.settings.python:
            return self.settings.python
        for candidate in (workspace / ".venv" / "bin" / "python", workspace / ".venv" / "Scripts" / "python.exe"):
            if candidate.exists():
                return str(candidate)
        return sys.executable

    async def run(
        self, checks: list[str], written: Mapping[str, str | None], workspace: Path
    ) -> list[CheckResult]:
        """Run `checks` on the shadow; `written` maps each written path to its text before."""
        results = []
        for name in checks:
            if name == "compiles":
                results.append(self._compiles(written))
            elif name == "lint":
                results.append(await self._lint(written))
            elif name.startswith("tests:"):
                results.append(await self._tests(name, workspace))
            elif name in self.settings.checks:
                results.append(await self._command(name, self.settings.checks[name]))
            else:
                results.append(CheckResult(name, "not_run", "unknown check"))
        return results

    def _compiles(self, written: Mapping[str, str | None]) -> CheckResult:
        python = [p for p in written if p.endswith((".py", ".pyi"))]
        if not python:
            other = ", ".join(sorted(written)) or "no files"
            return CheckResult("compiles", "not_run", f"not checked: no compiler check for {other}")
        errors = []
        for path in python:
            text = (self.folder / path).read_text(encoding="utf-8", errors="replace")
            try:
                compile(text, path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                line = getattr(exc, "lineno", None)
                errors.append(f"{path}:{line}: {getattr(exc, 'msg', exc)}")
        return CheckResult("compiles", "failed" if errors else "passed", "\n".join(errors))

    async def _lint(self, written: Mapping[str, str | None]) -> CheckResult:
        python = [p for p in written if p.endswith((".py", ".pyi"))]
        if not python:
            return CheckResult("lint", "not_run", "not checked: no Python files written")
        new: list[str] = []
        for path in python:
            now = await self._ruff(path, (self.folder / path).read_text(encoding="utf-8", errors="replace"))
            if now is None:
                return CheckResult("lint", "not_run", "ruff could not run")
            before = Counter(await self._ruff(path, written[path]) or []) if written[path] else Counter()
            for problem, times in (Counter(now) - before).items():
                new += [f"{path}: {problem}"] * times
        return CheckResult("lint", "failed" if new else "passed", "\n".join(new))

    async def _ruff(self, path: str, text: str | None) -> list[str] | None:
        """`code message` of each ruff problem in `text` (as file `path`); None if ruff fails."""
        argv = [sys.executable, "-m", "ruff", "check", "--output-format=json", "--no-cache", "--stdin-filename", path, "-"]
        code, output = await self._exec(argv, stdin=(text or "").encode())
        if code not in (0, 1):
            return None
        try:
            found = json.loads(output or "[]")
        except ValueError:
            return None
        return [f"{item.get('code')} {item.get('message')}" for item in found]

    async def _tests(self, name: str, workspace: Path) -> CheckResult:
        if not self.settings.run_tests:
            return CheckResult(name, "skipped", "flashpro.tasks.runTests is off for this workspace")
        selector = name[len("tests:") :].strip()
        argv = [self.python(workspace), "-m", "pytest", "-q", "-x", "--no-header", "-p", "no:cacheprovider", selector]
        code, output = await self._exec(argv)
        if code == 0:
            return CheckResult(name, "passed", _tail(output))
        if code is None:
            return CheckResult(name, "failed", f"timed out after {self.settings.check_timeout:g} s\n{_tail(output)}")
        if code == 5:
            return CheckResult(name, "failed", f"no tests ran for {selector}\n{_tail(output)}")
        return CheckResult(name, "failed", _tail(output))

    async def _command(self, name: str, argv: list[str]) -> CheckResult:
        if not argv:
            return CheckResult(name, "not_run", "empty command")
        try:
            code, output = await self._exec(argv)
        except FileNotFoundError:
            return CheckResult(name, "not_run", f"command not found: {argv[0]}")
        if code is None:
            return CheckResult(name, "failed", f"timed out after {self.settings.check_timeout:g} s")
        return CheckResult(name, "passed" if code == 0 else "failed", _tail(output))

    async def _exec(self, argv: list[str], stdin: bytes | None = None) -> tuple[int | None, str]:
        """Run `argv` in the shadow; (exit code or None on timeout, combined output)."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=self.folder,
            env=self._env,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(stdin), self.settings.check_timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            _kill(process)
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return None, ""
        return process.returncode, out.decode("utf-8", errors="replace")


def _kill(process: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        try:
            process.kill()
        except ProcessLookupError:
            pass


def _tail(output: str) -> str:
    output = output.strip()
    return output if len(output) <= _OUTPUT_CHARS else "…" + output[-_OUTPUT_CHARS:]
