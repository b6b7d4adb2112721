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
page (:data:`PAGE_HEADS` definitions) first and shallow before nested; the kept lines are
shown in file order. The selection depends on the cursor only through its page and its
class, and on line numbers not at all: rendered outlines are cached under keys that lines
without definitions coming or going (Enter, a new local) leave unchanged.

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

__all__ = ["PAGE_HEADS", "Outlines", "language_of", "public_outline", "public_outline_spans"]

PAGE_HEADS = 64  # outline priority: definitions in pages (of this many) nearer the cursor's first
_BACK = MAX_SPAN  # an edit rescans this many lines before it (an entry spans at most that)
_HEADS = ("def", "class", "type")  # kinds always shown; a function's other entries can be hidden


def _render(
    entries: Sequence[tuple[int, Entry]], language: str, public_only: bool = False
) -> list[tuple[int, int, str, str]]:
    """(first document line, end line, text, kind) of each outline line, in file order.

    Entries inside another's lines are part of it; locals are left out; attributes are gathered
    on one line right after their class's signature (with the class's lines)."""
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
        if entry.kind in _HEADS:
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


def public_outline_spans(lines: Sequence[str], language: str) -> list[tuple[int, int, str]]:
    """(first line, last line, text) of each line of another file's outline of exported
    definitions (see the module docstring)."""
    entries = [(i, entry) for i in range(len(lines)) if (entry := scan(lines, i, language)) is not None]
    return [(first, max(first, end - 1), text) for first, end, text, _ in _render(entries, language, public_only=True)]


def public_outline(lines: Sequence[str], language: str) -> list[str]:
    """The outline of another file's exported definitions (see the module docstring)."""
    return [text for _, _, text in public_outline_spans(lines, language)]


class _FileOutline:
    """One document's entries (one slot per line), the sorted lines that hold entries (all, and
    definitions only), and the line list they were scanned from.

    Rendered outlines are cached under a key that does not move when lines without entries come
    or go (the entries' revision, the hidden function and entry named by definition ordinals,
    the cursor's page and class by definition ordinals, the cap), so pressing Enter or typing a
    local reuses the outline instead of rendering it again.
    """

    __slots__ = (
        "at", "body", "entries", "heads", "language", "mask", "renders", "revision", "snapshot", "start_hint",
        "version",
    )

    def __init__(self, language: str, lines: list[str], version: int) -> None:
        self.language = language
        self.snapshot = lines
        self.entries: list[Entry | None] = [scan(lines, i, language) for i in range(len(lines))]
        self.at = [i for i, entry in enumerate(self.entries) if entry is not None]
        self.heads = [i for i in self.at if self.entries[i].kind in _HEADS]  # type: ignore[union-attr]
        self.revision = 0  # changes whenever an entry the last outline showed (or would) changes
        self.version = version
        self.start_hint: int | None = None
        self.mask = (-1, -1)  # lines of the entry the cursor was on at the last outline
        self.body = (-1, -1)  # lines of the function the cursor was in (its locals are hidden)
        self.renders: OrderedDict[tuple[object, ...], tuple[list[str], int]] = OrderedDict()

    # -- keeping up with edits -------------------------------------------------------------
    def sync(self, lines: list[str], version: int) -> None:
        """Rescan what changed between the snapshot and `lines`: the changed lines, and the
        entries up to MAX_SPAN lines before them (only an entry's extent depends on the lines
        after it; whether a line starts one depends on that line alone)."""
        old, hint = self.snapshot, self.start_hint or 0
        self.snapshot, self.version, self.start_hint = lines, version, None
        start, old_end, new_end = _changed_span(old, lines, hint)
        if start == old_end == new_end:
            return
        entries, language, delta = self.entries, self.language, new_end - old_end
        back = [i for i in range(max(0, start - _BACK), start) if entries[i] is not None]
        back_fresh = [scan(lines, i, language) for i in back]
        fresh = [scan(lines, i, language) for i in range(start, new_end)]
        previous = entries[start:old_end]
        back_old = [entries[i] for i in back]
        if back_fresh != back_old or fresh != previous:
            self._judge(back, back_old, back_fresh, start, old_end, previous, fresh, delta)
        for i, entry in zip(back, back_fresh, strict=True):
            entries[i] = entry
        entries[start:old_end] = fresh
        if delta or [e is None for e in fresh] != [e is None for e in previous]:
            self._relocate(start, old_end, delta)
        if delta:
            self.mask = _moved(self.mask, start, old_end, delta)
            self.body = _moved(self.body, start, old_end, delta)

    def _judge(
        self,
        back: list[int],
        back_old: list[Entry | None],
        back_fresh: list[Entry | None],
        start: int,
        old_end: int,
        previous: list[Entry | None],
        fresh: list[Entry | None],
        delta: int,
    ) -> None:
        """Bump the revision unless only lines without entries moved, or only entries the last
        outline hid (the entry under the cursor, its function's locals) changed."""
        changed = [e for e in back_old if e] + [e for e in previous if e]
        now = [e for e in back_fresh if e] + [e for e in fresh if e]
        if changed == now:
            return  # lines without entries came or went: every outline stays right
        mask, body = self.mask, self.body
        inside = start >= min(mask[0], body[0]) >= 0 and old_end <= max(mask[1], body[1])
        if inside:
            # Lines typed at the cursor belong to the function around it, not to the entry it
            # was on: with lines added or removed, the entry mask no longer hides anything.
            new_mask = mask if not delta else (-1, -1)
            new_body = _moved(body, start, old_end, delta)
            seen_old = [e for i, e in zip(back, back_old, strict=True) if _shown(i, e, mask, body)]
            seen_old += [e for i, e in enumerate(previous, start) if _shown(i, e, mask, body)]
            seen_new = [e for i, e in zip(back, back_fresh, strict=True) if _shown(i, e, new_mask, new_body)]
            seen_new += [e for i, e in enumerate(fresh, start) if _shown(i, e, new_mask, new_body)]
            if seen_old == seen_new:
                current = self._hidden_key(mask, body)
                for key in [key for key in self.renders if key[1] != current]:
                    del self.renders[key]  # they show the hidden entries as they were
                return
        self.revision += 1
        self.renders.clear()

    def _relocate(self, start: int, old_end: int, delta: int) -> None:
        """Update the sorted entry lines after an edit of [start, old_end) (delta lines more)."""
        for lines, wanted in ((self.at, None), (self.heads, _HEADS)):
            low = bisect.bisect_left(lines, start)
            high = bisect.bisect_left(lines, old_end)
            middle = [
                i for i in range(start, old_end + delta)
                if (e := self.entries[i]) is not None and (wanted is None or e.kind in wanted)
            ]
            lines[low:] = middle + ([i + delta for i in lines[high:]] if delta else lines[high:])

    # -- rendering --------------------------------------------------------------------------
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
        heads = self.heads
        index = bisect.bisect_right(heads, cursor) - 1
        while index >= 0:
            entry = self.entries[heads[index]]
            assert entry is not None
            if entry.indent < depth:
                break
            index -= 1
        if index < 0 or self.entries[heads[index]].kind != "def":  # type: ignore[union-attr]
            return -1, -1
        start = heads[index]
        indent = self.entries[start].indent  # type: ignore[union-attr]
        at = self.at
        position = bisect.bisect_right(at, cursor)
        while position < len(at):
            entry = self.entries[at[position]]
            if entry is not None and entry.kind != "attrs" and entry.indent <= indent:
                return start, at[position]
            position += 1
        return start, len(self.entries)

    def _hidden_key(self, mask: tuple[int, int], body: tuple[int, int]) -> tuple[object, ...]:
        """What the outline hides, in terms that survive lines moving: the function by the
        ordinals of the definitions that open and close it, the masked entry by its
        definition ordinal (a definition) or its position among entries (anything else) when
        the function does not hide it already."""
        heads = self.heads
        body_key: tuple[int, int] | None = None
        if body[0] >= 0:
            body_key = (bisect.bisect_left(heads, body[0]), bisect.bisect_left(heads, body[1]))
        mask_key: tuple[str, int] | None = None
        hidden = [i for i in range(mask[0], min(mask[1], len(self.entries))) if self.entries[i] is not None]
        for line in hidden:
            entry = self.entries[line]
            assert entry is not None
            if entry.kind in _HEADS:
                mask_key = ("head", bisect.bisect_left(heads, line))
                break
            if not body[0] <= line < body[1]:
                mask_key = ("entry", bisect.bisect_left(self.at, line))
                break
        return body_key, mask_key

    def render(
        self, cursor: int, cap: int, counter: LineCounter, after: int | None = None
    ) -> tuple[list[str], int, int]:
        """Outline lines (within `cap` tokens), their token count and the line after the last
        entry of the file, for a cursor line: the entry whose lines hold it is left out, so
        typing there does not change the outline until the cursor leaves. With `after`, only
        what starts at or after that line (the rest of the file is in the prompt)."""
        self.mask = mask = self._masked(cursor)
        self.body = body = self._body(cursor)
        heads = self.heads
        owner = -1
        index = bisect.bisect_right(heads, cursor) - 1
        while index >= 0:
            if self.entries[heads[index]].kind == "class":  # type: ignore[union-attr]
                owner = index
                break
            index -= 1
        page = max(0, bisect.bisect_right(heads, cursor) - 1) // PAGE_HEADS
        since = -1 if after is None else bisect.bisect_left(self.at, after)
        key = (self.revision, self._hidden_key(mask, body), page, owner, cap, since)
        last = self.at[-1] + self.entries[self.at[-1]].span if self.at else 0  # type: ignore[union-attr]
        cached = self.renders.get(key)
        if cached is not None:
            self.renders.move_to_end(key)
            return cached[0], cached[1], last
        shown = [(i, e) for i in self.at if _shown(i, (e := self.entries[i]), mask, body)]
        rendered = _render(shown, self.language)  # type: ignore[arg-type]
        if after is not None:
            rendered = [item for item in rendered if item[0] >= after]
        texts = [item[2] for item in rendered]
        tokens = counter.count_lines(texts)
        if tokens > cap:
            owner_line = heads[owner] if owner >= 0 else -1
            pages = [bisect.bisect_right(heads, item[0]) // PAGE_HEADS for item in rendered]
            texts, tokens = _fit(rendered, pages, page, owner_line, cap, counter)
        self.renders[key] = (texts, tokens)
        while len(self.renders) > 8:
            self.renders.popitem(last=False)
        return texts, tokens, last


def _shown(line: int, entry: Entry | None, mask: tuple[int, int], body: tuple[int, int]) -> bool:
    """Whether an entry goes into the outline: not under the cursor, not a local of the
    function around it."""
    if entry is None or mask[0] <= line < mask[1]:
        return False
    return entry.kind in _HEADS or not body[0] <= line < body[1]


def _moved(lines: tuple[int, int], start: int, old_end: int, delta: int) -> tuple[int, int]:
    """A line range after [start, old_end) became delta lines longer."""
    low, high = lines
    if low < 0:
        return lines
    return (low + delta if low >= old_end else low), (high + delta if high >= old_end or high > start else high)


def _fit(
    rendered: list[tuple[int, int, str, str]],
    pages: list[int],
    page: int,
    owner: int,
    cap: int,
    counter: LineCounter,
) -> tuple[list[str], int]:
    """The outline lines that fit `cap`, in file order, taken by priority: the class around the
    cursor (its line, attributes and members), then top-level definitions, then the rest, each
    nearest page first and shallow before nested. Pages count definitions (PAGE_HEADS each)."""
    members: set[int] = set()  # the class around the cursor: its line and what is nested in it
    for index, item in enumerate(rendered):
        if item[0] == owner:
            members.add(index)
        elif members and item[2][:1] in (" ", "\t"):
            members.add(index)
        elif members:
            break

    def priority(index: int) -> tuple[int, int, int, int]:
        nesting = len(lead(rendered[index][2]))
        group = 0 if index in members else 1 if nesting == 0 else 2
        return group, abs(pages[index] - page), nesting, index

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
        exact = counter.count_lines(texts)
    return texts, exact


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
        after: int | None = None,
    ) -> tuple[list[str], int, int]:
        """The outline of a document at `version` for the cursor line, within `cap` tokens:
        (lines, tokens, the line after the file's last entry). With `after`, only the part of
        it that starts at or after that line."""
        tracked = self._files.get(uri)
        if tracked is None or tracked.language != language:
            tracked = _FileOutline(language, buffer.lines(0, buffer.line_count), version)
            self._files[uri] = tracked
            while len(self._files) > self._max_documents:
                self._files.popitem(last=False)
        elif tracked.version != version:
            tracked.sync(buffer.lines(0, buffer.line_count), version)
        self._files.move_to_end(uri)
        return tracked.render(cursor, cap, counter, after)
