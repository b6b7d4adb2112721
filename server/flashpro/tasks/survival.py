"""How much of an applied task's change is still there a while later ("code survival").

At apply time the lines the task added are remembered per file; after
`flashpro.tasks.survivalSeconds` the share of them still present in the files (as the editor's
buffers or the disk hold them then) is the task's `accepted_share`. Lines the user unchecked in
a refactor preview, undid or rewrote count as gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from flashpro.tasks.delivery import FileChange

__all__ = ["added_lines", "surviving_share"]


def added_lines(changes: Iterable[FileChange]) -> dict[str, list[str]]:
    """The non-blank lines each file gained, by path."""
    found: dict[str, list[str]] = {}
    for change in changes:
        lines = [line.strip() for hunk in change.hunks for line in hunk.text.splitlines() if line.strip()]
        if lines:
            found[change.path] = lines
    return found


def surviving_share(added: Mapping[str, list[str]], texts: Mapping[str, str | None]) -> float | None:
    """The share of `added` lines still present in `texts` (path -> text now); None when the
    task added none."""
    total = kept = 0
    for path, lines in added.items():
        now = Counter(line.strip() for line in (texts.get(path) or "").splitlines() if line.strip())
        for line, times in Counter(lines).items():
            total += times
            kept += min(times, now[line])
    return kept / total if total else None
