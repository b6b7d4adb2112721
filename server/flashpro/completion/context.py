"""First-version FIM context: the text before the cursor and after it, cut to a token budget.

Replaceable by design: `build_context` is the single entry point the completion service uses,
and a cache-aware builder can take its place without touching callers.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashpro.documents import Position, TextBuffer
from flashpro.tokens import count

__all__ = ["FimContext", "build_context"]

# Characters gathered per budgeted token before exact counting (source runs ~4.3 chars/token).
_CHARS_PER_TOKEN_CAP = 6


@dataclass(frozen=True, slots=True)
class FimContext:
    """The prompt (text before the hole), the suffix (text after), and their token counts."""

    prompt: str
    suffix: str
    prompt_tokens: int
    suffix_tokens: int
    line_rest: str
    first_line: int = 0  # the document line at which `prompt` starts

    @property
    def tokens(self) -> int:
        """Tokens of prompt and suffix together."""
        return self.prompt_tokens + self.suffix_tokens


def _fit(pieces: list[str], budget: int, from_end: bool) -> tuple[str, int]:
    """Keep the most pieces (nearest the cursor) whose joined text fits `budget` tokens.

    `from_end` means the cursor is at the end (the prompt): pieces are dropped from the front.
    A binary search over how many pieces to keep needs O(log n) exact counts.
    """
    def window(keep: int) -> str:
        return "".join(pieces[len(pieces) - keep :] if from_end else pieces[:keep])

    text = window(len(pieces))
    tokens = count(text)
    if tokens <= budget:
        return text, tokens
    low, high = 0, len(pieces) - 1  # `low` pieces always fit (0 pieces = empty text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(window(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0 and pieces:
        return _fit_chars(pieces[-1] if from_end else pieces[0], budget, from_end)
    text = window(low)
    return text, count(text)


def _fit_chars(piece: str, budget: int, from_end: bool) -> tuple[str, int]:
    """Cut one over-long line (minified code) by characters to fit `budget` tokens."""
    piece = piece[-budget * _CHARS_PER_TOKEN_CAP :] if from_end else piece[: budget * _CHARS_PER_TOKEN_CAP]
    low, high = 0, len(piece)
    while low < high:
        middle = (low + high + 1) // 2
        if count(piece[len(piece) - middle :] if from_end else piece[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    text = piece[len(piece) - low :] if from_end else piece[:low]
    return text, count(text)


def build_context(buffer: TextBuffer, cursor: Position, budget: int, suffix_budget: int) -> FimContext:
    """Text before and after `cursor`, each cut at line boundaries to fit the token budget."""
    suffix_budget = min(suffix_budget, budget // 2)
    prefix_budget = budget - suffix_budget
    current = buffer.line(cursor.line)
    head = current[: cursor.column]
    tail = current[cursor.column :]

    before: list[str] = []
    chars = len(head)
    line = cursor.line - 1
    cap = prefix_budget * _CHARS_PER_TOKEN_CAP
    while line >= 0 and chars < cap:
        text = buffer.line(line)
        before.append(text)
        chars += len(text)
        line -= 1
    before.reverse()
    prompt_pieces = [*before, head]
    prompt, prompt_tokens = _fit(prompt_pieces, prefix_budget, from_end=True)

    after: list[str] = [tail]
    chars = len(tail)
    line = cursor.line + 1
    cap = suffix_budget * _CHARS_PER_TOKEN_CAP
    while line < buffer.line_count and chars < cap:
        text = buffer.line(line)
        after.append(text)
        chars += len(text)
        line += 1
    suffix, suffix_tokens = _fit(after, suffix_budget, from_end=False)
    line_rest = tail.rstrip("\r\n")
    first_line = cursor.line - prompt.count("\n")
    return FimContext(prompt, suffix, prompt_tokens, suffix_tokens, line_rest, first_line)
