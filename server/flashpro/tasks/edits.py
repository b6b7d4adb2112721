"""A node's answer applied to its view of the files: search/replace edits and new files.

Each edit's `search` must occur exactly once in the node's current view of the file (the shadow
copy's text, with the answer's earlier edits applied); edits and new files may only touch the
paths the node declared it writes. Anything else is a tool-call failure, described in words the
model can act on when the node is asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flashpro.tasks.plan import NodeAnswer, clean_path

__all__ = ["Applied", "apply_answer"]


@dataclass(slots=True)
class Applied:
    """The files an answer changes (path -> new text) and the problems that stopped it."""

    files: dict[str, str] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def apply_answer(answer: NodeAnswer, read: Callable[[str], str | None], writes: Iterable[str]) -> Applied:
    """Apply `answer` to the texts `read(path)` returns (None: no such file)."""
    allowed = {clean_path(path) for path in writes} - {None}
    result = Applied()
    for number, edit in enumerate(answer.edits, 1):
        path = clean_path(edit.path)
        if path is None or path not in allowed:
            result.problems.append(f"edit {number}: '{edit.path}' is not among this node's writes")
            continue
        current = result.files.get(path)
        if current is None:
            current = read(path)
        if current is None:
            result.problems.append(f"edit {number}: '{path}' does not exist (create it with new_files)")
            continue
        found = current.count(edit.search)
        if found != 1:
            where = "was not found" if found == 0 else f"occurs {found} times (add surrounding lines)"
            result.problems.append(f"edit {number}: the search text {where} in '{path}'")
            continue
        result.files[path] = current.replace(edit.search, edit.replace, 1)
    for new in answer.new_files:
        path = clean_path(new.path)
        if path is None or path not in allowed:
            result.problems.append(f"new file '{new.path}' is not among this node's writes")
        elif path in result.files or read(path) is not None:
            result.problems.append(f"new file '{path}' already exists (change it with edits)")
        else:
            result.files[path] = new.content
            result.created.add(path)
    return result
