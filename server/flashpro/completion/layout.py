"""Cache-aware FIM prompt layout: a byte-stable head, a volatile window, a small suffix.

DeepSeek's disk cache hits only on a byte-identical token prefix starting at token 0, stored
in whole units (end of each input, common prefixes, ~128-token intervals). Everything that
can change between two keystrokes must therefore come *after* everything that cannot. The
prompt (the text before the hole) is laid out from most to least stable::

    extra snippets, in the order given, each "<c> path: <label>\n<text>\n"  ┐
    "<c> outline: <current file>\n" + the outline lines (when given)        │
    "<c> path: <current file>\n"        (only when the caller names it)      │ the head:
    top of the file: lines [0, T)        T a multiple of block_lines          │ byte-identical
    "<c> ...\n"                          (only when lines [T, W) are left out) │ while the cursor
    window: lines [W, K)                 W and K multiples of block_lines     ┘ stays in a block
    volatile: lines [K, cursor line) + the cursor line up to the cursor
    suffix (a separate field): rest of the cursor line + whole lines, <= suffix budget

``<c>`` is the line-comment opener of the document's language (``#``, ``//``, ``--``,
``<!--``...; ``#`` when unknown). K is the start of the cursor's block: ``cursor line -
cursor line % block_lines``. Typing inside a block changes only the volatile part; crossing
into the next block extends the head (the old head stays its prefix), and only a move of W
rewrites the window part of the head.

The *outline* is the current file's map (:mod:`flashpro.completion.outline`): every
definition's signature, top to bottom, including what lies below the cursor, so the names
the continuation needs are in the prompt even when their definitions are far outside the
window and the small suffix. The caller fits it to its own cap and keeps it byte-identical
while no definition changes; here it is one more piece of the head, after the snippets (other
files change less often while this one is edited) and before the file text it summarises.

Choosing T and W (all counts exact, via :class:`~flashpro.tokens.LineCounter`):

* ``prefix budget = budget - min(suffix_budget, budget // 2)``; the suffix gets the rest, so
  ``prompt_tokens + suffix_tokens <= budget`` always.
* Extra snippets are kept in order while they fit half the prefix budget; the first that does
  not fit ends the list (so a smaller budget keeps a prefix of the same list). The outline's
  tokens come off what is left for the file.
* If the whole file before the cursor fits, W = T = 0: the file part is contiguous.
* Otherwise T is the largest multiple of block_lines whose lines fit a quarter of what is left
  after the snippets (imports and top-level definitions), and W is the smallest multiple of
  block_lines >= T whose lines [W, K) fit the room left minus a *reserve* of
  ``max(volatile tokens, room // 8)``. The reserve makes W independent of typing inside a
  block until the block outgrows an eighth of the room. Without an anchor this is the
  tightest fit (the most context), a pure function of the text, and W moves about once per
  block crossed.
* Hysteresis: the caller should pass the previous layout's ``window_start`` for the same
  document as ``anchor`` (:data:`NO_ANCHOR` when there is none yet). The anchor is kept while
  lines [anchor, K) plus the reserve still fit and leave at most half the room unused, so
  moving into the next block only extends the head. When an anchored call must choose W
  afresh, it also leaves a *slack* of ``room // 4``: that is what lets the anchor survive
  several block crossings in a row (typing 300 lines into a 3,000-line file at 4,096 tokens
  rewrote the window twice, against 7 times in 10 block crossings without an anchor; the
  price is about 10% fewer prompt tokens on average).
* If the exact count of the assembled prompt still exceeds the budget (token joins across
  pieces, huge lines), W moves forward block by block (then line by line inside the cursor's
  block), then the top and the marker go, then snippets from the end, then the outline, then
  the file header, and as a last resort the cursor line is cut by characters from its start.

Known limit: the token at the end of the head can merge with the start of the volatile text
when the first volatile line is blank (``"\\n\\n"`` is one token); that costs the last few
tokens of the head, never more, since every earlier unit ends before it.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from flashpro.completion.context import FimContext
from flashpro.documents import Position, TextBuffer
from flashpro.tokens import LineCounter

__all__ = [
    "NO_ANCHOR",
    "Layout",
    "Snippet",
    "build_layout",
    "comment_style",
    "render_snippet",
    "shared_counter",
]

NO_ANCHOR = -1  # `anchor` for the first layout of a document when hysteresis is wanted

# Characters kept per budgeted token before exact counting (source runs ~4.3 chars/token).
_CHARS_PER_TOKEN_CAP = 6

_HASH = ("#", "")
_SLASH = ("//", "")
_DASH = ("--", "")
_HTML = ("<!--", " -->")
_BLOCK = ("/*", " */")

_STYLES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        "python shellscript bash sh zsh fish ruby perl r yaml toml dockerfile makefile "
        "powershell elixir julia nim coffeescript cmake terraform hcl nix tcl".split(),
        _HASH,
    ),
    **dict.fromkeys(
        "javascript javascriptreact typescript typescriptreact go rust c cpp csharp java kotlin "
        "scala swift dart php zig jsonc objective-c objective-cpp groovy proto vue svelte "
        "solidity cuda glsl hlsl verilog".split(),
        _SLASH,
    ),
    **dict.fromkeys("sql lua haskell elm ada purescript".split(), _DASH),
    **dict.fromkeys("html xml markdown svg".split(), _HTML),
    **dict.fromkeys("css".split(), _BLOCK),
    **dict.fromkeys("scss less".split(), _SLASH),
}

_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".sh": "bash", ".bash": "bash", ".zsh": "zsh",
    ".rb": "ruby", ".pl": "perl", ".r": "r", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascriptreact",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "typescriptreact",
    ".go": "go", ".rs": "rust", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp",
    ".cs": "csharp", ".java": "java", ".kt": "kotlin", ".scala": "scala", ".swift": "swift",
    ".dart": "dart", ".php": "php", ".zig": "zig", ".sql": "sql", ".lua": "lua", ".hs": "haskell",
    ".html": "html", ".xml": "xml", ".md": "markdown", ".css": "css", ".scss": "scss",
    ".less": "less", ".vue": "vue", ".svelte": "svelte", ".ex": "elixir", ".exs": "elixir",
    ".jl": "julia", ".tf": "terraform", ".nix": "nix", ".proto": "proto", ".sol": "solidity",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Snippet:
    """Extra context from another file: where it comes from, how it is labelled, its text."""

    uri: str
    label: str
    text: str
    lines: tuple[tuple[int, int], ...] = ()  # (first, last) document lines of the text, 0-based


@dataclass(frozen=True, slots=True)
class Layout:
    """A laid-out FIM context plus what the cache sees: the stable head and its hash."""

    context: FimContext
    head_chars: int  # length of the stable head: context.prompt[:head_chars]
    head_hash: str  # blake2b-64 of the head, hex; equal hashes mean a byte-identical head
    window_start: int  # W: pass it back as `anchor` for the next layout of the same document
    top_lines: int  # T: the prompt holds the file's lines [0, T), then (maybe) a gap
    snippets: int  # how many of the given extra snippets were kept
    # (start, end, first document line) of each run of file text in the prompt
    file_runs: tuple[tuple[int, int, int], ...] = ()
    # (file, first, last line, 0-based) sent: filled in by `guard.guard_layout`, for the ledger
    sent: tuple[tuple[str, int, int], ...] = ()

    @property
    def head(self) -> str:
        """The stable head of the prompt."""
        return self.context.prompt[: self.head_chars]

    def line_at(self, index: int) -> int | None:
        """The document line of prompt character `index`; None inside snippets and markers."""
        for start, end, line in self.file_runs:
            if start <= index < end or (index == end and end == len(self.context.prompt)):
                return line + self.context.prompt.count("\n", start, index)
        return None


@functools.lru_cache(maxsize=1)
def shared_counter() -> LineCounter:
    """The process-wide line counter used when the caller passes none."""
    return LineCounter()


def comment_style(language_id: str = "", path: str = "") -> tuple[str, str]:
    """(opener, closer) of a one-line comment for a language id, else for a file name."""
    style = _STYLES.get(language_id.lower())
    if style is None and path:
        language = _EXTENSIONS.get(posixpath.splitext(path.lower())[1], "")
        style = _STYLES.get(language)
    return style or _HASH


def _header(style: tuple[str, str], label: str) -> str:
    clean = " ".join(label.split())
    return f"{style[0]} path: {clean}{style[1]}\n"


def _outline_header(style: tuple[str, str], label: str) -> str:
    clean = " ".join(label.split())
    return f"{style[0]} outline: {clean}{style[1]}\n" if clean else f"{style[0]} outline{style[1]}\n"


def render_snippet(snippet: Snippet, style: tuple[str, str]) -> str:
    """A snippet as it appears in the prompt: a path header, the text, a final newline."""
    text = snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"
    return _header(style, snippet.label) + text


def _fit_extras(
    extra: Sequence[Snippet], style: tuple[str, str], cap: int, counter: LineCounter
) -> tuple[list[str], int]:
    """Rendered snippets, in order, up to the first one that would overflow `cap` tokens.

    Each rendered snippet ends with a line break and the next starts with a non-blank header,
    so the pieces are separate pre-tokenizer runs and their counts add up exactly.
    """
    rendered: list[str] = []
    used = 0
    for snippet in extra:
        text = render_snippet(snippet, style)
        tokens = counter.count_lines([text])
        if used + tokens > cap:
            break
        rendered.append(text)
        used += tokens
    return rendered, used


def _walk_back(
    buffer: TextBuffer, counter: LineCounter, end: int, floor: int, step: int, limit: int
) -> int:
    """Smallest W in steps of `step` from `end` down to `floor` whose lines [W, end) fit."""
    start, used = end, 0
    while start - step >= floor:
        tokens = counter.count_lines(buffer.lines(start - step, start))
        if used + tokens > limit:
            break
        used += tokens
        start -= step
    return start


def _top(
    buffer: TextBuffer, counter: LineCounter, step: int, limit: int, end: int
) -> tuple[int, int]:
    """Largest T (a multiple of `step`, <= `end`) whose lines [0, T) fit `limit`; their tokens."""
    top, used = 0, 0
    while top + step <= end:
        tokens = counter.count_lines(buffer.lines(top, top + step))
        if used + tokens > limit:
            break
        used += tokens
        top += step
    return top, used


def _span_tokens(
    buffer: TextBuffer, counter: LineCounter, start: int, end: int, step: int, limit: int
) -> int:
    """Tokens of lines [start, end) summed per block; stops early once over `limit`."""
    used = 0
    for block in range(start, end, step):
        used += counter.count_lines(buffer.lines(block, min(block + step, end)))
        if used > limit:
            break
    return used


def _cut_start(text: str, budget: int, counter: LineCounter) -> tuple[str, int]:
    """The longest end of `text` (cut by characters) that fits `budget` tokens."""
    low, high = 0, min(len(text), max(budget, 0) * _CHARS_PER_TOKEN_CAP)
    while low < high:
        middle = (low + high + 1) // 2
        if counter.count_lines([text[len(text) - middle :]]) <= budget:
            low = middle
        else:
            high = middle - 1
    kept = text[len(text) - low :]
    return kept, counter.count_lines([kept])


def _cut_end(text: str, budget: int, counter: LineCounter) -> tuple[str, int]:
    """The longest start of `text` (cut by characters) that fits `budget` tokens."""
    low, high = 0, min(len(text), max(budget, 0) * _CHARS_PER_TOKEN_CAP)
    while low < high:
        middle = (low + high + 1) // 2
        if counter.count_lines([text[:middle]]) <= budget:
            low = middle
        else:
            high = middle - 1
    kept = text[:low]
    return kept, counter.count_lines([kept])


def _suffix(
    buffer: TextBuffer, line: int, tail: str, budget: int, counter: LineCounter
) -> tuple[str, int]:
    """The rest of the cursor line and the whole lines after it that fit `budget` tokens."""
    if budget <= 0 or not tail:
        return "", 0
    tail = tail[: budget * _CHARS_PER_TOKEN_CAP]
    pieces = [tail]
    used = counter.count_lines(pieces)
    if used > budget:
        return _cut_end(tail, budget, counter)
    following = line + 1
    while following < buffer.line_count:
        text = buffer.line(following)
        tokens = counter.count_lines([text])
        if used + tokens > budget:
            break
        pieces.append(text)
        used += tokens
        following += 1
    exact = counter.count_lines(pieces)
    while exact > budget and len(pieces) > 1:
        pieces.pop()
        exact = counter.count_lines(pieces)
    return "".join(pieces), exact


def _choose_window(
    buffer: TextBuffer,
    counter: LineCounter,
    step: int,
    block: int,
    avail: int,
    marker_tokens: int,
    volatile: int,
    anchor: int | None,
) -> tuple[int, int]:
    """(W, T) for the file part before the cursor's block; see the module docstring."""
    if _walk_back(buffer, counter, block, 0, step, avail - volatile) == 0:
        return 0, 0
    top, top_tokens = _top(buffer, counter, step, avail // 4, block)
    room = avail - top_tokens - marker_tokens
    reserve = max(volatile, room // 8)
    if anchor is not None and anchor % step == 0 and top <= anchor <= block:
        used = _span_tokens(buffer, counter, anchor, block, step, room - reserve)
        if used + reserve <= room and room - reserve - used <= room // 2:
            return anchor, top
    slack = 0 if anchor is None else room // 4
    return _walk_back(buffer, counter, block, top, step, room - reserve - slack), top


def build_layout(
    buffer: TextBuffer,
    cursor: Position,
    budget: int,
    suffix_budget: int,
    extra: Sequence[Snippet] = (),
    counter: LineCounter | None = None,
    block_lines: int = 32,
    *,
    anchor: int | None = None,
    language_id: str = "",
    label: str | None = None,
    outline: Sequence[str] = (),
) -> Layout:
    """Lay out the FIM context for `cursor` (see the module docstring) within `budget` tokens.

    `label` names the current file (relative path) in a header line; `language_id` picks the
    comment style (else `label`'s extension); `anchor` is the previous layout's window_start;
    `outline` is the current file's map (lines ending with a line break), shown after the
    snippets under its own header.
    """
    if block_lines < 1:
        raise ValueError("block_lines must be at least 1")
    counter = counter or shared_counter()
    step = block_lines
    budget = max(budget, 0)
    suffix_budget = max(0, min(suffix_budget, budget // 2))
    prefix_budget = budget - suffix_budget
    style = comment_style(language_id, label or "")

    line = min(max(cursor.line, 0), buffer.line_count - 1)
    current = buffer.line(line)
    column = min(max(cursor.column, 0), len(buffer.line_content(line)))
    line_head, tail = current[:column], current[column:]
    cap_chars = prefix_budget * _CHARS_PER_TOKEN_CAP
    if len(line_head) > cap_chars:
        line_head = line_head[len(line_head) - cap_chars :]

    rendered, extra_tokens = _fit_extras(extra, style, prefix_budget // 2, counter)
    mapped = [_outline_header(style, label or ""), *outline] if outline else []
    header = _header(style, label) if label else ""
    marker = f"{style[0]} ...{style[1]}\n"
    avail = prefix_budget - extra_tokens - (counter.count_lines([header]) if header else 0)
    avail -= counter.count_lines(mapped) if mapped else 0
    block = line - line % step
    volatile = counter.count_lines([*buffer.lines(block, line), line_head])
    window, top = _choose_window(
        buffer, counter, step, block, avail, counter.count_lines([marker]), volatile, anchor
    )
    keep_marker = True

    def assemble() -> tuple[list[str], list[str]]:
        gap = [marker] if keep_marker and window > top else []
        head = [*rendered, *mapped, *([header] if header else []), *buffer.lines(0, top), *gap]
        head += buffer.lines(window, max(window, block))
        return head, [*buffer.lines(max(window, block), line), line_head]

    head, volatile_pieces = assemble()
    used = counter.count_lines(head + volatile_pieces)
    while used > prefix_budget:
        if window < line:
            window = window + step if window + step <= block else max(window, block) + 1
        elif top > 0 or keep_marker:
            top, keep_marker = 0, False
        elif rendered:
            rendered.pop()
        elif mapped:
            mapped = []
        elif header:
            header = ""
        else:
            line_head, used = _cut_start(line_head, prefix_budget, counter)
            head, volatile_pieces = [], [line_head]
            break
        head, volatile_pieces = assemble()
        used = counter.count_lines(head + volatile_pieces)

    head_text = "".join(head)
    prompt = head_text + "".join(volatile_pieces)
    suffix, suffix_tokens = _suffix(buffer, line, tail, suffix_budget, counter)
    file_start = sum(map(len, rendered)) + sum(map(len, mapped)) + len(header)
    top_chars = sum(map(len, buffer.lines(0, top)))
    gap_chars = len(marker) if keep_marker and window > top else 0
    runs = _file_runs(prompt, file_start, top_chars, gap_chars, window)
    context = FimContext(
        prompt=prompt,
        suffix=suffix,
        prompt_tokens=used,
        suffix_tokens=suffix_tokens,
        line_rest=tail.rstrip("\r\n"),
    )
    digest = hashlib.blake2b(head_text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return Layout(context, len(head_text), digest, window, top, len(rendered), runs)


def _file_runs(
    prompt: str, start: int, top_chars: int, gap_chars: int, window: int
) -> tuple[tuple[int, int, int], ...]:
    """(start, end, first document line) of the file text runs: the top, then the window."""
    runs: list[tuple[int, int, int]] = []
    if top_chars:
        runs.append((start, start + top_chars, 0))
    window_start = start + top_chars + gap_chars
    if window_start < len(prompt) or not runs:
        runs.append((window_start, len(prompt), window))
    return tuple(runs)
