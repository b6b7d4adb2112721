"""Deterministic mixed-text corpus for the tokenizer exactness tests and the benchmark.

Owns collecting source files already on the machine (the running interpreter's stdlib,
installed packages, npm's JavaScript and Markdown, docs under /usr/share/doc) and generating
text for the cases real files rarely hit: TypeScript and Go, non-ASCII comments, CJK, long
and non-ASCII digit runs, odd whitespace (tabs, trailing spaces, CR, CRLF, blank-line runs,
NBSP, U+2028), emoji sequences, control and format characters, and random strings over an
alphabet of awkward characters. Paths are sorted and every random choice is seeded, so the
corpus is the same on every run on a given machine; generated text tops the corpus up to the
requested size where fewer files are found.
"""

from __future__ import annotations

import random
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["Chunk", "corpus", "fuzz_text", "generated_sources", "tricky_snippets"]

Chunk = tuple[str, str]  # (label naming where the text came from, text)

CHUNK_CHARS = 16_000

_WORDS_EN = (
    "the quick brown fox jumps over lazy dog value index buffer token count window cache "
    "request response error handler server client document line column range offset"
).split()
_COMMENTS = (
    "Berechne die Größe des Puffers für übergroße Eingaben",
    "Évite les accès concurrents à la file d'attente, ça coûte cher",
    "Проверяем, что индекс не выходит за границы массива",
    "Ελέγχουμε την κωδικοποίηση των χαρακτήρων",
    "تحقق من صحة المدخلات قبل المعالجة",
    "इनपुट की जाँच करें और त्रुटि लौटाएँ",
    "ตรวจสอบความถูกต้องของข้อมูล",
    "计算缓冲区大小，避免溢出。注意：这里的索引从零开始",
    "キャッシュ・サイズを計算する（テスト・データ用）",
    "ひらがなとカタカナが混ざったコメントです゛゜ゝゞ",
    "버퍼 크기를 계산하고 오류를 반환합니다",
    "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ　と　全角スペース",
    "naïve café résumé coöperate façade Ångström",
    "emoji 🚀🔥 ok 👍🏽 family 👨‍👩‍👧‍👦 flag 🇯🇵🇺🇸 keycap 1️⃣ heart ❤️",
)
_DIGITS = (
    "12345678901234567890",
    "3.14159265358979323846",
    "0x7fffffff 0b1010_1010 1_000_000 1e-10 6.02e23",
    "٠١٢٣٤٥٦٧٨٩ ١٢٣٤",
    "１２３４５６７ 全角数字",
    "² ³ ½ ¾ ⅓ Ⅻ ⅷ ① ⑳ ⒈",
    "价格为 1000 元，共 25 件，合计25000元",
    "v1.2.3-rc.4+build.5678 2024-01-31T23:59:59Z",
)
_TRICKY = (
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\n\n\n",
    "\x0b",
    "\x0c",
    "\x85",
    "\xa0",
    "\u2028",
    "\u2029",
    "\u3000",
    "\u1680",
    "\u202f",
    "\x1c",
    "\x1f",
    "\x00",
    "\x1b",
    "\x7f",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u0600",
    "\ue000",
    "\U000f0000",
    "a",
    "Z",
    "word",
    "é",
    "e\u0301",
    "\u0301",
    "\u0300\u0301",
    "ǅ",
    "ß",
    "Ω",
    "1",
    "42",
    "12345",
    "٣",
    "½",
    "²",
    "Ⅻ",
    "中",
    "中文",
    "あ",
    "カタカナ",
    "・",
    "゛",
    "\u3099",
    "\u3040",
    "\u3097",
    "ヿ",
    "゠",
    "龥",
    "龦",
    "한국",
    "!",
    ".",
    "#",
    "_",
    "$",
    "(",
    ")",
    '"',
    "'",
    "\\",
    "/",
    "->",
    "::",
    "...",
    "，",
    "。",
    "「",
    "」",
    "€",
    "→",
    "😀",
    "🏽",
    "👍🏽",
    "🇯🇵",
    "ـ",
    "،",
    "<",
    ">",
    "<|",
    "|>",
)


def _stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _purelib_dir() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _files(
    roots: list[Path], suffixes: tuple[str, ...], exclude: tuple[str, ...] = ()
) -> list[Path]:
    found: set[Path] = set()
    for root in roots:
        if root.is_dir():
            for suffix in suffixes:
                found.update(p for p in root.rglob(f"*{suffix}") if p.is_file())
    return sorted(p for p in found if not any(part in exclude for part in p.parts))


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > 400_000:
        data = data[:400_000]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _take(paths: list[Path], budget: int, stride: int) -> Iterator[tuple[str, str]]:
    """Files from `paths` (every `stride`-th first, then the rest) until `budget` chars."""
    order = paths[::stride] + [p for i, p in enumerate(paths) if i % stride]
    used = 0
    for path in order:
        if used >= budget:
            return
        text = _read(path)
        if not text:
            continue
        text = text[: budget - used]
        used += len(text)
        yield str(path), text


def _mangle(index: int, text: str) -> str:
    """Vary line endings and whitespace deterministically for some files."""
    kind = index % 7
    if kind == 1:
        return text.replace("\n", "\r\n")
    if kind == 3:
        return text.replace("    ", "\t")
    if kind == 5:
        return "\n".join(line + " " * (i % 4) for i, line in enumerate(text.split("\n")))
    return text


def disk_sources(budget: int) -> Iterator[tuple[str, str]]:
    """Text files already on this machine, up to about `budget` characters."""
    node = Path("/usr/lib/node_modules")
    doc = Path("/usr/share/doc")
    plans: list[tuple[list[Path], float, int]] = [
        (_files([_stdlib_dir()], (".py",), ("site-packages",)), 0.45, 17),
        (_files([_purelib_dir()], (".py",)), 0.15, 23),
        (_files([node, _purelib_dir()], (".js", ".ts", ".mjs")), 0.12, 11),
        (_files([node, doc, _purelib_dir()], (".md", ".markdown", ".rst")), 0.2, 5),
        (_files([doc, Path("/usr/lib/go"), Path("/usr/local/go")], (".go",)), 0.08, 1),
    ]
    index = 0
    for paths, share, stride in plans:
        for label, text in _take(paths, int(budget * share), stride):
            yield label, _mangle(index, text)
            index += 1


def _ident(rng: random.Random) -> str:
    parts = rng.sample(_WORDS_EN, rng.randint(1, 3))
    style = rng.randrange(3)
    if style == 0:
        return "_".join(parts)
    if style == 1:
        return parts[0] + "".join(p.title() for p in parts[1:])
    return "".join(p.title() for p in parts)


def _typescript(rng: random.Random) -> str:
    name, field, other = _ident(rng), _ident(rng), _ident(rng)
    comment = rng.choice(_COMMENTS)
    num = rng.choice(_DIGITS).split()[0]
    return (
        f"// {comment}\n"
        f"export interface {name.title()}<T extends object = {{}}> {{\n"
        f"  readonly {field}: Map<string, T[]>;\n  {other}?: number | null; // {num}\n}}\n\n"
        f"export async function {field}(input: {name.title()}<unknown>, n = {num}): "
        f"Promise<void> {{\n\tconst msg = `value ${{input.{field}.size}} of ${{n}}`;\n"
        f'\tif (!input) throw new Error("missing {other}");\n'
        f"\tfor (let i = 0; i < {rng.randint(1, 99999)}; i++) {{ await sleep(i * 2); }}\n"
        f"  return void console.log(msg ?? '{comment[:12]}');  \n}}\n\n"
    )


def _go(rng: random.Random) -> str:
    name, field = _ident(rng).title(), _ident(rng)
    return (
        f"// {name} {rng.choice(_COMMENTS)}\ntype {name} struct {{\n\t{field.title()} int"
        f'    `json:"{field}"`\n\tmu sync.Mutex\n}}\n\n'
        f"func (x *{name}) Get(n int) (int, error) {{\n"
        f"\tx.mu.Lock()\n\tdefer x.mu.Unlock()\n\tif n > {rng.randint(0, 10**9)} {{\n"
        f'\t\treturn 0, fmt.Errorf("%d too big: %w", n, errTooBig)\n\t}}\n'
        f"\treturn x.{field.title()} + n, nil\n}}\n\n"
    )


def _prose(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(2, 6)):
        words = [rng.choice(_WORDS_EN) for _ in range(rng.randint(3, 12))]
        words.insert(rng.randrange(len(words)), rng.choice(_COMMENTS))
        words.insert(rng.randrange(len(words)), rng.choice(_DIGITS))
        lines.append(" ".join(words))
    heading = "#" * rng.randint(1, 3)
    return f"{heading} {rng.choice(_COMMENTS)}\n\n" + "\n".join(lines) + "\n\n"


def _whitespace(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randint(5, 15)):
        ws = rng.choice(
            [
                " ",
                "  ",
                "   ",
                "\t",
                " \t",
                "\n",
                "\r\n",
                "\n\n\n\n",
                "\r",
                "\u3000",
                "\xa0",
                "\n   \n",
                "\t\n",
                "    ",
            ]
        )
        item = rng.choice(
            [
                "x",
                "42",
                "1234567",
                "中文",
                "・",
                "、",
                "😀",
                "(",
                "# note",
                "def f():",
                "return 0",
                "\u200d",
                "\x00",
                "ー",
                "٣٤",
            ]
        )
        pieces.append(ws * rng.randint(1, 3) + item)
    return "".join(pieces) + rng.choice(["", "\n", " ", "  \n", "\r\n\r\n"])


_GENERATORS: tuple[tuple[str, Callable[[random.Random], str]], ...] = (
    ("typescript", _typescript),
    ("go", _go),
    ("prose", _prose),
    ("whitespace", _whitespace),
)


def fuzz_text(rng: random.Random, pieces: int) -> str:
    """Random concatenation of awkward characters and short runs of them."""
    out = []
    for _ in range(pieces):
        item = rng.choice(_TRICKY)
        out.append(item * rng.choice((1, 1, 1, 2, 3, 5)))
    return "".join(out)


def tricky_snippets() -> list[str]:
    """Hand-written cases around the places where folding the pre-tokenizer needs care."""
    return [
        "x   123",
        "x   中文",
        "x \t 12",
        "x\n   12",
        "   ",
        "\n\n",
        " 中",
        "  中文  ",
        "テスト・データ",
        "゛あ",
        "\u3099あ",
        "\u3040あ",
        "\u3040\u3040",
        "ア\u3099",
        "あ 1",
        "a\u200d\u200db",
        "\x00\x00ab",
        "  \x00\x00ab",
        "a\u200d中",
        "a\u200d1",
        "\u200d ",
        "👨‍👩‍👧",
        "1️⃣",
        "x\u00a0\u3000y",
        "x \x85y",
        "a\u2028b",
        "a \u2028 b",
        "x\x1c y",
        "1234567890",
        "1 2 3",
        "  1",
        "\t1",
        "\r\n1",
        "a1b2c3",
        "١٢٣٤",
        "x１２３４",
        ";\n\nfoo",
        ";\r\n  foo",
        "x  \r\n\r\n   y",
        "if x:\n\tpass\n\t\n",
        "end  ",
        "<｜fim▁begin｜>",
        "a<think>b</think>",
        "｜DSML｜",
        "<|EOT|>",
    ]


def generated_sources(budget: int, seed: int = 1234) -> Iterator[tuple[str, str]]:
    """Generated text, about `budget` characters, in chunks of roughly CHUNK_CHARS."""
    rng = random.Random(seed)
    for i, snippet in enumerate(tricky_snippets()):
        yield f"tricky[{i}]", snippet
    used = 0
    index = 0
    while used < budget:
        name, make = _GENERATORS[index % len(_GENERATORS)]
        parts: list[str] = []
        size = 0
        while size < CHUNK_CHARS // 2:
            part = make(rng)
            parts.append(part)
            size += len(part)
        if index % 3 == 0:
            parts.append(fuzz_text(rng, 400))
        text = "".join(parts)
        yield f"generated:{name}[{index}]", text
        used += len(text)
        index += 1


def _split(label: str, text: str) -> Iterator[Chunk]:
    if len(text) <= CHUNK_CHARS:
        yield label, text
        return
    start = 0
    part = 0
    while start < len(text):
        end = text.find("\n", start + CHUNK_CHARS)
        end = len(text) if end < 0 else end + 1
        yield f"{label}#{part}", text[start:end]
        start = end
        part += 1


def corpus(min_bytes: int = 2_200_000, generated_share: float = 0.25) -> list[Chunk]:
    """The mixed corpus: at least `min_bytes` UTF-8 bytes, as labelled chunks."""
    chunks: list[Chunk] = []
    total = 0
    disk_budget = int(min_bytes * (1 - generated_share))
    for label, text in disk_sources(disk_budget):
        for chunk in _split(label, text):
            chunks.append(chunk)
            total += len(chunk[1].encode("utf-8"))
    seed = 1234
    while total < min_bytes:
        for chunk in generated_sources(max(min_bytes - total, 100_000), seed=seed):
            chunks.append(chunk)
            total += len(chunk[1].encode("utf-8"))
        seed += 1
    return chunks
