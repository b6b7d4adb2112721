"""LSP side of the code actions: listing (free), resolve, the commands, progress and edits.

`textDocument/codeAction` lists flashpro's actions with a cost preview in each title and no
model call; quick fixes for review findings carry their edit directly. Picking an action runs
its command (`flashpro.review`, ...), which reports `$/progress` (tokens streamed so far),
is cancellable from the progress UI or with `$/cancelRequest`, and ends in diagnostics, a
shown document, or one `workspace/applyEdit`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from flashpro.actions import ACTIONS, ActionFailed, EditPlan, LineSpan, Outcome
from flashpro.lsp.features import payload_field
from flashpro.lsp.progress import Progress, show_document
from flashpro.lsp.server import REVIEW_SOURCE, FlashproLanguageServer
from flashpro.lsp.tasks import IMPLEMENT_COMMAND, IMPLEMENT_KIND, task_actions

__all__ = ["CLEAR_REVIEW_COMMAND", "COMMANDS", "command_options", "register_actions"]

logger = logging.getLogger(__name__)

CLEAR_REVIEW_COMMAND = "flashpro.clearReview"
COMMANDS = {spec.command: name for name, spec in ACTIONS.items()}
_MAX_LINE = 2**31 - 1  # LSP's uinteger


def _supports_resolve(ls: FlashproLanguageServer) -> bool:
    text = ls.client_capabilities.text_document
    action = text.code_action if text is not None else None
    resolve = action.resolve_support if action is not None else None
    return bool(action and resolve and "command" in resolve.properties and action.data_support)


def _span_of(rng: Any) -> tuple[LineSpan | None, bool]:
    """Lines of an LSP range (a range ending at column 0 leaves that line out) and emptiness."""
    if rng is None:
        return None, False
    start, end = payload_field(rng, "start"), payload_field(rng, "end")
    first, last = int(payload_field(start, "line", 0)), int(payload_field(end, "line", 0))
    empty = first == last and payload_field(start, "character", 0) == payload_field(end, "character", 0)
    if last > first and int(payload_field(end, "character", 0)) == 0:
        last -= 1
    return LineSpan(max(first, 0), max(last, first, 0)), empty


def _line_number(value: Any) -> bool:
    return type(value) is int and 0 <= value <= _MAX_LINE


def _is_range(value: Any) -> bool:
    """Whether `value` is an LSP range as JSON: {start: {line, character}, end: {...}}."""
    return isinstance(value, dict) and all(
        isinstance(point := value.get(end), dict)
        and _line_number(point.get("line"))
        and _line_number(point.get("character"))
        for end in ("start", "end")
    )


def command_options(command: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """An action command's one argument object, checked; raises InvalidParams saying what is
    wrong (a malformed request is answered, not shown to the user as a failed action)."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes one argument object with the `uri` of an open document")
    options: dict[str, Any] = args[0]
    problems = []
    if not isinstance(options.get("uri"), str):
        problems.append("`uri` must be a string")
    lines = options.get("lines")
    if lines is not None and not (isinstance(lines, list) and len(lines) == 2 and all(map(_line_number, lines))):
        problems.append("`lines` must be [first, last] line numbers")
    if options.get("range") is not None and not _is_range(options["range"]):
        problems.append("`range` must be an LSP range")
    problems += [f"`{flag}` must be a boolean" for flag in ("empty", "now") if type(options.get(flag, False)) is not bool]
    if not isinstance(options.get("instruction", ""), str):
        problems.append("`instruction` must be a string")
    if problems:
        raise JsonRpcInvalidParams(f"{command}: {'; '.join(problems)}")
    return options


def _action_list(ls: FlashproLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    doc = ls.core.documents.get(uri)
    if doc is None:
        return []
    actions = _quick_fixes(ls, doc, list(params.context.diagnostics or []))
    if doc.private:
        return actions
    span, empty = _span_of(params.range)
    only = params.context.only or []
    resolve = _supports_resolve(ls)
    runner = ls.core.actions
    for name, spec in ACTIONS.items():
        if only and not any(spec.kind == k or spec.kind.startswith(k + ".") for k in only):
            continue
        target = runner.target(name, doc, span, empty)
        route = runner.service.route(name)
        preview = runner.service.preview(name, doc, target).suffix(route.model)
        variants = [(f"{spec.title} ({preview})", False)]
        start = runner.service.should_defer(name)
        if start is not None:
            variants = [
                (f"{spec.title} at off-peak (from {start:%H:%M} UTC)", False),
                (f"{spec.title} now ({preview})", True),
            ]
        for title, now in variants:
            # The target is already resolved: the command gets its lines, never "empty".
            args = {"uri": uri, "empty": False, "lines": [target.start, target.end], "now": now}
            if resolve:
                data = {"command": spec.command, "arguments": [args]}
                actions.append(types.CodeAction(title=title, kind=spec.kind, data=data))
            else:
                command = types.Command(title=title, command=spec.command, arguments=[args])
                actions.append(types.CodeAction(title=title, kind=spec.kind, command=command))
    if not only or any(IMPLEMENT_KIND == k or IMPLEMENT_KIND.startswith(k + ".") for k in only):
        actions += task_actions(ls, uri, runner.target("design", doc, span, empty), resolve)
    return actions


def _quick_fixes(
    ls: FlashproLanguageServer, doc: Any, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    fixes = []
    for diagnostic in diagnostics:
        if diagnostic.source != REVIEW_SOURCE:
            continue
        finding_id = payload_field(diagnostic.data, "findingId")
        finding = ls.core.reviews.find(doc.uri, finding_id) if isinstance(finding_id, int) else None
        if finding is None or finding.replacement is None:
            continue
        edit = types.TextEdit(
            range=ls.to_range(doc, finding.start, finding.end), new_text=finding.replacement
        )
        fixes.append(
            types.CodeAction(
                title=f"Apply flashpro fix: {finding.message[:60]}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={doc.uri: [edit]}),
            )
        )
    return fixes


def _workspace_edit(ls: FlashproLanguageServer, plan: EditPlan) -> types.WorkspaceEdit | None:
    """One WorkspaceEdit for `plan` (versioned when the client supports document changes)."""
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps is not None else None
    document_changes = bool(edit_caps and edit_caps.document_changes)
    create_ok = bool(
        edit_caps
        and edit_caps.resource_operations
        and types.ResourceOperationKind.Create in edit_caps.resource_operations
    )
    doc = ls.core.documents.get(plan.uri)
    if doc is not None:
        rng = ls.to_range(doc, plan.start, plan.end)
    else:  # a file on disk (tests): client units equal code points for ASCII-safe positions
        rng = types.Range(
            start=types.Position(line=plan.start.line, character=plan.start.column),
            end=types.Position(line=plan.end.line, character=plan.end.column),
        )
    text_edit = types.TextEdit(range=rng, new_text=plan.new_text)
    if plan.create and not (document_changes and create_ok):
        return None
    if document_changes:
        changes: list[Any] = []
        if plan.create:
            changes.append(
                types.CreateFile(uri=plan.uri, options=types.CreateFileOptions(ignore_if_exists=True))
            )
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=plan.uri, version=plan.version
                ),
                edits=[text_edit],
            )
        )
        return types.WorkspaceEdit(document_changes=changes)
    return types.WorkspaceEdit(changes={plan.uri: [text_edit]})


async def _deliver(ls: FlashproLanguageServer, outcome: Outcome) -> dict[str, Any]:
    """Turn an outcome into what the editor shows; returns the command's result."""
    result: dict[str, Any] = {
        "status": "ok",
        "action": outcome.action,
        "message": outcome.message,
        **outcome.data,
    }
    if outcome.review_uri is not None:
        ls.publish_review(outcome.review_uri)
    if outcome.edit is not None:
        edit = _workspace_edit(ls, outcome.edit)
        if edit is None and outcome.edit.create and outcome.show is not None:
            outcome.show.parent.mkdir(parents=True, exist_ok=True)
            outcome.show.write_text(outcome.edit.new_text, encoding="utf-8")
        elif edit is not None:
            label = f"flashpro: {ACTIONS[outcome.action].title.rstrip('…')}"
            answer = await ls.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label=label)
            )
            result["applied"] = bool(answer.applied)
            if not answer.applied:
                reason = answer.failure_reason or "the editor refused it (was the file changed?)"
                ls.show_message("warning", f"flashpro: the edit was not applied: {reason}")
                result["status"] = "not_applied"
                return result
    if outcome.show is not None:
        await show_document(ls, outcome.show.as_uri(), outcome.message)
    elif outcome.edit is None:
        ls.show_message("info", outcome.message)
    return result


async def run_action(ls: FlashproLanguageServer, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one action from a command's argument object (checked by `command_options`)."""
    uri = args["uri"]
    if ls.core.documents.get(uri) is None:
        raise JsonRpcInvalidParams(f"{ACTIONS[action].command}: {uri} is not open: open the file in the editor first")
    lines = args.get("lines")
    span: LineSpan | None
    if lines is not None:
        span, empty = LineSpan(min(lines), max(lines)), bool(args.get("empty", False))
    else:
        span, empty = _span_of(args.get("range"))
    start = None if args.get("now") else ls.core.actions.service.should_defer(action)
    if start is not None:
        delay = max((start - datetime.now(UTC)).total_seconds(), 0.0)
        ls.run_task(_later(ls, action, {**args, "now": True}, delay), f"deferred {action}")
        message = f"flashpro: {ACTIONS[action].title} queued for off-peak prices (starts {start:%H:%M} UTC)"
        ls.show_message("info", message)
        return {"status": "deferred", "message": message, "startsUtc": start.isoformat()}
    title = f"flashpro: {ACTIONS[action].title.rstrip('…')}"
    progress = Progress(ls, title)
    work = asyncio.ensure_future(
        ls.core.actions.run(action, uri, span, empty, str(args.get("instruction") or ""), progress.report)
    )
    await progress.begin(work)  # its cancel button cancels `work`, not this request
    try:
        outcome = await asyncio.shield(work)
    except ActionFailed as failed:
        progress.end("failed")
        ls.show_message("error", str(failed))
        return {"status": "error", "message": str(failed)}
    except asyncio.CancelledError:
        progress.end("cancelled")
        if not work.cancelled():  # the request itself was cancelled ($/cancelRequest)
            work.cancel()
            raise
        return {"status": "cancelled", "message": f"{title} cancelled"}
    progress.end("done")
    return await _deliver(ls, outcome)


async def _later(ls: FlashproLanguageServer, action: str, args: dict[str, Any], delay: float) -> None:
    await asyncio.sleep(delay)
    try:
        await run_action(ls, action, args)
    except JsonRpcInvalidParams as refused:  # closed while it waited: nobody awaits an answer
        ls.show_message("error", f"flashpro: {refused.message}")


def register_actions(server: FlashproLanguageServer) -> None:
    """Attach code actions, their resolve and their commands to `server`."""

    kinds = sorted({spec.kind for spec in ACTIONS.values()} | {types.CodeActionKind.QuickFix, IMPLEMENT_KIND})

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True),
    )
    def code_action(ls: FlashproLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return _action_list(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    def code_action_resolve(ls: FlashproLanguageServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        command, arguments = data.get("command"), data.get("arguments")
        if (command in COMMANDS or command == IMPLEMENT_COMMAND) and isinstance(arguments, list):
            action.command = types.Command(title=action.title, command=command, arguments=arguments)
        return action

    def make(action: str):
        async def handler(ls: FlashproLanguageServer, *args: Any) -> dict[str, Any]:
            return await run_action(ls, action, command_options(ACTIONS[action].command, args))

        return handler

    for command, action in COMMANDS.items():
        server.command(command)(make(action))

    @server.command(CLEAR_REVIEW_COMMAND)
    def clear_review(ls: FlashproLanguageServer, *args: Any) -> dict[str, Any]:
        options = args[0] if args else {}
        if len(args) > 1 or not isinstance(options, dict) or not isinstance(options.get("uri", ""), str):
            raise JsonRpcInvalidParams(f"{CLEAR_REVIEW_COMMAND} takes no argument, or {{\"uri\": <document>}}")
        uri = options.get("uri")
        cleared = ls.core.reviews.clear(uri)
        for each in cleared:
            ls.publish_review(each)
        return {"status": "ok", "cleared": len(cleared)}
