"""From a finished task to what the user reviews: line hunks per file, rebased or refused.

`file_changes` turns the shadow's changes into line hunks against the base (the text each file
had when the task started), each naming the nodes that wrote it. If the user edited a file
meanwhile, `rebase` moves the task's hunks over the user's edits when they touch different
lines, and refuses (None) when they overlap: nothing the user wrote is ever overwritten.
`review_markdown` is the review document: per node its status, attempts, checks and cost, then
the diff, the final checks and the reviewer's findings.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["FileChange", "Hunk", "file_changes", "rebase", "review_markdown"]


@dataclass(frozen=True, slots=True)
class Hunk:
    """Replace base lines [start, end) with `text`; `nodes` wrote it."""

    start: int
    end: int
    text: str
    nodes: tuple[str, ...] = ()


@dataclass(slots=True)
class FileChange:
    """One file's change: base and final text, and the hunks between them."""

    path: str
    base: str | None
    final: str
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.base is None


def _lines(text: str | None) -> list[str]:
    return (text or "").splitlines(keepends=True)


def file_changes(
    changes: Mapping[str, tuple[str | None, str | None]],
    owner_of: Callable[[str, int, int], set[str]],
    writers: Mapping[str, list[str]],
) -> list[FileChange]:
    """Hunks for every changed file; `owner_of(path, first, last)` names the nodes that wrote
    final lines [first, last), `writers[path]` the nodes that wrote the file (for deletions)."""
    found = []
    for path, (base, final) in sorted(changes.items()):
        if final is None:
            continue  # removals are not part of a task's vocabulary
        change = FileChange(path, base, final)
        old, new = _lines(base), _lines(final)
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                nodes = owner_of(path, j1, j2) or set(writers.get(path, [])[:1])
                change.hunks.append(Hunk(i1, i2, "".join(new[j1:j2]), tuple(sorted(nodes))))
        found.append(change)
    return found


def rebase(change: FileChange, current: str) -> list[Hunk] | None:
    """The change's hunks moved onto `current` (the user's text now); None when the user edited
    lines the task changes (or right next to them)."""
    if change.base is None or current == change.base:
        return list(change.hunks)
    matcher = difflib.SequenceMatcher(None, _lines(change.base), _lines(current), autojunk=False)
    edits = [(i1, i2, (j2 - j1) - (i2 - i1)) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
    moved = []
    for hunk in change.hunks:
        shift = 0
        for start, end, delta in edits:
            if end < hunk.start:
                shift += delta
            elif start <= hunk.end:
                return None  # the user's edit overlaps or touches the task's
        moved.append(Hunk(hunk.start + shift, hunk.end + shift, hunk.text, hunk.nodes))
    return moved


def review_markdown(
    title: str,
    nodes: list[dict[str, object]],
    diff: str,
    final_checks: list[str],
    findings: list[str],
    footer: str = "",
) -> str:
    """The task's review document."""
    out = [f"# Task: {title}", ""]
    out += ["| node | status | attempts | checks | cost |", "|---|---|---|---|---|"]
    for node in nodes:
        out.append(
            f"| {node['id']}: {node['title']} | {node['status']} | {node['attempts']} | "
            f"{node['checks'] or '–'} | ${float(node['cost']):.4f} |"  # type: ignore[arg-type]
        )
    out.append("")
    if final_checks:
        out += ["## Final checks", "", *(f"- {line}" for line in final_checks), ""]
    if findings:
        out += ["## Reviewer's findings", "", *(f"- {line}" for line in findings), ""]
    out += ["## Change", "", "```diff", diff.rstrip("\n"), "```", ""]
    if footer:
        out += [footer, ""]
    return "\n".join(out)
