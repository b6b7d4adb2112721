"""Tasks ("Implement this"): V4 Pro plans a change as a graph of nodes, V4 Flash executes them in
a shadow copy, the server checks every result with real tools, Pro accepts, the user reviews one
edit — every task measured in the ledger."""

from __future__ import annotations

from flashpro.tasks.context import TaskContext, TaskHost, TaskStopped
from flashpro.tasks.delivery import FileChange, Hunk, file_changes, rebase, review_markdown
from flashpro.tasks.plan import NodeAnswer, Plan, PlanNode, Verdict, plan_problems
from flashpro.tasks.prompts import design_request, selection_request
from flashpro.tasks.runner import TaskResult, TaskRunner
from flashpro.tasks.survival import added_lines, surviving_share

__all__ = [
    "FileChange",
    "Hunk",
    "NodeAnswer",
    "Plan",
    "PlanNode",
    "TaskContext",
    "TaskHost",
    "TaskResult",
    "TaskRunner",
    "TaskStopped",
    "Verdict",
    "added_lines",
    "design_request",
    "file_changes",
    "plan_problems",
    "rebase",
    "review_markdown",
    "selection_request",
    "surviving_share",
]
