"""From a validated answer to something the editor can use: findings, files, edits.

`ActionRunner.run` resolves the target lines, reads a quick edit's instruction (argument, or a
`flashpro: <instruction>` comment on the line above the selection), calls the service, and
returns an `Outcome` the LSP layer turns into diagnostics, `window/showDocument` or one
`workspace/applyEdit`. Nothing from the model is ever executed; paths it proposes are kept
inside the workspace and away from excluded files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flashpro.actions.catalog import ACTIONS, target_span
from flashpro.actions.context import LineSpan, lines_text
from flashpro.actions.documents import write_design, write_note
from flashpro.actions.review import ReviewStore
from flashpro.actions.service import ActionFailed, ActionService
from flashpro.documents import Document, DocumentStore, Position, Workspace, is_excluded, uri_to_path

__all__ = ["ActionRunner", "EditPlan", "Outcome", "instruction_above"]

_INSTRUCTION = re.compile(r"^\s*(?:#|//|--|;+|/\*|\*|<!--)\s*flashpro:\s*(?P<text>.+?)\s*(?:\*/|-->)?\s*$")


@dataclass(slots=True)
class EditPlan:
    """One text edit: replace `start`..`end` of `uri` (at `version`), or create the file."""

    uri: str
    version: int | None
    start: Position
    end: Position
    new_text: str
    create: bool = False


@dataclass(slots=True)
class Outcome:
    """What an action produced, for the editor."""

    action: str
    message: str
    show: Path | None = None
    edit: EditPlan | None = None
    review_uri: str | None = None
    data: dict[str, object] = field(default_factory=dict)


def instruction_above(doc: Document, span: LineSpan) -> str:
    """The `flashpro: <instruction>` comment on the line above `span` (or its first line)."""
    for line in (span.start - 1, span.start):
        if 0 <= line < doc.buffer.line_count:
            found = _INSTRUCTION.match(doc.buffer.line_content(line))
            if found:
                return found.group("text")
    return ""


class ActionRunner:
    """Runs an action end to end for the core."""

    def __init__(
        self,
        service: ActionService,
        documents: DocumentStore,
        reviews: ReviewStore,
        workspace: Workspace,
    ) -> None:
        self.service = service
        self._documents = documents
        self._reviews = reviews
        self._workspace = workspace
        self._targets: dict[tuple[object, ...], LineSpan] = {}

    def forget(self, uri: str) -> None:
        """Drop what was computed from earlier texts of `uri` (closed or reopened)."""
        for key in [key for key in self._targets if key[0] == uri]:
            del self._targets[key]
        self.service.forget(uri)

    def target(self, action: str, doc: Document, span: LineSpan | None, empty: bool) -> LineSpan:
        """The lines `action` covers for a selection (or cursor) `span`."""
        key = (doc.uri, id(doc.buffer), doc.version, doc.edits, action, span, empty)
        found = self._targets.get(key)
        if found is None:
            if len(self._targets) > 256:
                self._targets.clear()
            found = self._targets[key] = target_span(action, self.service.view(doc).lines, span, empty)
        return found

    async def run(
        self,
        action: str,
        uri: str,
        span: LineSpan | None,
        empty: bool,
        instruction: str = "",
        on_tokens: Callable[[int], None] | None = None,
    ) -> Outcome:
        """Run `action` on `uri`; raises `ActionFailed` with a message for the user."""
        if action not in ACTIONS:
            raise ActionFailed(f"flashpro: unknown action {action!r}")
        doc = self._documents.get(uri)
        if doc is None:
            raise ActionFailed("flashpro: open the file in the editor first")
        target = self.target(action, doc, span, empty)
        if action == "quickEdit":
            instruction = instruction.strip() or instruction_above(doc, target)
            if not instruction:
                raise ActionFailed(
                    "flashpro: Quick edit needs an instruction: pass it as the command's "
                    "argument, or write `flashpro: <instruction>` in a comment on the line above "
                    "the selection"
                )
        result = await self.service.run(action, doc, target, instruction, on_tokens)
        doc = self._documents.get(uri)
        if doc is None:
            raise ActionFailed("flashpro: the file was closed before the answer came")
        return getattr(self, f"_{action.lower()}")(doc, result.data, target, result.version)

    # -- per action ------------------------------------------------------------------------
    def _review(self, doc: Document, review, span: LineSpan, version: int) -> Outcome:
        stale = version != doc.version  # the text moved under the answer: its line numbers are off
        placed = []
        if not stale:
            placed = [f for item in review.findings if (f := self._reviews.place(doc, item)) is not None]
        whole = span.start == 0 and span.end >= doc.buffer.line_count - 1
        if whole:
            self._reviews.set(doc.uri, placed)
        else:
            self._reviews.merge(doc.uri, placed, span.start, span.end)
        fixes = sum(1 for f in placed if f.replacement is not None)
        noun = "finding" if len(placed) == 1 else "findings"
        message = f"flashpro review: {len(placed)} {noun} on lines {span.label()}" + (
            f" ({fixes} with a quick fix)" if fixes else ""
        )
        if stale:
            message = "flashpro review: the file changed while the review ran; run it again"
        return Outcome("review", message, review_uri=doc.uri, data={"findings": len(placed), "fixes": fixes})

    def _design(self, doc: Document, design, span: LineSpan, version: int) -> Outcome:
        root = self._workspace.root_for(doc.uri)
        label = self.service.label(doc.uri)
        path = write_design(root, design, label, span.label(), self.service.clock())
        return Outcome("design", f"flashpro: design written to {path}", show=path, data={"path": str(path)})

    def _explain(self, doc: Document, text: str, span: LineSpan, version: int) -> Outcome:
        label = self.service.label(doc.uri)
        title = f"{label}, lines {span.label()}"
        path = write_note(self._workspace.root_for(doc.uri), title, text, label, self.service.clock())
        return Outcome(
            "explain",
            f"flashpro: explanation written to {path}",
            show=path,
            data={"path": str(path), "text": text},
        )

    def _quickedit(self, doc: Document, answer, span: LineSpan, version: int) -> Outcome:
        if version != doc.version:
            raise ActionFailed("flashpro: the file changed while the quick edit ran; nothing was applied")
        buffer = doc.buffer
        original = lines_text(doc, span)
        new_text = answer.replacement
        if original.endswith("\n") and not new_text.endswith("\n"):
            new_text += "\n"
        if span.end + 1 < buffer.line_count:
            end = Position(span.end + 1, 0)
        else:
            end = Position(span.end, len(buffer.line_content(span.end)))
            new_text = new_text.rstrip("\r\n") if not original.endswith("\n") else new_text
        edit = EditPlan(doc.uri, doc.version, Position(span.start, 0), end, new_text)
        return Outcome("quickEdit", f"flashpro: quick edit of lines {span.label()}", edit=edit)

    def _tests(self, doc: Document, answer, span: LineSpan, version: int) -> Outcome:
        root = self._workspace.root_for(doc.uri)
        path = self._test_path(root, answer.path, doc.uri)
        uri = path.as_uri()
        open_doc = self._documents.get(uri)
        if open_doc is not None:
            last = open_doc.buffer.line_count - 1
            at = Position(last, len(open_doc.buffer.line_content(last)))
            edit = EditPlan(uri, open_doc.version, at, at, "\n\n" + answer.content)
        elif path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
            lines = text.split("\n")
            at = Position(len(lines) - 1, len(lines[-1]))
            edit = EditPlan(uri, None, at, at, "\n\n" + answer.content)
        else:
            edit = EditPlan(uri, None, Position(0, 0), Position(0, 0), answer.content, create=True)
        return Outcome("tests", f"flashpro: tests for lines {span.label()} in {path}", edit=edit, show=path)

    def _test_path(self, root: Path, proposed: str, source_uri: str) -> Path:
        """The model's path if it is relative, inside the workspace and not excluded."""
        candidate = PurePosixPath(proposed.replace("\\", "/"))
        if not candidate.is_absolute() and ".." not in candidate.parts and candidate.parts:
            path = (root / candidate).resolve()
            if path.is_relative_to(root.resolve()) and not is_excluded(path.as_uri(), self.service.settings.exclude):
                return path
        stem = Path(uri_to_path(source_uri)).stem
        return root / "tests" / f"test_{stem}.py"
