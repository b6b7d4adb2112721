"""Exact token counts of document windows, re-encoding only the lines that changed.

This module owns :class:`LineCounter`, which counts ``"".join(lines)`` by splitting the
lines into *runs* at places where the DeepSeek V4 pre-tokenizer is guaranteed to start a new
piece, and caching each run's count keyed by its text.

Why the split is exact
----------------------
BPE never merges across pre-tokenizer pieces, and the split pattern (see
:mod:`flashpro.tokens.pattern`) has no look-behind and no anchors. So if position ``p`` is a
piece boundary of ``text``, and matching ``text[:p]`` alone yields the same pieces as the
full text does before ``p``, then ``count(text) == count(text[:p]) + count(text[p:])``.

Let ``p`` follow a CR or LF, and let the maximal whitespace run starting at ``p`` contain no
CR or LF (it may be empty: ``text[p]`` is not whitespace; or it is indentation followed by
something else). Then ``p`` is such a boundary:

* The only pieces that can contain CR or LF are `` ?[\\p{P}\\p{S}]+[\\r\\n]*`` (CR/LF only at
  its end), ``\\s*[\\r\\n]+`` and the all-whitespace ``\\s+`` alternatives. The prefixed-letter
  alternative excludes CR and LF from its prefix, so ``"\\nfoo"`` is never one piece (it is
  for U+2028, NEL, VT and FF, which is why only CR and LF count as line breaks here).
* The piece holding the CR/LF before ``p`` is therefore either punctuation with trailing
  line breaks, which ends at ``p`` because ``text[p]`` is not CR/LF, or ``\\s*[\\r\\n]+``,
  which is tried before the ``\\s+`` alternatives and, being greedy then backtracking, ends
  just after the *last* CR/LF of the whitespace run: again ``p``. Neither looks ahead, so
  cutting the text at ``p`` changes neither that piece nor any earlier one.

In line terms: a new run starts at a line when the previous line ends with ``"\\n"`` or
``"\\r"`` and the line has non-whitespace content after leading whitespace containing no
CR/LF. Unindented *and* indented lines start runs; whitespace-only lines (blank lines) join
the run before them, because ``"\\n\\n"`` is a single piece. ``str.isspace`` is used to find
leading whitespace; it accepts a superset of the regex's ``\\s`` (e.g. U+001C-001F), which
can only make runs longer, never wrong.

What is not guaranteed
----------------------
* Nothing is assumed about how the caller split lines: a "line" may lack its ending or hold
  several line breaks. Boundaries are only taken *between* list items that satisfy the rule,
  so any list of strings counts exactly, but runs may then be long.
* Windows must be counted as a whole: the count of a window is exact for the window's text,
  not for how that text tokenizes inside the larger document (a window cut at a position
  that is not a boundary differs from the document's tokens at its edges).
* Counts are ordinary-text counts (:func:`flashpro.tokens.count`): special-token text is not
  turned into special tokens.

Cache
-----
Entries are keyed by text: a line maps to its run-boundary flags and (once needed) its own
count; a multi-line run maps to its count. The cache is a two-generation approximation of an
LRU: lookups hit the young generation, or promote from the old one; when the young one
reaches half the bounds it becomes the old one and the previous old one is dropped. So at
most ``max_entries`` entries and about ``max_chars`` characters are held, and everything
used since the last rotation survives. This keeps a cached 300-line window at a few hundred
nanoseconds per line with no locking: entries are immutable facts about their text, so a
race between threads can at worst encode a run twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flashpro.tokens.encoding import count as _count

__all__ = ["LineCounter", "LineCounterStats", "opens_run", "split_runs"]

_LINE_BREAKS = ("\n", "\r")
_OPENS = 1  # a piece boundary is guaranteed before this text if the text before ends in CR/LF
_ENDS = 2  # this text ends with CR or LF


def opens_run(line: str) -> bool:
    """Whether a piece boundary is guaranteed before `line` when the text before ends in CR/LF."""
    if not line:
        return False
    if not line[0].isspace():
        return True
    rest = line.lstrip()
    if not rest:
        return False  # whitespace only: it may continue into the next line's break
    lead = line[: len(line) - len(rest)]
    return "\n" not in lead and "\r" not in lead


def split_runs(lines: Iterable[str]) -> list[str]:
    """`lines` joined into runs whose token counts add up to the count of the whole."""
    runs: list[str] = []
    parts: list[str] = []
    after_break = False
    for line in lines:
        if not line:
            continue
        if parts and after_break and opens_run(line):
            runs.append(parts[0] if len(parts) == 1 else "".join(parts))
            parts = []
        parts.append(line)
        after_break = line.endswith(_LINE_BREAKS)
    if parts:
        runs.append(parts[0] if len(parts) == 1 else "".join(parts))
    return runs


def _flags(text: str) -> int:
    return (_OPENS if opens_run(text) else 0) | (_ENDS if text.endswith(_LINE_BREAKS) else 0)


# A cache entry: (flags, count of the text on its own or None if not computed yet).
_Entry = tuple[int, "int | None"]


@dataclass(frozen=True, slots=True)
class LineCounterStats:
    """Cache activity since the counter was created (or cleared)."""

    runs: int
    misses: int
    encoded_chars: int
    entries: int
    cached_chars: int


class LineCounter:
    """Exact token counts of line windows with a bounded, content-keyed cache of run counts.

    ``count_lines(lines) == count("".join(lines))`` always holds (see the module docstring
    for why). Each run's count is cached by its text, so recounting a window after an edit
    encodes only the runs whose text changed -- usually the edited line, plus any blank lines
    that follow it. Safe to share between threads.
    """

    def __init__(
        self,
        max_entries: int = 65_536,
        max_chars: int = 16_000_000,
        counter: Callable[[str], int] = _count,
    ) -> None:
        if max_entries < 2 or max_chars < 2:
            raise ValueError("cache bounds must be at least 2")
        self._max_entries = max_entries // 2  # per generation
        self._max_chars = max_chars // 2
        self._counter = counter
        self._young: dict[str, _Entry] = {}
        self._old: dict[str, _Entry] = {}
        self._young_chars = 0
        self._old_chars = 0
        self._runs = 0
        self._misses = 0
        self._encoded_chars = 0

    def count_lines(self, lines: Iterable[str], limit: int | None = None) -> int:
        """Token count of ``"".join(lines)``; lines keep their line endings.

        With `limit`, counting stops at the first run boundary past it: the result is then
        some number above `limit` (not the full count), and the lines after are never read."""
        young = self._young
        total = 0
        runs = 0
        head = ""  # first line of the current run ("" before the first line)
        head_entry: _Entry = (0, 0)
        parts: list[str] | None = None  # all lines of the current run, when more than one
        after_break = 0
        for line in lines:
            entry = young.get(line)
            if entry is None:
                if not line:
                    continue
                entry = self._entry(line)
            flags = entry[0]
            if not head:
                head, head_entry = line, entry
            elif after_break and flags & _OPENS:
                runs += 1
                known = head_entry[1]
                if parts is None and known is not None:
                    total += known
                else:
                    total += self._count_run(head, head_entry, parts)
                if limit is not None and total > limit:
                    self._runs += runs
                    return total
                head, head_entry, parts = line, entry, None
            elif parts is None:
                parts = [head, line]
            else:
                parts.append(line)
            after_break = flags & _ENDS
        if head:
            runs += 1
            known = head_entry[1]
            if parts is None and known is not None:
                total += known
            else:
                total += self._count_run(head, head_entry, parts)
        self._runs += runs
        return total

    def count_text(self, text: str) -> int:
        """Token count of `text`, cached line by line."""
        return self.count_lines(text.splitlines(keepends=True))

    def stats(self) -> LineCounterStats:
        return LineCounterStats(
            self._runs,
            self._misses,
            self._encoded_chars,
            len(self._young) + len(self._old),
            self._young_chars + self._old_chars,
        )

    def clear(self) -> None:
        """Drop every cached count and reset the statistics."""
        self._young, self._old = {}, {}
        self._young_chars = self._old_chars = 0
        self._runs = self._misses = self._encoded_chars = 0

    def _entry(self, text: str) -> _Entry:
        """The entry for `text` promoted from the old generation, or a new one."""
        entry = self._old.get(text)
        if entry is None:
            entry = (_flags(text), None)
        self._store(text, entry)
        return entry

    def _count_run(self, head: str, head_entry: _Entry, parts: list[str] | None) -> int:
        if parts is None:
            text, entry = head, head_entry
        else:
            text = "".join(parts)
            entry = self._young.get(text) or self._entry(text)
        known = entry[1]
        if known is not None:
            return known
        value = self._counter(text)
        self._misses += 1
        self._encoded_chars += len(text)
        self._store(text, (entry[0], value))
        return value

    def _store(self, text: str, entry: _Entry) -> None:
        size = len(text)
        if size > self._max_chars:
            return
        young = self._young
        if text not in young:
            if len(young) >= self._max_entries or self._young_chars + size > self._max_chars:
                self._old, self._old_chars = young, self._young_chars
                young = self._young = {}
                self._young_chars = 0
            self._young_chars += size
        young[text] = entry
