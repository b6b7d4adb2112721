"""LSP side of tasks: the "Implement this" code actions, the command, progress, one reviewed edit.

`flashpro.implement {uri, lines}` (or `{design: path}`) runs a task with `$/progress`
("node 3/6 · attempt 2 · $0.012"), cancellable: cancelling aborts the calls in flight and applies
nothing. When the task is stuck the user is asked (Retry / Skip node / Abort). A finished task
is delivered as ONE `workspace/applyEdit` against the versions it started from, with one change
annotation per node (`needsConfirmation`: VS Code opens its refactor preview) where the client
supports annotations; other clients (eglot, Neovim 0.11, Vim) first get the Markdown review
(per-node diff and checks) and an Apply / Discard question. If the user edited the lines the
task changes meanwhile, nothing is overwritten: the review stays, and re-running is offered.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from flashpro.actions import LineSpan
from flashpro.documents import uri_to_path
from flashpro.documents.buffer import column_to_units
from flashpro.lsp.progress import Progress, show_document
from flashpro.lsp.server import FlashproLanguageServer
from flashpro.tasks import FileChange, Hunk, TaskResult, rebase
from flashpro.tasks.service import Started

__all__ = ["IMPLEMENT_COMMAND", "IMPLEMENT_KIND", "register_tasks", "run_implement", "task_actions"]

logger = logging.getLogger(__name__)

IMPLEMENT_COMMAND = "flashpro.implement"
IMPLEMENT_KIND = "refactor.flashpro.implement"


def task_actions(
    ls: FlashproLanguageServer, uri: str, target: LineSpan, resolve: bool
) -> list[types.CodeAction]:
    """"Implement this design" on a design document, else "Implement this" on `target`."""
    service = ls.core.tasks
    if service.root is None:
        return []
    suffix = service.title_suffix()
    args: dict[str, Any]
    if service.is_design(uri):
        title, args = f"Implement this design ({suffix})", {"design": uri_to_path(uri)}
    else:
        title, args = f"Implement this ({suffix})", {"uri": uri, "lines": [target.start, target.end]}
    if resolve:
        data = {"command": IMPLEMENT_COMMAND, "arguments": [args]}
        return [types.CodeAction(title=title, kind=IMPLEMENT_KIND, data=data)]
    command = types.Command(title=title, command=IMPLEMENT_COMMAND, arguments=[args])
    return [types.CodeAction(title=title, kind=IMPLEMENT_KIND, command=command)]


class _Host:
    """The task's view of the editor: progress lines and questions."""

    def __init__(self, ls: FlashproLanguageServer, progress: Progress) -> None:
        self._ls = ls
        self._progress = progress

    def progress(self, message: str) -> None:
        self._progress.say(message)

    async def ask(self, message: str, options: list[str]) -> str | None:
        return await _ask(self._ls, message, options)


async def _ask(ls: FlashproLanguageServer, message: str, options: list[str]) -> str | None:
    try:
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Warning,
                message=message,
                actions=[types.MessageActionItem(title=option) for option in options],
            )
        )
    except Exception as exc:  # noqa: BLE001 - a client that cannot ask: treat as no answer
        logger.warning("window/showMessageRequest failed: %s", exc)
        return None
    return answer.title if answer is not None else None


def _error(ls: FlashproLanguageServer, message: str, status: str = "error") -> dict[str, Any]:
    ls.show_message("error", message)
    return {"status": status, "message": message}


def _start(ls: FlashproLanguageServer, args: dict[str, Any]) -> Started | dict[str, Any]:
    """The task's fixed inputs from the command's arguments, or an error result. Malformed
    arguments are a malformed request: InvalidParams, not a message for the user."""
    core = ls.core
    design, uri, lines = args.get("design"), args.get("uri"), args.get("lines")
    try:
        if isinstance(design, str) and design:
            path = Path(design)
            if core.tasks.root is not None and not path.is_absolute():
                path = core.tasks.root / path
            if not path.is_file():
                raise JsonRpcInvalidParams(f"{IMPLEMENT_COMMAND}: no design document at {design}")
            return core.tasks.start(None, path, None)
        valid = isinstance(lines, list) and len(lines) == 2 and all(type(n) is int and 0 <= n < 2**31 for n in lines)
        if not isinstance(uri, str) or not valid:
            raise JsonRpcInvalidParams(
                f"{IMPLEMENT_COMMAND} takes {{uri, lines: [first, last]}} of an open document, or {{design: path}}"
            )
        doc = core.documents.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(f"{IMPLEMENT_COMMAND}: {uri} is not open: open the file in the editor first")
        if doc.private:
            return _error(ls, f"flashpro: {core.workspace.label(uri)} is excluded from the API; nothing was sent")
        assert isinstance(lines, list)
        last = doc.buffer.line_count - 1
        first, end = (max(0, min(min(lines), last)), max(0, min(max(lines), last)))
        return core.tasks.start(doc, None, (first, end))
    except (ValueError, OSError) as exc:
        return _error(ls, str(exc))


async def run_implement(ls: FlashproLanguageServer, args: dict[str, Any]) -> dict[str, Any]:
    """Run one task from the command's argument object and deliver its change."""
    started = _start(ls, args)
    if isinstance(started, dict):
        return started
    progress = Progress(ls, "flashpro: Implement this")
    work = asyncio.ensure_future(ls.core.tasks.run(started, _Host(ls, progress)))
    await progress.begin(work)
    try:
        result = await asyncio.shield(work)
    except asyncio.CancelledError:
        progress.end("cancelled")
        if not work.cancelled():  # the request itself was cancelled ($/cancelRequest)
            work.cancel()
            raise
        return {"status": "cancelled", "taskId": started.task_id, "message": "flashpro: the task was cancelled; nothing was applied"}
    progress.end(result.status)
    try:
        if result.status != "ready":
            level = "warning" if result.status in ("rejected", "stopped", "aborted") else "error"
            ls.show_message(level, result.message)
            return {"status": result.status, "taskId": started.task_id, "message": result.message}
        return await _deliver(ls, started, result, args)
    finally:
        if result.shadow is not None:
            await asyncio.to_thread(result.shadow.cleanup)  # a big copy takes a while to remove


def _current(ls: FlashproLanguageServer, uri: str) -> str | None:
    doc = ls.core.documents.get(uri)
    if doc is not None:
        return doc.buffer.text
    try:
        return Path(uri_to_path(uri)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


async def _deliver(
    ls: FlashproLanguageServer, started: Started, result: TaskResult, args: dict[str, Any]
) -> dict[str, Any]:
    """The change as one reviewed edit (or, after an edit by the user, nothing overwritten)."""
    service = ls.core.tasks
    root = service.root
    assert root is not None and result.plan is not None
    changes = service.changes(result)
    placed: list[tuple[FileChange, str, list[Hunk], str | None]] = []
    conflicts = []
    for change in changes:
        uri = (root / change.path).as_uri()
        current = _current(ls, uri)
        hunks = rebase(change, current) if current is not None and not change.created else list(change.hunks)
        if hunks is None or (change.created and current is not None):
            conflicts.append(change.path)
            continue
        placed.append((change, uri, hunks, current))
    review = service.write_review(started.task_id, service.review(result, result.plan.goal))
    base = {"taskId": started.task_id, "review": str(review), "nodes": {k: r.status for k, r in result.runs.items()}}
    if conflicts:
        message = (
            f"flashpro: you edited {', '.join(conflicts)} where the task changes it; nothing was overwritten. "
            f"The task's change is in {review}."
        )
        service.finished(started.task_id, "conflict", False, changes)
        await show_document(ls, review.as_uri(), message)
        if await _ask(ls, message, ["Re-run task", "Close"]) == "Re-run task":
            ls.run_task(run_implement(ls, args), "re-run task")
        return {**base, "status": "conflict", "message": message}
    annotated = _supports_annotations(ls)
    if not annotated:
        await show_document(ls, review.as_uri(), f"flashpro: the task's change is in {review}")
        choice = await _ask(ls, f"flashpro: apply the task's change? (review: {review.name})", ["Apply", "Discard"])
        if choice != "Apply":
            service.finished(started.task_id, "discarded", False, changes)
            return {**base, "status": "discarded", "message": "flashpro: the task's change was discarded"}
    edit = _workspace_edit(ls, result, placed, annotated)
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            edit=edit,
            label=f"flashpro: {result.plan.goal}"[:120],
            metadata=types.WorkspaceEditMetadata(is_refactoring=True),  # VS Code saves what it changed
        )
    )
    applied = bool(answer.applied)
    service.finished(started.task_id, "applied" if applied else "not_applied", applied, changes)
    if applied:
        ls.run_task(_measure_later(ls, started.task_id), "measure task survival")
        message = f"{result.message}; the change was applied"
    else:
        message = f"flashpro: the change was not applied ({answer.failure_reason or 'declined'}); the review is in {review}"
        ls.show_message("warning", message)
    return {**base, "status": "applied" if applied else "not_applied", "applied": applied, "message": message}


async def _measure_later(ls: FlashproLanguageServer, task_id: str) -> None:
    await asyncio.sleep(ls.core.settings.tasks.survival_seconds)
    ls.core.tasks.measure_survival(task_id)


def _supports_annotations(ls: FlashproLanguageServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace is not None else None
    return bool(edit and edit.document_changes and edit.change_annotation_support is not None)


def _supports_document_changes(ls: FlashproLanguageServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace is not None else None
    return bool(edit and edit.document_changes)


def _supports_create(ls: FlashproLanguageServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace is not None else None
    operations = edit.resource_operations if edit is not None else None
    return bool(edit and edit.document_changes and operations and types.ResourceOperationKind.Create in operations)


def _end_of(lines: list[str], index: int, encoding: str) -> types.Position:
    """Where base line `index` starts (or the document's end, for the line past the last)."""
    if index < len(lines):
        return types.Position(line=index, character=0)
    if lines and not lines[-1].endswith(("\n", "\r")):
        last = lines[-1]
        return types.Position(line=len(lines) - 1, character=column_to_units(last, len(last), encoding))  # type: ignore[arg-type]
    return types.Position(line=len(lines), character=0)


def _workspace_edit(
    ls: FlashproLanguageServer,
    result: TaskResult,
    placed: list[tuple[FileChange, str, list[Hunk], str | None]],
    annotated: bool,
) -> types.WorkspaceEdit:
    """One edit for the whole change: versioned document edits (the versions the user's buffers
    have now: the task's base, or the rebased one), new files, one annotation per node."""
    encoding = ls.core.documents.encoding
    runs = result.runs
    annotations: dict[str, types.ChangeAnnotation] = {}
    for node_id, run in runs.items():
        checks = " ".join(check.line() for check in run.checks) or "no checks"
        annotations[node_id] = types.ChangeAnnotation(
            label=run.node.title,
            description=f"{run.attempts} attempt{'s' if run.attempts != 1 else ''} · {checks} · ${run.spent_usd:.4f}",
            needs_confirmation=True,
        )
    create_ok = _supports_create(ls)
    versioned = _supports_document_changes(ls)
    plain: dict[str, list[types.TextEdit]] = {}
    changes: list[Any] = []
    for change, uri, hunks, current in placed:
        lines = (current or "").splitlines(keepends=True)
        doc = ls.core.documents.get(uri)
        version = doc.version if doc is not None else None
        if change.created:
            if not create_ok or not versioned:
                Path(uri_to_path(uri)).parent.mkdir(parents=True, exist_ok=True)
                Path(uri_to_path(uri)).write_text(change.final, encoding="utf-8")
                continue
            owner = hunks[0].nodes[0] if hunks and hunks[0].nodes else None
            changes.append(
                types.CreateFile(
                    uri=uri,
                    options=types.CreateFileOptions(ignore_if_exists=False),
                    annotation_id=owner if annotated and owner in annotations else None,
                )
            )
            version = None
        edits: list[Any] = []
        for hunk in hunks:
            rng = types.Range(start=_end_of(lines, hunk.start, encoding), end=_end_of(lines, hunk.end, encoding))
            owner = next((n for n in hunk.nodes if n in annotations), None)
            if annotated and owner is not None:
                edits.append(types.AnnotatedTextEdit(range=rng, new_text=hunk.text, annotation_id=owner))
            else:
                edits.append(types.TextEdit(range=rng, new_text=hunk.text))
        if not versioned:
            plain[uri] = [types.TextEdit(range=e.range, new_text=e.new_text) for e in edits]
            continue
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits
            )
        )
    if not versioned:
        return types.WorkspaceEdit(changes=plain)
    if annotated:
        used = {e.annotation_id for c in changes for e in getattr(c, "edits", []) if isinstance(e, types.AnnotatedTextEdit)}
        used |= {c.annotation_id for c in changes if isinstance(c, types.CreateFile) and c.annotation_id}
        return types.WorkspaceEdit(
            document_changes=changes, change_annotations={k: v for k, v in annotations.items() if k in used}
        )
    return types.WorkspaceEdit(document_changes=changes)


def register_tasks(server: FlashproLanguageServer) -> None:
    """Attach the `flashpro.implement` command to `server` (listing lives with the code actions)."""

    @server.command(IMPLEMENT_COMMAND)
    async def implement(ls: FlashproLanguageServer, *args: Any) -> dict[str, Any]:
        if len(args) != 1 or not isinstance(args[0], dict):
            raise JsonRpcInvalidParams(f"{IMPLEMENT_COMMAND} takes one argument object")
        return await run_implement(ls, args[0])
