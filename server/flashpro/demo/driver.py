"""The demo's simulated user: types a file into the real server, then asks for a review and a design.

The server is the real `flashpro lsp`, started and driven over stdio by `EditorClient` exactly
as an editor drives it. The user types one key at a time (Enter brings the next line's
indentation, as editors do); after every key the editor sends `didChange` and asks for an
inline completion, cancelling the one still pending. At the start of each line the user waits
for the answer; a suggestion on screen that is what comes next is accepted with one key
(wholly, or its first line when only that matches), anything else is typed over. Then Review
and Design run as the editor's commands would run them, and their results are shown.

Nothing touches the user's files: the document lives in a temporary workspace (the design is
written there) and the server's ledger is the one given, else a temporary one.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from flashpro.demo.view import View
from flashpro.lsp.client import EditorClient, Handlers, Suggestion

__all__ = ["DemoResult", "Typist", "accept_length", "keystroke"]

_LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".cpp": "cpp",
    ".rb": "ruby",
    ".sh": "shellscript",
    ".md": "markdown",
}
KEY_S = 0.05
"""Seconds per key at speed 1."""
LOOK_S = 0.35
"""Seconds the user looks at a suggestion before accepting it, at speed 1 (live view only)."""


def language_of(name: str) -> str:
    """The LSP language id for a file name (plain text when unknown)."""
    return _LANGUAGES.get(Path(name).suffix.lower(), "plaintext")


def keystroke(text: str, at: int) -> str:
    """What one key types at `at`: one character; Enter also brings the next line's indentation."""
    if text[at] != "\n":
        return text[at]
    end = at + 1
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[at:end]


def accept_length(suggestion: str, remaining: str) -> int:
    """How much of a suggestion the user accepts: all of it when it is what comes next, its
    first line when that is exactly the rest of the current line, else nothing."""
    if not suggestion.strip():
        return 0
    if remaining.startswith(suggestion):
        return len(suggestion)
    first = suggestion.split("\n", 1)[0]
    if first.strip() and first == remaining.split("\n", 1)[0]:
        return len(first)
    return 0


@dataclass(slots=True)
class DemoResult:
    """What the demo did, for the summary and the exit status."""

    typed: bool = False
    chars: int = 0
    keys: int = 0
    accepts: int = 0
    accepted_chars: int = 0
    pasted_chars: int = 0
    suggestions: int = 0
    review: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    design: dict[str, Any] = field(default_factory=dict)
    design_path: Path | None = None
    problems: list[str] = field(default_factory=list)


class Typist:
    """Runs one demo against a started server."""

    def __init__(self, view: View, speed: float, deadline: float, answer_timeout: float, live: bool) -> None:
        self.view = view
        self.speed = max(speed, 0.01)
        self.deadline = deadline
        self.answer_timeout = answer_timeout
        self.live = live
        self.result = DemoResult()
        self.shown_documents: list[str] = []
        self.client = EditorClient(
            Handlers(
                status=view.spend,
                diagnostics=self._diagnostics,
                message=self._message,
                show_document=self.shown_documents.append,
            )
        )
        self._review_uri: str | None = None
        self._pending: tuple[str, asyncio.Future[Suggestion | None]] | None = None
        self._reports: set[asyncio.Future[Any]] = set()

    # -- callbacks -------------------------------------------------------------------------
    def _diagnostics(self, uri: str, diagnostics: list[dict[str, Any]]) -> None:
        if uri != self._review_uri:
            return
        findings = []
        for diagnostic in diagnostics:
            if diagnostic.get("source") != "flashpro-review":
                continue
            line = int(diagnostic["range"]["start"]["line"]) + 1
            findings.append(f"line {line}: {diagnostic.get('message')}")
        self.result.findings = findings

    def _message(self, level: str, text: str) -> None:
        if level in ("error", "warning"):
            self.result.problems.append(text)
            self.view.event("error", text)

    # -- the run ---------------------------------------------------------------------------
    async def run(self, source: str, name: str, root: Path, env: dict[str, str]) -> DemoResult:
        """Type `source` as `root/name`, then review and design it."""
        uri = (root / name).as_uri()
        self.view.event("info", "starting `flashpro lsp` (the real server, over stdio)")
        server = await self.client.start(root, env)
        self.view.event("info", f"{server} is ready")
        try:
            self.client.open(uri, "", language_of(name))
            self.view.phase(f"Typing {name}")
            await self._type(uri, source)
            self.view.phase("Review (V4 Pro)")
            await self._review(uri)
            self.view.phase("Design (V4 Pro)")
            await self._design(uri, source)
            self.view.done()
            self.client.close_document(uri)
        finally:
            code = await self.client.close()
            if code not in (0, None):
                self.result.problems.append(f"the server exited with status {code}: {self.client.stderr_tail.strip()}")
        return self.result

    async def _type(self, uri: str, source: str) -> None:
        result, client = self.result, self.client
        k = 0
        visible: Suggestion | None = None
        while k < len(source):
            if time.monotonic() > self.deadline:
                rest = source[k:]
                client.insert(uri, k, rest)
                result.pasted_chars = len(rest)
                k = len(source)
                self.view.event("info", f"time is up: pasted the last {len(rest)} characters")
                break
            if visible is not None and visible.offset == k:
                n = accept_length(visible.text, source[k:])
                if n:
                    if self.live:
                        await asyncio.sleep(LOOK_S / self.speed)
                    self._keep(client.accept(uri, visible, n))
                    result.accepts += 1
                    result.accepted_chars += n
                    self.view.event("accept", f"{visible.text[:n]!r} ({n} chars, one key)")
                    k += n
                    visible = await self._ask(uri, k, wait=True)
                    self.view.typing(source[:k], visible.text if visible else None)
                    continue
                self.view.event("miss", f"{visible.text[:60]!r} is not what comes next")
            key = keystroke(source, k)
            client.insert(uri, k, key)
            k += len(key)
            result.keys += 1
            visible = await self._ask(uri, k, wait="\n" in key)
            self.view.typing(source[:k], visible.text if visible is not None else None)
        self._cancel_pending()
        if self._reports:
            await asyncio.wait(list(self._reports), timeout=self.answer_timeout)
        result.chars = len(source)
        result.typed = client.text(uri) == source
        self.view.typing(client.text(uri), None)
        helped = f"{result.accepted_chars} by {result.accepts} accepted suggestions"
        self.view.event(
            "info",
            f"typed {len(source)} characters: {result.keys} keys, {helped}"
            + (f", {result.pasted_chars} pasted" if result.pasted_chars else "")
            + (" · the document matches the file" if result.typed else " · THE DOCUMENT DIFFERS FROM THE FILE"),
        )

    async def _ask(self, uri: str, k: int, wait: bool) -> Suggestion | None:
        """Ask for a suggestion at `k`; wait for it (up to the answer timeout) or one key's time."""
        self._cancel_pending()
        msg_id, future = self.client.suggest(uri, k)
        self._pending = (msg_id, future)
        timeout = self.answer_timeout if wait else KEY_S / self.speed
        done, _ = await asyncio.wait([future], timeout=timeout)
        if not done or future.cancelled() or future.exception() is not None:
            return None
        suggestion = future.result()
        if suggestion is not None:
            self.result.suggestions += 1
        return suggestion

    def _cancel_pending(self) -> None:
        if self._pending is None:
            return
        msg_id, future = self._pending
        self._pending = None
        if not future.done():
            self.client.cancel(msg_id)
            future.add_done_callback(lambda f: f.cancelled() or f.exception())

    def _keep(self, future: asyncio.Future[Any] | None) -> None:
        if future is not None:
            self._reports.add(future)
            future.add_done_callback(self._reports.discard)
            future.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _command(self, command: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await asyncio.wait_for(self.client.execute(command, args), self._left())
        except TimeoutError:
            return {"status": "error", "message": f"{command} did not finish in time (--max-seconds)"}
        except Exception as exc:  # noqa: BLE001 - the server's error reply, shown as one line
            return {"status": "error", "message": f"{command} failed: {exc}"}
        return answer if isinstance(answer, dict) else {"status": "error", "message": repr(answer)}

    def _left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0) + self.answer_timeout * 6

    async def _review(self, uri: str) -> None:
        self._review_uri = uri
        last = self.client.text(uri).count("\n")
        self.view.event("info", f"flashpro.review on lines 1-{last + 1}")
        answer = await self._command("flashpro.review", {"uri": uri, "lines": [0, last], "empty": False, "now": True})
        self.result.review = answer
        if answer.get("status") != "ok":
            self.result.problems.append(str(answer.get("message")))
            self.view.event("error", str(answer.get("message")))
            return
        self.view.event("info", str(answer.get("message")))
        for finding in self.result.findings:
            self.view.event("finding", finding)

    async def _design(self, uri: str, source: str) -> None:
        lines = source.split("\n")
        target = next((i for i, line in enumerate(lines) if re.search(r"\bTODO\b", line)), None)
        if target is None:
            target = max((i for i, line in enumerate(lines) if line.strip()), default=0)
        self.view.event("info", f"flashpro.design at line {target + 1}: {lines[target].strip()[:70]}")
        args = {"uri": uri, "lines": [target, target], "empty": True, "now": True}
        answer = await self._command("flashpro.design", args)
        self.result.design = answer
        if answer.get("status") != "ok":
            self.result.problems.append(str(answer.get("message")))
            self.view.event("error", str(answer.get("message")))
            return
        shown = self.shown_documents[-1] if self.shown_documents else None
        path = Path(unquote(urlparse(shown).path)) if shown else Path(str(answer.get("path")))
        self.result.design_path = path
        self.view.event("info", f"design written to .flashpro/designs/{path.name}")
        if path.is_file():
            self.view.document(f"Design: {path.name}", path.read_text(encoding="utf-8"))
