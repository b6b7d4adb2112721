"""Do not ask when it is not worth it: adaptive debounce, skip rules, and the shape of a request.

This module owns three pure decisions taken before (and while) a FIM call runs.

Debounce (:class:`TypingRhythm`). Per document, an exponential moving average ``I`` of the
intervals between keystrokes (``alpha = 0.3``; gaps longer than ``pause`` = 1 s are pauses,
not rhythm, and are ignored), and one average ``L`` of observed request latency::

    delay = clamp(0.6 * I + 0.05 * L, 40 ms, 300 ms)

The delay is counted from the document's last content change, not from the request's arrival
(:meth:`TypingRhythm.wait`): an editor that asks on every key (VS Code) waits the whole delay,
one that asks only after its own idle time (Neovim 0.12: 200 ms without typing) waits only
what is left of it, usually nothing.
A user who types every 120 ms has paused when nothing came for longer than that interval; the
latency term waits a little longer when answers are slow anyway, because a slow request is
more likely to be superseded before it lands. Before any data, I = 150 ms and L = 400 ms
(110 ms). A stream still running is followed, not superseded, while the typed text can still
match it, so a short delay costs few extra calls. In the replay benchmark (3 scenarios, serial,
suffix 64 tokens) 1.0 x I gave 15.9 requests per 100 keys and 79.5% cache hits, 0.8 x I 17.5 and
84.8%, 0.6 x I 21.3 and 86.1% with the most accepted characters: more warm calls per file
amortise each file's cold first call.
Times are passed in; nothing here reads a clock.

Skip rules (:func:`should_request`); completion inside comments and strings stays allowed,
only cases that are very unlikely to be accepted are skipped:

* ``before-code``: only indentation before the cursor, and code (not just closing brackets)
  after it: an insertion would land in front of existing code;
* ``word-after-cursor``: a word character (letter, digit, ``_``; also ``-`` in CSS-like
  languages, ``$`` in PHP/shell) follows the cursor: the user is editing inside a word;
* ``long-line``: more than 1,000 characters before the cursor on the line (minified or
  generated text).

Shape (:func:`multiline`, :func:`stop_sequences`, :func:`stream_cut`): one line when text
follows the cursor, when the line ends mid-expression (an operator, an open bracket, a comma),
or after a block opener (``:``, ``{``, ``=>``, ``do``) whose body already follows (the next
line is indented deeper); several lines otherwise -- on an empty line, after a block opener,
and at the end of a line of code, where the answer usually begins with a line break that a
one-line request would cut to nothing (seen in the replay benchmark: 9 of 20 calls came back
empty before this rule). Stop strings (FIM allows 16): one line
stops at ``"\\n"``; several lines stop at two blank lines and at the next existing line.
``stream_cut`` ends a streaming multi-line answer early at the end of the block (a line
indented less than the block, a blank line before a new top-level statement), at the text
that already follows (the next line), or at a line that repeats the one before.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = [
    "LATENCY_FACTOR",
    "MAX_DELAY",
    "MIN_DELAY",
    "TYPING_FACTOR",
    "TypingRhythm",
    "multiline",
    "should_request",
    "stop_sequences",
    "stream_cut",
]

TYPING_FACTOR = 0.6
"""Share of the typing interval waited before asking (tuned with bench/replay.py)."""
LATENCY_FACTOR = 0.05
MIN_DELAY = 0.04
MAX_DELAY = 0.3

_CLOSERS = frozenset(")]}>\"'`;,")
_OPENERS = (":", "{", "=>", " do", "\tdo")
_CONTINUATIONS = ("=", "(", "[", ",", "+", "-", "*", "/", "%", ".", "&", "|", "<", ">", "!", "~", "^")
_DASH_WORDS = frozenset({"css", "scss", "less", "html", "lisp", "clojure", "scheme", "racket"})
_DOLLAR_WORDS = frozenset({"php", "shellscript", "bash", "sh", "zsh", "perl", "powershell"})
_LONG_LINE = 1000


class TypingRhythm:
    """Adaptive debounce: per-document typing rhythm plus observed latency (see module doc)."""

    def __init__(
        self,
        *,
        alpha: float = 0.3,
        initial_interval: float = 0.15,
        initial_latency: float = 0.4,
        pause: float = 1.0,
        max_documents: int = 256,
    ):
        self._alpha = alpha
        self._initial = initial_interval
        self._pause = pause
        self._max_documents = max_documents
        self._latency = initial_latency
        self._docs: OrderedDict[str, tuple[float, float]] = OrderedDict()  # uri -> (last, ema)

    def keystroke(self, uri: str, now: float) -> None:
        """Record a keystroke (a content change) in `uri` at time `now` (seconds)."""
        last, ema = self._docs.pop(uri, (None, self._initial))
        if last is not None and 0 <= now - last <= self._pause:
            ema += self._alpha * ((now - last) - ema)
        self._docs[uri] = (now, ema)
        while len(self._docs) > self._max_documents:
            self._docs.popitem(last=False)

    def observe_latency(self, seconds: float) -> None:
        """Record the latency of a finished request (first token or whole answer)."""
        if seconds >= 0:
            self._latency += self._alpha * (seconds - self._latency)

    def interval(self, uri: str) -> float:
        """The averaged interval between keystrokes in `uri`."""
        return self._docs.get(uri, (0.0, self._initial))[1]

    @property
    def latency(self) -> float:
        """The averaged request latency."""
        return self._latency

    def delay(self, uri: str) -> float:
        """Seconds to wait after a keystroke before asking: clamp(0.6 I + 0.05 L, 40, 300 ms)."""
        value = TYPING_FACTOR * self.interval(uri) + LATENCY_FACTOR * self._latency
        return min(max(value, MIN_DELAY), MAX_DELAY)

    def wait(self, uri: str, now: float) -> float:
        """Seconds still to wait at `now`: the delay counted from the last keystroke in `uri`
        (the whole delay when none was seen)."""
        delay = self.delay(uri)
        last = self._docs.get(uri, (None, 0.0))[0]
        if last is None or now < last:
            return delay
        return max(0.0, delay - (now - last))

    def forget(self, uri: str) -> None:
        """Drop a closed document's rhythm."""
        self._docs.pop(uri, None)


def _is_word(char: str, language_id: str) -> bool:
    if char.isalnum() or char == "_":
        return True
    if char == "-":
        return language_id in _DASH_WORDS
    return char == "$" and language_id in _DOLLAR_WORDS


def should_request(
    line_before_cursor: str, line_rest: str, language_id: str = ""
) -> tuple[bool, str]:
    """Whether an automatic request is worth sending, and the reason (a short slug)."""
    language = language_id.lower()
    rest = line_rest.strip()
    if not line_before_cursor.strip() and rest and not set(rest) <= _CLOSERS:
        return False, "before-code"
    if line_rest and _is_word(line_rest[0], language):
        return False, "word-after-cursor"
    if len(line_before_cursor) > _LONG_LINE:
        return False, "long-line"
    return True, "ok"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def multiline(line_before_cursor: str, line_rest: str, next_line: str = "") -> bool:
    """Whether to ask for several lines (else one); see the module docstring."""
    if line_rest.strip():
        return False
    stripped = line_before_cursor.rstrip()
    if not stripped:
        return True
    if stripped.endswith(_OPENERS):
        body_exists = next_line.strip() and _indent(next_line) > _indent(line_before_cursor)
        return not body_exists
    # Mid-expression (after an operator, an open bracket or a comma) the line is what is
    # missing. At the end of anything else the answer usually starts with a line break, which
    # a one-line request (stop at "\n") would cut to nothing.
    return not stripped.endswith(_CONTINUATIONS)


def stop_sequences(is_multiline: bool, next_line: str = "") -> list[str]:
    """FIM stop strings (at most 16) for a single- or multi-line request."""
    if not is_multiline:
        return ["\n"]
    stops = ["\n\n\n"]
    following = next_line.rstrip("\r\n")
    if following.strip():
        stops.append("\n" + following)
    return stops


def stream_cut(
    text: str, line_before_cursor: str, next_line: str = "", final: bool = False
) -> int | None:
    """Where to end a multi-line answer streamed so far (an index into `text`), or None.

    Only complete lines are judged unless `final`. The block's indentation is the cursor
    line's (an empty line) or one more than it (after an opener); a line indented less ends
    the block, but a line of closing brackets at the opener's level is kept, unless it is the
    line that already follows the cursor. Cuts never keep trailing blank lines.
    """
    lines = text.split("\n")
    if not final:
        lines = lines[:-1]
    if not lines:
        return None
    opener = bool(line_before_cursor.strip())
    base = _indent(line_before_cursor) + (1 if opener else 0)
    following = next_line.strip()
    offset = len(lines[0])  # index of the line break that ends the current line
    previous = lines[0].strip()
    nested = False
    cut_blanks: int | None = None  # where a run of blank lines began
    for line in lines[1:]:
        start, offset = offset, offset + 1 + len(line)
        content = line.strip()
        if not content:
            cut_blanks = start if cut_blanks is None else cut_blanks
            continue
        cut = start if cut_blanks is None else cut_blanks
        indent = _indent(line)
        if following and content == following:
            return cut
        if indent < base:
            if opener and indent == base - 1 and set(content) <= _CLOSERS:
                return offset
            return cut
        if base == 0 and indent == 0 and nested and cut_blanks is not None:
            return cut  # a blank line, then a new top-level statement after a block
        if len(content) >= 4 and content == previous:
            return cut
        nested = nested or indent > base
        previous = content
        cut_blanks = None
    return None
