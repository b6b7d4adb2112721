"""Scanning outgoing text for secrets, cheaply and incrementally, and redacting what it finds.

:class:`SecretScanner` memoises the verdict of :func:`~flashpro.privacy.rules.scan_line` per
(flavor, line text) in a bounded LRU, so a keystroke re-scans only the lines it changed: the
rest of a prompt costs one dictionary look-up per line. :meth:`SecretScanner.redact` replaces
each secret *value* with :data:`REDACTED` and keeps the rest of the line, so the same line
always redacts to the same bytes (the cached prompt head stays byte-stable) and completion
still sees the code around it. A private-key block cannot be redacted line by line: the
result says ``blocked`` and the caller sends nothing.

Text is split on ``\\n`` (a ``\\r`` before it is kept out of the scan and put back). Segments
of one text may have different flavors (a prompt holds snippets of other files), and each
line may carry a gutter (an action's ``   12| `` line numbers) that is not scanned.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from flashpro.privacy.rules import CONFIG, Finding, scan_line

__all__ = ["REDACTED", "Redacted", "SecretScanner", "shared_scanner"]

REDACTED = "<redacted>"
"""What a secret value is replaced with (detect-secrets treats `<x>` as a template, so a
redacted line scans clean)."""


@dataclass(frozen=True, slots=True)
class Redacted:
    """A text with its secrets replaced; `edits` are (start, end) spans of the original."""

    text: str
    edits: tuple[tuple[int, int], ...] = ()
    blocked: bool = False
    rules: tuple[str, ...] = ()

    @property
    def secrets(self) -> int:
        """How many values were replaced."""
        return len(self.edits)

    def then(self, other: Redacted, original_length: int) -> Redacted:
        """This result followed by `other` (the redaction of the text that followed an original
        of `original_length` characters)."""
        moved = tuple((start + original_length, end + original_length) for start, end in other.edits)
        return Redacted(
            self.text + other.text,
            self.edits + moved,
            self.blocked or other.blocked,
            tuple(dict.fromkeys(self.rules + other.rules)),
        )

    def shift(self, offset: int) -> int:
        """Where `offset` of the original text lands in the redacted one (an offset inside a
        replaced value lands just after its placeholder)."""
        delta = 0
        for start, end in self.edits:
            if end <= offset:
                delta += len(REDACTED) - (end - start)
            elif start < offset:
                return start + delta + len(REDACTED)
            else:
                break
        return offset + delta


class SecretScanner:
    """Per-line secret findings with a bounded memo, and redaction of whole texts."""

    def __init__(self, max_lines: int = 16_384, max_texts: int = 32) -> None:
        self._max_lines = max(max_lines, 1)
        self._max_texts = max(max_texts, 1)
        self._memo: OrderedDict[tuple[str, str], tuple[Finding, ...]] = OrderedDict()
        self._texts: OrderedDict[tuple[object, ...], Redacted] = OrderedDict()

    def findings(self, line: str, flavor: str = CONFIG) -> tuple[Finding, ...]:
        """The secrets on one line (no line break inside), memoised."""
        key = (flavor, line)
        found = self._memo.get(key)
        if found is not None:
            self._memo.move_to_end(key)
            return found
        found = scan_line(line, flavor)
        self._memo[key] = found
        if len(self._memo) > self._max_lines:
            self._memo.popitem(last=False)
        return found

    def has_secret(self, text: str, flavor: str = CONFIG) -> bool:
        """Whether any line of `text` holds a secret (or a private-key block)."""
        return any(self.findings(line.rstrip("\r"), flavor) for line in text.split("\n"))

    def redact(
        self,
        text: str,
        flavor: str = CONFIG,
        *,
        segments: Sequence[tuple[int, str]] = (),
        gutter: re.Pattern[str] | None = None,
        remember: bool = False,
    ) -> Redacted:
        """`text` with every secret value replaced by :data:`REDACTED`.

        `segments` are (start offset, flavor) pairs, ascending, overriding `flavor` from that
        offset on (a line takes the flavor of the segment it starts in). `gutter` matches a
        prefix of each line that is left out of the scan (line numbers). `remember` keeps the
        result for the same text (a prompt head repeated keystroke after keystroke).
        """
        if not remember:
            return self._redact(text, flavor, segments, gutter)
        key = (text, flavor, tuple(segments), gutter.pattern if gutter is not None else None)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = self._redact(text, flavor, segments, gutter)
            if len(self._texts) > self._max_texts:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(key)
        return found

    def _redact(
        self, text: str, flavor: str, segments: Sequence[tuple[int, str]], gutter: re.Pattern[str] | None
    ) -> Redacted:
        edits: list[tuple[int, int]] = []
        rules: list[str] = []
        blocked = False
        bounds = list(segments)
        current, index, position = flavor, 0, 0
        for piece in text.split("\n"):
            while index < len(bounds) and bounds[index][0] <= position:
                current = bounds[index][1]
                index += 1
            skip = 0
            if gutter is not None:
                match = gutter.match(piece)
                skip = match.end() if match else 0
            content = piece[skip:].removesuffix("\r")
            found = self.findings(content, current) if content else ()
            for start, end in _merged(found):
                edits.append((position + skip + start, position + skip + end))
            for finding in found:
                blocked = blocked or finding.block
                rules.append(finding.rule)
            position += len(piece) + 1
        if not edits:
            return Redacted(text, (), blocked, tuple(rules))
        pieces: list[str] = []
        last = 0
        for start, end in edits:
            pieces += [text[last:start], REDACTED]
            last = end
        pieces.append(text[last:])
        return Redacted("".join(pieces), tuple(edits), blocked, tuple(dict.fromkeys(rules)))


def _merged(found: tuple[Finding, ...]) -> list[tuple[int, int]]:
    """Spans of the non-block findings, overlapping ones merged, in order."""
    spans: list[tuple[int, int]] = []
    for finding in found:
        if finding.block or finding.end <= finding.start:
            continue
        if spans and finding.start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], finding.end))
        else:
            spans.append((finding.start, finding.end))
    return spans


@functools.lru_cache(maxsize=1)
def shared_scanner() -> SecretScanner:
    """The process-wide scanner (its memo is shared by completions, actions and documents)."""
    return SecretScanner()
