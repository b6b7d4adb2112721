"""The FIM context handed to the provider: prompt (text before the hole), suffix, token counts.

`layout.build_layout` produces it; nothing else in the completion path depends on how.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FimContext"]


@dataclass(frozen=True, slots=True)
class FimContext:
    """The prompt (text before the hole), the suffix (text after), and their token counts."""

    prompt: str
    suffix: str
    prompt_tokens: int
    suffix_tokens: int
    line_rest: str

    @property
    def tokens(self) -> int:
        """Tokens of prompt and suffix together."""
        return self.prompt_tokens + self.suffix_tokens
