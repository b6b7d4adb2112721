"""Tasks for the session core: what to implement, the cost preview, running, and the outcome.

`TaskService` builds the planner's request from a selection (or a design document the user may
have edited), snapshots the editor's unsaved buffers and versions, runs a `TaskRunner`, and turns
its result into per-file hunks for the LSP layer to deliver. After delivery it records whether
the change was applied and, later, how much of it survived.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flashpro.accounting.format import dollars
from flashpro.calls import Meter
from flashpro.documents import Document, DocumentStore, Workspace, uri_to_path
from flashpro.tasks.context import TaskContext, TaskHost
from flashpro.tasks.delivery import FileChange, file_changes, review_markdown
from flashpro.tasks.prompts import design_request, selection_request
from flashpro.tasks.runner import TaskResult, TaskRunner
from flashpro.tasks.survival import added_lines, surviving_share

__all__ = ["Started", "TaskService"]

_REQUEST_TOKENS = 12_000  # the selection's file, numbered, in the planner's request
_GUESS = {"plan": (6_000, 3_000), "node": (5_000, 1_500), "accept": (6_000, 800)}  # tokens in, out


@dataclass(slots=True)
class Started:
    """A task's inputs, fixed when it starts: the request and the buffers it is based on."""

    task_id: str
    source_uri: str
    request: str
    buffers: dict[str, str]


class TaskService:
    """Runs "Implement this" for the session."""

    def __init__(
        self, meter: Meter, workspace: Workspace, documents: DocumentStore, record: Callable[..., None]
    ) -> None:
        self._meter = meter
        self._workspace = workspace
        self._documents = documents
        self._record = record
        self.added: dict[str, dict[str, list[str]]] = {}

    @property
    def root(self) -> Path | None:
        return Path(self._workspace.root) if self._workspace.root else None

    def title_suffix(self) -> str:
        """`V4 Pro plans · V4 Flash executes · ~$0.05` for the code action's title."""
        combination = self._meter.settings.actions.implement.combination
        who = {
            "pro-flash": "V4 Pro plans · V4 Flash executes",
            "flash": "V4 Flash plans and executes",
            "pro": "V4 Pro plans and executes",
        }[combination]
        return f"{who} · ~{dollars(self.estimate_usd())}"

    def estimate_usd(self, nodes: int = 3) -> float:
        """A rough price of a task (a plan, `nodes` nodes of 1.3 attempts, one review)."""
        prices, now = self._meter.prices, datetime.now(UTC)
        total = 0.0
        combination = self._meter.settings.actions.implement.combination
        planner = "executor" if combination == "flash" else "planner"
        executor = "planner" if combination == "pro" else "executor"
        for kind, role, times in (("plan", planner, 1.0), ("node", executor, 1.3 * nodes), ("accept", planner, 1.0)):
            price = prices.price_for(self._meter.model(role), now)
            if price is not None:
                tokens_in, tokens_out = _GUESS[kind]
                total += times * float(tokens_in * price.cache_miss + tokens_out * price.output) / 1_000_000
        return total

    def is_design(self, uri: str) -> bool:
        """Whether `uri` is a design document flashpro wrote (under .flashpro/designs/)."""
        path = uri_to_path(uri)
        return "/.flashpro/designs/" in path and path.endswith(".md")

    def start(self, doc: Document | None, design: Path | None, lines: tuple[int, int] | None) -> Started:
        """Fix the task's inputs now (the request and the buffers it is based on)."""
        root = self.root
        if root is None:
            raise ValueError("flashpro: Implement needs a workspace folder")
        if design is not None:
            text = self._open_text(design.as_uri()) or design.read_text(encoding="utf-8")
            request = design_request(self._workspace.label(design.as_uri()), text)
            source = design.as_uri()
        else:
            assert doc is not None and lines is not None
            buffer = doc.buffer
            request = selection_request(
                self._workspace.label(doc.uri),
                [buffer.line_content(i) for i in range(buffer.line_count)],
                lines[0],
                lines[1],
                _REQUEST_TOKENS,
            )
            source = doc.uri
        started = Started(uuid.uuid4().hex[:12], source, request, {})
        for open_doc in self._documents:
            path = Path(uri_to_path(open_doc.uri))
            if open_doc.private or not path.is_relative_to(root):
                continue
            relative = path.relative_to(root).as_posix()
            started.buffers[relative] = open_doc.buffer.text
        return started

    def _open_text(self, uri: str) -> str | None:
        doc = self._documents.get(uri)
        return doc.buffer.text if doc is not None else None

    async def run(self, started: Started, host: TaskHost) -> TaskResult:
        """Run the task to a result (the caller delivers it)."""
        settings = self._meter.settings
        assert self.root is not None
        context = TaskContext(
            started.task_id,
            self._meter,
            settings,
            self.root,
            started.source_uri,
            host,
            self._record,
            self._documents.excluded,
        )
        return await TaskRunner(context, started.buffers).run(started.request)

    def changes(self, result: TaskResult) -> list[FileChange]:
        """The result's change as hunks per file, each naming the nodes that wrote it."""
        assert result.shadow is not None
        shadow = result.shadow
        writers: dict[str, list[str]] = {}
        for run in result.runs.values():
            for path in run.node.writes:
                writers.setdefault(path, []).append(run.node.id)
        return file_changes(shadow.changes(), shadow.owners, writers)

    def review(self, result: TaskResult, title: str, footer: str = "") -> str:
        """The review document's Markdown."""
        nodes = [
            {
                "id": run.node.id,
                "title": run.node.title,
                "status": run.status,
                "attempts": run.attempts,
                "checks": ", ".join(check.line() for check in run.checks),
                "cost": run.spent_usd,
            }
            for run in result.runs.values()
        ]
        findings = list(result.verdict.findings) if result.verdict is not None else []
        final = [check.line() for check in result.final_checks]
        if result.skipped_checks:
            skipped = ", ".join(f"`{check}`" for check in result.skipped_checks)
            footer = f"Not run: {skipped} (allow tests with `flashpro.tasks.runTests`).\n\n{footer}".strip()
        return review_markdown(title, nodes, result.diff(), final, findings, footer)

    def write_review(self, task_id: str, markdown: str) -> Path:
        """Write the review under `.flashpro/tasks/`; returns its path."""
        assert self.root is not None
        folder = self.root / ".flashpro" / "tasks"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{task_id}.md"
        path.write_text(markdown, encoding="utf-8")
        return path

    def finished(self, task_id: str, status: str, applied: bool, changes: list[FileChange]) -> None:
        """Record how delivery ended; an applied change is watched for survival."""
        self._record("tasks", id=task_id, status=status, applied=int(applied))
        if applied:
            self.added[task_id] = added_lines(changes)

    def measure_survival(self, task_id: str) -> float | None:
        """The share of the task's added lines still present now; recorded in the ledger."""
        added = self.added.pop(task_id, None)
        if added is None or self.root is None:
            return None
        texts: dict[str, str | None] = {}
        for path in added:
            uri = (self.root / path).as_uri()
            texts[path] = self._open_text(uri)
            if texts[path] is None:
                try:
                    texts[path] = (self.root / path).read_text(encoding="utf-8")
                except OSError:
                    texts[path] = None
        share = surviving_share(added, texts)
        self._record("tasks", id=task_id, accepted_share=share)
        return share
