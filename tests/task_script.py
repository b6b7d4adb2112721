"""A scripted planner, executor and reviewer for task tests, as a fake DeepSeek chat responder.

The responder tells the three kinds of task call apart by their system message (flashpro's own
prompts), answers the planner with the plan it was given, each node call with the next answer
queued for that node id (read from "Your node: <id>"), and the reviewer with the next verdict.
Every request it answered is kept, so tests can look at what each model was sent.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from typing import Any

from flashpro.tasks.prompts import ACCEPT_SYSTEM, NODE_SYSTEM, PLAN_SYSTEM

__all__ = ["TaskScript", "edit", "node_answer"]

_NODE = re.compile(r"Your node: (\S+) — ")


def edit(path: str, search: str, replace: str) -> dict[str, str]:
    return {"path": path, "search": search, "replace": replace}


def node_answer(
    edits: list[dict[str, str]] | None = None,
    new_files: list[dict[str, str]] | None = None,
    handoff: str = "",
) -> str:
    return json.dumps({"edits": edits or [], "new_files": new_files or [], "summary": "done", "handoff": handoff})


class TaskScript:
    """Scripted answers for one or more tasks."""

    def __init__(self, plan: dict[str, Any] | str, verdicts: list[dict[str, Any]] | None = None) -> None:
        self.plans: deque[str] = deque([plan if isinstance(plan, str) else json.dumps(plan)])
        self.nodes: dict[str, deque[str]] = defaultdict(deque)
        self.verdicts: deque[str] = deque(json.dumps(v) for v in (verdicts or [{"verdict": "accept"}]))
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def node(self, node_id: str, *answers: str) -> TaskScript:
        self.nodes[node_id].extend(answers)
        return self

    def __call__(self, body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        system = messages[0]["content"] if messages else ""
        with self._lock:
            if system == PLAN_SYSTEM:
                self.seen.append(("plan", body))
                return self.plans[0] if len(self.plans) == 1 else self.plans.popleft()
            if system == ACCEPT_SYSTEM:
                self.seen.append(("accept", body))
                return self.verdicts[0] if len(self.verdicts) == 1 else self.verdicts.popleft()
            if system == NODE_SYSTEM:
                found = _NODE.search(messages[1]["content"])
                node_id = found.group(1) if found else "?"
                self.seen.append((node_id, body))
                queue = self.nodes[node_id]
                if not queue:
                    return node_answer()
                return queue[0] if len(queue) == 1 else queue.popleft()
        return '{"answer": "ok"}'

    def calls(self, kind: str) -> list[dict[str, Any]]:
        """The request bodies of one kind (`plan`, `accept`, or a node id), in order."""
        return [body for seen, body in self.seen if seen == kind]
