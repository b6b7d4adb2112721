"""The map of a source file: every definition's signature, top to bottom, kept up to date per edit.

A FIM prompt shows a window of the file around the cursor; the names the continuation needs
are often defined outside it (below the cursor, far above it). The *outline* names them all
in a few tokens: each definition's signature line, in file order, with the indentation that
shows nesting. Per language (:func:`language_of`; other languages get no outline):

* Python: ``def`` / ``async def`` / ``class`` (continuation lines until the brackets close,
  so multi-line parameter lists are whole), top-level and class-level assignments and
  annotations (first line, trailing comment dropped, long values cut), and per class one line
  naming the ``self.<name>`` attributes its methods use;
* JavaScript / TypeScript: ``function``, ``class``, methods (an indented ``name(...)`` line
  that opens a block), ``interface`` / ``type`` / ``enum`` / ``namespace`` with their bodies
  (up to 30 lines), top-level ``const`` / ``let`` / ``var``, and per class the ``this.<name>``
  attributes;
* Go: ``func`` (methods too), ``type`` with its body (struct fields, interface methods; up to
  30 lines), top-level ``var`` / ``const`` (blocks included).

Incremental. :class:`Outlines` keeps, per document, one entry slot per line (the definition
that starts there, if any) and a snapshot of the line list. An edit is located by comparing
the snapshot with the buffer's lines from the first changed line the editor reported (line
objects that an edit did not touch are the same objects, so the comparison is a C-speed
identity check), and only the changed lines plus the 30 before them are scanned again. A
document is scanned whole once, at its first outline.

Stability. The rendered outline is byte-identical while no definition changes, and what the
user is writing right now stays out of it until they leave it (it is in the prompt's window
anyway): the entry whose lines hold the cursor (a signature being typed, an assignment), and
the locals and attribute uses of the function around the cursor (so writing ``__init__`` does
not rewrite the outline at every new ``self.<name>``; it changes once, when the cursor leaves
the function). Typing there keeps the entries' revision, so the rendered outline is reused.
When it does not fit its token cap, lines are kept by priority: the class around the cursor
(its line, attributes and members), then top-level definitions, then the rest, each nearest
page (:data:`PAGE_LINES`) first and shallow before nested; the kept lines are shown in file
order. The selection depends on the cursor only through its page and its class.

:func:`public_outline` is the same map for *another* file (an imported module): only what it
exports (Python: names without a leading underscore, ``__init__`` kept; JS/TS: ``export``ed
declarations and the members of exported classes; Go: capitalised names).
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence

from flashpro.completion.signatures import MAX_SPAN, Entry, indent_of, language_of, lead, scan
from flashpro.documents import TextBuffer
from flashpro.tokens import LineCounter

__all__ = ["PAGE_LINES", "Outlines", "language_of", "public_outline"]

PAGE_LINES = 512  # outline priority: definitions in pages nearer the cursor's come first
_BACK = MAX_SPAN  # an edit rescans this many lines before it (an entry spans at most that)


def _render(
    entries: Sequence[tuple[int, Entry]], language: str, public_only: bool = False
) -> list[tuple[int, int, str, str]]:
    """(first document line, end line, text, kind) of each outline line, in file order. Entries inside
    another's lines are part of it; locals are left out; attributes are gathered on one line
    right after their class's signature (with the class's lines)."""
    out: list[tuple[int, int, str, str]] = []
    stack: list[tuple[int, Entry, int]] = []  # (indent, entry, index into out) of enclosing defs
    attrs: dict[int, dict[str, None]] = {}  # index of a class line in `out` -> attribute names
    hidden_below: int | None = None  # public_only: entries nested deeper than this are hidden
    covered = 0  # entries starting before this line lie inside the previous entry
    members: dict[int, set[str]] = {}  # index of a class line -> names it defines itself
    for line, entry in entries:
        if line < covered:
            continue
        while stack and stack[-1][0] >= entry.indent:
            stack.pop()
        if entry.attrs:
            owner = next((item for item in reversed(stack) if item[1].kind == "class"), None)
            if owner is not None and owner[2] >= 0:
                attrs.setdefault(owner[2], {}).update(dict.fromkeys(entry.attrs))
        if entry.kind == "attrs":
            continue
        if hidden_below is not None:
            if entry.indent > hidden_below:
                continue
            hidden_below = None
        parent = stack[-1][1] if stack else None
        if entry.kind == "var" and parent is not None and parent.kind != "class":
            continue  # a local variable
        covered = line + entry.span
        if public_only and not entry.public:
            hidden_below = entry.indent
            stack.append((entry.indent, entry, -1))
            continue
        out.append((line, line + entry.span, entry.text, entry.kind))
        if parent is not None and parent.kind == "class" and stack[-1][2] >= 0:
            members.setdefault(stack[-1][2], set()).add(entry.name)
        if entry.kind in ("class", "def", "type"):
            stack.append((entry.indent, entry, len(out) - 1))
    if not attrs:
        return out
    prefix = "this." if language == "js" else "self."
    comment = "//" if language == "js" else "#"
    merged: list[tuple[int, int, str, str]] = []
    for index, (line, end, text, kind) in enumerate(out):
        merged.append((line, end, text, kind))
        names = [name for name in attrs.get(index, ()) if name not in members.get(index, ())]
        if names:
            pad = lead(text) + ("\t" if text.startswith("\t") else "    ")
            if index + 1 < len(out) and len(lead(out[index + 1][2])) > len(lead(text)):
                pad = lead(out[index + 1][2])  # the file's own nesting unit
            merged.append((line, end, f"{pad}{comment} {', '.join(prefix + n for n in names)}\n", "attrs"))
    return merged


def public_outline(lines: Sequence[str], language: str) -> list[str]:
    """The outline of another file's exported definitions (see the module docstring)."""
    entries = [(i, entry) for i in range(len(lines)) if (entry := scan(lines, i, language)) is not None]
    return [item[2] for item in _render(entries, language, public_only=True)]


class _FileOutline:
    """One document's entries (one slot per line) and the line list they were scanned from."""

    __slots__ = (
        "body", "classes", "entries", "language", "mask", "renders", "revision", "snapshot", "start_hint", "version",
    )

    def __init__(self, language: str, lines: list[str], version: int) -> None:
        self.language = language
        self.snapshot = lines
        self.entries: list[Entry | None] = [scan(lines, i, language) for i in range(len(lines))]
        self.revision = 0  # changes whenever an entry outside the mask changes
        self.version = version
        self.start_hint: int | None = None
        self.mask = (-1, -1)  # the lines left out of the last outline (what the cursor is on)
        self.body = (-1, -1)  # the lines of the function around the cursor (locals, attributes)
        self.renders: OrderedDict[tuple[int, ...], tuple[list[str], int, int]] = OrderedDict()
        self.classes: tuple[int, list[int]] | None = None  # (revision, lines of class entries)

    def sync(self, lines: list[str], version: int) -> None:
        """Rescan what changed between the snapshot and `lines` (see the module docstring).
        Changes to the entries under the last mask alone (typing on the line the cursor is on)
        keep the revision: the outlines rendered with that mask stay right."""
        old, hint = self.snapshot, self.start_hint or 0
        self.snapshot, self.version, self.start_hint = lines, version, None
        start, old_end, new_end = _changed_span(old, lines, hint)
        if start == old_end == new_end:
            return
        first = max(0, start - _BACK)
        fresh = [scan(lines, i, self.language) for i in range(first, new_end)]
        previous = self.entries[first:old_end]
        if fresh != previous:
            if len(fresh) == len(previous) and all(
                self._unseen(first + i, a, b) for i, (a, b) in enumerate(zip(fresh, previous, strict=True)) if a != b
            ):
                for key in [key for key in self.renders if key[:4] != (*self.mask, *self.body)]:
                    del self.renders[key]  # they show the masked lines as they were
            else:
                self.revision += 1
                self.renders.clear()
        self.entries[first:old_end] = fresh

    def _unseen(self, line: int, new: Entry | None, old: Entry | None) -> bool:
        """Whether a change of the entry at `line` leaves the last masked outline as it was."""
        if self.mask[0] <= line < self.mask[1]:
            return True
        shown = ("def", "class", "type")
        return self.body[0] <= line < self.body[1] and all(e is None or e.kind not in shown for e in (new, old))

    def _masked(self, cursor: int) -> tuple[int, int]:
        """The lines of the outermost entry whose lines hold the cursor, else the cursor line."""
        low, high = cursor, cursor + 1
        for start in range(max(0, cursor - _BACK), cursor + 1):
            entry = self.entries[start] if start < len(self.entries) else None
            if entry is not None and start + entry.span > cursor:
                low, high = start, max(high, start + entry.span)
                break
        return low, high

    def _body(self, cursor: int) -> tuple[int, int]:
        """The lines of the innermost function (by indentation) around the cursor line, whose
        locals and attribute uses are left out of the outline while the cursor is in it (they
        are in the prompt's window anyway): writing a method does not rewrite the outline at
        each new ``self.<name>``; it changes once, when the cursor leaves the method."""
        text = self.snapshot[cursor] if cursor < len(self.snapshot) else ""
        depth = indent_of(lead(text)) if text.strip() else indent_of(lead(text)) or 1 << 30
        start = -1
        for line in range(min(cursor, len(self.entries) - 1), -1, -1):
            entry = self.entries[line]
            if entry is None or entry.kind not in ("def", "class", "type"):
                continue
            if entry.indent < depth:
                if entry.kind != "def":
                    return -1, -1
                start = line
                break
        if start < 0:
            return -1, -1
        indent = self.entries[start].indent  # type: ignore[union-attr]
        end = cursor + 1
        while end < len(self.entries):
            entry = self.entries[end]
            if entry is not None and entry.kind != "attrs" and entry.indent <= indent:
                break
            end += 1
        return start, end

    def _owner(self, cursor: int) -> int:
        """The line of the last class entry at or before the cursor (-1 when none)."""
        if self.classes is None or self.classes[0] != self.revision:
            lines = [i for i, entry in enumerate(self.entries) if entry is not None and entry.kind == "class"]
            self.classes = (self.revision, lines)
        lines = self.classes[1]
        at = bisect.bisect_right(lines, cursor)
        return lines[at - 1] if at else -1

    def render(self, cursor: int, cap: int, counter: LineCounter) -> tuple[list[str], int, int]:
        """Outline lines (within `cap` tokens), their token count and the line after the last
        definition shown, for a cursor line: the entry whose lines hold it is left out, so
        typing there does not change the outline until the cursor leaves."""
        self.mask = low, high = self._masked(cursor)
        self.body = first, last = self._body(cursor)
        owner = self._owner(cursor)
        key = (low, high, first, last, cursor // PAGE_LINES, owner, cap, self.revision)
        cached = self.renders.get(key)
        if cached is not None:
            self.renders.move_to_end(key)
            return cached
        shown = ("def", "class", "type")
        entries = [
            (i, e)
            for i, e in enumerate(self.entries)
            if e is not None and not low <= i < high and (e.kind in shown or not first <= i < last)
        ]
        rendered = _render(entries, self.language)
        texts = [item[2] for item in rendered]
        tokens = counter.count_lines(texts)
        end = max((item[1] for item in rendered), default=0)
        if tokens > cap:
            texts, tokens, end = _fit(rendered, cursor, owner, cap, counter)
        self.renders[key] = (texts, tokens, end)
        while len(self.renders) > 8:
            self.renders.popitem(last=False)
        return texts, tokens, end


def _fit(
    rendered: list[tuple[int, int, str, str]], cursor: int, owner: int, cap: int, counter: LineCounter
) -> tuple[list[str], int, int]:
    """The outline lines that fit `cap`, in file order, taken by priority: the class around the
    cursor (its line, then its members), the cursor's page, top-level definitions (nearest
    pages first), then the rest (nearest pages first, shallow before nested)."""
    page = cursor // PAGE_LINES
    members: set[int] = set()  # the class around the cursor: its line and what is nested in it
    for index, item in enumerate(rendered):
        if item[0] == owner:
            members.add(index)
        elif members and item[2][:1] in (" ", "\t"):
            members.add(index)
        elif members:
            break

    def priority(index: int) -> tuple[int, int, int, int]:
        line, _, text, _ = rendered[index]
        nesting = len(lead(text))
        distance = abs(line // PAGE_LINES - page)
        group = 0 if index in members else 1 if nesting == 0 else 2
        return group, distance, nesting, index

    kept: list[int] = []
    used = 0
    for index in sorted(range(len(rendered)), key=priority):
        tokens = counter.count_lines([rendered[index][2]])
        if used + tokens > cap:
            continue
        kept.append(index)
        used += tokens
    kept.sort()
    texts = [rendered[i][2] for i in kept]
    exact = counter.count_lines(texts)
    while exact > cap and texts:
        texts.pop()
        kept.pop()
        exact = counter.count_lines(texts)
    return texts, exact, max((rendered[i][1] for i in kept), default=0)


def _changed_span(old: list[str], new: list[str], start: int) -> tuple[int, int, int]:
    """(a, old_end, new_end): old[a:old_end] became new[a:new_end], everything else the same
    line objects. `start` is a line no later than the first change (0 when unknown)."""
    a = min(start, len(old), len(new))
    while a < len(old) and a < len(new) and old[a] is new[a]:
        a += 1
    room = min(len(old), len(new)) - a

    def same_tail(k: int) -> bool:
        return k == 0 or old[len(old) - k :] == new[len(new) - k :]

    for guess in (room, room - 1, room - 2):  # a keystroke, a line break, a joined line
        if 0 <= guess and same_tail(guess):
            low = guess
            break
    else:
        low, high = 0, room  # largest k with same_tail(k): it holds for every smaller k too
        while low < high:
            middle = (low + high + 1) // 2
            if same_tail(middle):
                low = middle
            else:
                high = middle - 1
    return a, len(old) - low, len(new) - low


class Outlines:
    """Per-document outlines, kept incrementally; a bounded LRU of documents."""

    def __init__(self, max_documents: int = 32) -> None:
        self._max_documents = max_documents
        self._files: OrderedDict[str, _FileOutline] = OrderedDict()

    def edited(self, uri: str, lines: Sequence[int]) -> None:
        """Note the first line each change of a didChange touched (before any rescan)."""
        tracked = self._files.get(uri)
        if tracked is not None and lines:
            first = min(lines)
            tracked.start_hint = first if tracked.start_hint is None else min(tracked.start_hint, first)

    def closed(self, uri: str) -> None:
        """Forget a closed document."""
        self._files.pop(uri, None)

    def outline(
        self,
        uri: str,
        language: str,
        buffer: TextBuffer,
        version: int,
        cursor: int,
        cap: int,
        counter: LineCounter,
    ) -> tuple[list[str], int, int]:
        """The outline of a document at `version` for the cursor line, within `cap` tokens:
        (lines, tokens, the line after the last definition shown)."""
        tracked = self._files.get(uri)
        if tracked is None or tracked.language != language:
            tracked = _FileOutline(language, buffer.lines(0, buffer.line_count), version)
            self._files[uri] = tracked
            while len(self._files) > self._max_documents:
                self._files.popitem(last=False)
        elif tracked.version != version:
            tracked.sync(buffer.lines(0, buffer.line_count), version)
        self._files.move_to_end(uri)
        return tracked.render(cursor, cap, counter)
