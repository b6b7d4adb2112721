"""The real flashpro server, driven over stdio as VS Code drives it (tests/lsp_session.py).

Each keystroke is one incremental `textDocument/didChange` plus one `textDocument/inlineCompletion`
(trigger Automatic) sent with an explicit id; a request still pending when the next key arrives
gets `$/cancelRequest`. With `editor="neovim"` (Neovim 0.12's capabilities and habit) the request
goes out only after `idle_s` (200 ms) without typing, and latency counts from the last key (the
server overhead still from the request). An accepted suggestion is applied as one edit, followed
by its `flashpro.accept` command (whole accept) or `textDocument/didPartiallyAcceptCompletion` (first
line only), then a new inlineCompletion, as VS Code re-triggers after an accept.

Server overhead, for answers that returned items: the editor-seen time minus the time the fake
API spent on the request that served it (the finished FIM record overlapping the request most:
`completed_at - started_at`, clipped to the request's window). Answers given without an API call
count in full. `pre_api` (request in -> API call started; includes any debounce wait) and
`post_api` (API answer complete -> LSP answer out) split it.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from bench.replay_driver import Visible
from bench.replay_metrics import Tally
from bench.replay_scenarios import Scenario
from tests.lsp_session import Session, start_session

__all__ = ["FlashproStrategy", "overheads"]

DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FlashproStrategy:
    name = "flashpro"

    def __init__(
        self,
        tally: Tally,
        init_options: dict[str, Any],
        ledger: Path,
        editor: str = "vscode",
        server_log: Path | None = None,
        idle_s: float = 0.2,
    ):
        self.tally = tally
        self.idle_s = idle_s if editor == "neovim" else 0.0
        self._idle: asyncio.TimerHandle | None = None
        self._changed_at = 0.0
        self.init_options = init_options
        self.ledger = ledger
        self.editor = editor
        self.server_log = server_log
        self.warmup_ms: float | None = None
        self.visible: Visible | None = None
        self.answers: list[tuple[float, float]] = []  # (sent, received) of answers with items
        self.trace: list[dict[str, Any]] = []  # one entry per inlineCompletion request
        self._cm: AbstractAsyncContextManager[Session] | None = None
        self.session: Session | None = None
        self._sc: Scenario | None = None
        self._k = 0
        self._version = 0
        self._n = 0
        self._pending: tuple[str, asyncio.Future[Any]] | None = None
        self._cancelled: set[str] = set()
        self._futures: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        """Start the server (its stderr log goes to `server_log`, else nowhere), then warm it up
        with one invoked request on a throw-away document: the first request pays for loading
        the tokenizer, which is a start-up cost, not a per-keystroke one (see `warmup_ms`)."""
        self._cm = start_session(
            self.editor,
            init_options=self.init_options,
            ledger=self.ledger,
            log_level="DEBUG" if self.server_log is not None else None,
        )
        self.session = await self._cm.__aenter__()
        self._redirect_stderr()
        uri = "file:///workspace/replay_warmup.py"
        self.session.open(uri, "def add(a, b):\n    \n")
        began = time.monotonic()
        try:
            await asyncio.wait_for(self.session.inline(uri, 1, 4, invoked=True), timeout=30)
            self.warmup_ms = (time.monotonic() - began) * 1000
        except Exception:  # noqa: BLE001 - a failed warm-up is reported as None
            self.warmup_ms = None
        self.session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await asyncio.sleep(0.3)

    def _redirect_stderr(self) -> None:
        """pytest-lsp forwards the server's stderr (an INFO line per call) to ours; send it to
        `server_log` instead (or drop it), still draining the pipe so the server never blocks."""
        client = self.session.client if self.session is not None else None
        process = getattr(client, "_server", None)
        forwarder = getattr(client, "_stderr_forwarder", None)
        if process is None or process.stderr is None or forwarder is None:
            return
        forwarder.cancel()
        log = open(self.server_log, "ab") if self.server_log else None  # noqa: SIM115 - closed by the task

        async def drain() -> None:
            try:
                while line := await process.stderr.readline():
                    if log is not None:
                        log.write(line)
            finally:
                if log is not None:
                    log.close()

        client._stderr_forwarder = asyncio.ensure_future(drain())  # noqa: SLF001 - so stop() cancels it

    async def stop(self) -> None:
        if self._cm is not None:
            await self._cm.__aexit__(None, None, None)
            self._cm = None

    # -- the editor ----------------------------------------------------------------------------

    async def open(self, sc: Scenario) -> None:
        assert self.session is not None
        self._sc, self._k, self.visible = sc, 0, None
        self._version += 1
        self.session.open(sc.uri, sc.initial_text)

    def key(self, k: int, text: str) -> None:
        self._edit(k, text)
        self._ask()

    def accept(self, suggestion: Visible, n: int, k: int) -> None:
        assert self.session is not None
        inserted = suggestion.text[:n]
        self._edit(k, inserted)
        item = suggestion.item
        command = getattr(item, "command", None)
        if n == len(suggestion.text) and command is not None:
            future = asyncio.ensure_future(self.session.execute(command.command, *(command.arguments or [])))
            self._keep(future)
        elif item is not None:
            payload = {"item": get_converter().unstructure(item), "acceptedLength": _utf16(inserted)}
            self.session.client.protocol.notify(DID_PARTIALLY_ACCEPT, payload)
        self._ask()

    async def close(self, sc: Scenario) -> None:
        assert self.session is not None
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._cancel_pending()
        if self._futures:
            await asyncio.wait(list(self._futures), timeout=10)
        self.visible = None
        self.session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=sc.uri))
        )
        await asyncio.sleep(0.2)

    async def probe(self, sc: Scenario, n: int) -> list[tuple[float, float]]:
        """Server overhead without the debounce: reopen `sc`, then `n` times type one key of the
        block and send an *invoked* request (no debounce, no reuse) and wait for its answer.
        Returns (sent, received) of the answers with items."""
        assert self.session is not None
        answers: list[tuple[float, float]] = []
        uri = sc.uri.replace(".py", ".probe.py")
        self.session.open(uri, sc.initial_text)
        k = 0
        for _ in range(n):
            if k >= len(sc.block):
                break
            text = sc.key_at(k)
            line, col = sc.position(k)
            self.session.edit(uri, (line, col), (line, col), text)
            k += len(text)
            line, col = sc.position(k)
            sent = time.monotonic()
            try:
                items = await asyncio.wait_for(self.session.inline(uri, line, col, invoked=True), timeout=30)
            except Exception:  # noqa: BLE001 - a failed probe is skipped
                continue
            received = time.monotonic()
            if items:
                answers.append((sent, received))
        self.session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await asyncio.sleep(0.2)
        return answers

    # -- internals -----------------------------------------------------------------------------

    def _keep(self, future: asyncio.Future[Any]) -> None:
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())

    def _ask(self) -> None:
        """Request now (VS Code), or once the user has not typed for `idle_s` (Neovim)."""
        if not self.idle_s:
            self._request()
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(self.idle_s, self._request)

    def _edit(self, k: int, text: str) -> None:
        assert self.session is not None and self._sc is not None
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._changed_at = time.monotonic()
        self._cancel_pending()
        line, col = self._sc.position(k)
        self.session.edit(self._sc.uri, (line, col), (line, col), text)
        self._k = k + len(text)
        self._version += 1
        self.visible = None

    def _cancel_pending(self) -> None:
        assert self.session is not None
        if self._pending is None:
            return
        msg_id, future = self._pending
        self._pending = None
        if not future.done():
            self._cancelled.add(msg_id)
            self.tally.lsp_cancels += 1
            self.session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    def _request(self) -> None:
        assert self.session is not None and self._sc is not None
        self._n += 1
        msg_id = f"replay-inline-{self._n}"
        line, col = self._sc.position(self._k)
        params = self.session.inline_params(self._sc.uri, line, col)
        version, k = self._version, self._k
        self._idle = None
        sent = time.monotonic()
        future = asyncio.ensure_future(
            self.session.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
            )
        )
        self.tally.lsp_requests += 1
        self._pending = (msg_id, future)
        self._keep(future)
        # Editor-seen latency runs from the last key: the request itself (VS Code), or the key
        # before the editor's own idle wait (Neovim).
        key_at = self._changed_at if self.idle_s else sent
        future.add_done_callback(lambda f: self._answered(f, msg_id, sent, version, k, key_at))

    def _answered(
        self, future: asyncio.Future[Any], msg_id: str, sent: float, version: int, k: int, key_at: float
    ) -> None:
        received = time.monotonic()
        entry: dict[str, Any] = {
            "id": msg_id, "k": k, "sent": sent, "ms": round((received - sent) * 1000, 2),
            "cancelled": msg_id in self._cancelled,
        }
        self.trace.append(entry)
        if future.cancelled() or future.exception() is not None:
            entry["outcome"] = "error"
            if msg_id not in self._cancelled:
                self.tally.lsp_errors += 1
            return
        result = future.result()
        items = list(result.items if isinstance(result, types.InlineCompletionList) else (result or []))
        text, item = self._first(items, k)
        entry["text"] = text
        if not text:
            entry["outcome"] = "empty"
            self.tally.empty_answers += 1
            return
        entry["outcome"] = "stale" if version != self._version else "shown"
        self.tally.latency_ms.append((received - key_at) * 1000)
        self.answers.append((sent, received))
        if version != self._version:
            self.tally.stale_answers += 1
            return
        command = getattr(item, "command", None)
        args = getattr(command, "arguments", None) or []
        suggestion_id = str(args[0]) if args else msg_id
        self.visible = Visible(suggestion_id, text, k, item)
        self.tally.shown.add(suggestion_id)

    def _first(self, items: list[Any], k: int) -> tuple[str, Any]:
        """The first item's text as an insertion at the cursor ("" if it is not one)."""
        assert self._sc is not None
        for item in items:
            text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
            rng = item.range
            if rng is not None:
                line, col = self._sc.position(k)
                if rng.start.line != line or rng.end != types.Position(line=line, character=col):
                    continue
                if rng.start.character != col:  # the item re-types part of the line: strip it
                    head = self._sc.before(k).rsplit("\n", 1)[-1]
                    typed = head.encode("utf-16-le")[rng.start.character * 2 :].decode("utf-16-le")
                    if not text.startswith(typed):
                        continue
                    text = text[len(typed) :]
            if text:
                return text, item
        return "", None


def overheads(answers: list[tuple[float, float]], records: list[Any], tally: Tally) -> None:
    """Fill tally.overhead_ms / pre_api_ms / post_api_ms (see the module docstring)."""
    done = [r for r in records if r.finished and r.completed_at is not None]
    done.sort(key=lambda r: r.completed_at)
    for sent, received in answers:
        best, overlap = None, 0.0
        for record in done:
            if not (sent <= record.completed_at <= received + 0.05):  # type: ignore[operator]
                continue
            common = min(received, record.completed_at) - max(sent, record.started_at)  # type: ignore[type-var]
            if common > overlap:
                best, overlap = record, common
        total = received - sent
        tally.overhead_ms.append(max(total - overlap, 0.0) * 1000)
        if best is None:
            tally.local_answers += 1
            continue
        tally.pre_api_ms.append(max(best.started_at - sent, 0.0) * 1000)
        tally.post_api_ms.append(max(received - best.completed_at, 0.0) * 1000)
