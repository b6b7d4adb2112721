"""Replay scenarios for bench/replay.py: blocks cut from real source files, the keystrokes that
type them back, the human timing of those keystrokes, and the fake model that answers FIM calls.

Everything here is deterministic for a given seed:

* a scenario is a function body of `min_lines`..`max_lines` lines taken from the middle of a real
  Python file of >= 300 lines (the file lists are fixed: `CORPORA`, "small" by default, "large"
  for class-heavy modules of 1,300-3,300 lines; which body is chosen comes from a seeded RNG);
  `large_scenario` builds a 10,000-line file by concatenating real stdlib modules;
* the document the editor opens is the file with the block removed; the cursor sits where the
  block began (after its first line's indentation) and the user types the block back;
* a key types one character, except Enter, which also inserts the next line's indentation (as an
  editor's auto-indent does);
* the time before each key depends only on (seed, scenario, position in the block), so every
  strategy meets the same gaps at the same places;
* the fake model's answer depends only on (seed, scenario, cursor position): the true
  continuation with probability `p_right`, else a real line from elsewhere in the file; when
  grounded (the default), the project names the true continuation needs and the request does not
  show come out wrong (`replay_names`).
"""

from __future__ import annotations

import ast
import bisect
import random
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.replay_names import known_names, mangle, needed_names, visible_names

__all__ = [
    "CORPORA",
    "DEFAULT_FILES",
    "LARGE_FILES",
    "FakeModel",
    "Scenario",
    "Timing",
    "accept_length",
    "default_scenarios",
    "large_scenario",
]

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Real modules of >= 300 lines, in the order scenarios are taken from them.
DEFAULT_FILES = ("textwrap.py", "shlex.py", "heapq.py", "fractions.py", "calendar.py", "statistics.py")
# Large, class-heavy modules (1,300-3,300 lines): the names a block needs are often defined far
# from it (other methods' attributes, module constants, helpers below). `--corpus large`.
LARGE_MODULES = (
    "argparse.py", "configparser.py", "difflib.py", "inspect.py", "logging/__init__.py", "tarfile.py",
    "pathlib.py", "enum.py", "threading.py", "subprocess.py", "dataclasses.py", "ast.py",
)
CORPORA = {"small": DEFAULT_FILES, "large": LARGE_MODULES}
# Concatenated (in this order, cut at 10,000 lines) for --large.
LARGE_FILES = (
    "argparse.py", "difflib.py", "statistics.py", "configparser.py", "dataclasses.py",
    "calendar.py", "fractions.py", "textwrap.py", "heapq.py", "shlex.py", "pprint.py", "ast.py",
)
LARGE_LINES = 10_000


@dataclass(frozen=True)
class Timing:
    """Human typing: `key_s` per key (+-`jitter` of it), `pause_s` (+-25%) at each line end
    (before Enter; `pause_at="line-start"`: after Enter and the indentation instead)."""

    key_s: float = 0.060
    jitter: float = 0.4
    pause_s: float = 0.400
    pause_at: str = "line-end"


@dataclass
class Scenario:
    """A file with one block removed; typing the block back restores the file."""

    name: str
    uri: str
    original: str
    start: int  # offset of the block in `original`
    end: int  # offset just after it (the block never includes the final line break)
    source: str = ""
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.original.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_starts = starts

    @property
    def block(self) -> str:
        return self.original[self.start : self.end]

    @property
    def initial_text(self) -> str:
        """What the editor opens: the file without the block."""
        return self.original[: self.start] + self.original[self.end :]

    @property
    def after(self) -> str:
        """The text after the cursor, whatever has been typed (it never changes)."""
        return self.original[self.end :]

    def before(self, k: int) -> str:
        """The text before the cursor once `k` characters of the block are typed."""
        return self.original[: self.start + k]

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset) - 1

    def position(self, k: int) -> tuple[int, int]:
        """(line, UTF-16 column) of the cursor after `k` typed characters (the document's text
        before the cursor is the original's, so positions are the original's)."""
        offset = self.start + k
        line = self.line_of(offset)
        head = self.original[self._line_starts[line] : offset]
        return line, len(head.encode("utf-16-le")) // 2

    def line_start(self, line: int) -> int:
        return self._line_starts[line]

    def key_at(self, k: int) -> str:
        """The text one keystroke types at block position `k` (Enter brings the indentation)."""
        block = self.block
        char = block[k]
        if char != "\n":
            return char
        j = k + 1
        while j < len(block) and block[j] in " \t":
            j += 1
        return block[k:j]

    def gap(self, k: int, seed: int, timing: Timing) -> float:
        """Seconds the user takes before the action at block position `k`."""
        rng = random.Random(f"{seed}|{self.name}|gap|{k}")
        if k == 0 or self.pauses_at(k, timing.pause_at):
            return timing.pause_s * (0.75 + 0.5 * rng.random())
        return timing.key_s * (1.0 + timing.jitter * (2.0 * rng.random() - 1.0))

    def pauses_at(self, k: int, where: str) -> bool:
        """Whether the user pauses before the action at block position `k`."""
        block = self.block
        if where == "line-start":
            last = block.rfind("\n", 0, k)
            return last >= 0 and not block[last + 1 : k].strip() and block[k] not in " \t\n"
        return block[k] == "\n"

    @property
    def keystrokes_needed(self) -> int:
        """Keys to type the whole block with no help."""
        k = n = 0
        while k < len(self.block):
            k += len(self.key_at(k))
            n += 1
        return n


def accept_length(text: str, remaining: str) -> int:
    """How many characters of a suggestion the simulated user accepts (0: none).

    The whole suggestion when it is a prefix of (or equal to) what is left to type; else its
    first line when that is exactly the rest of the current line (a partial accept).
    """
    if not text or not text.strip():
        return 0
    if remaining.startswith(text):
        return len(text)
    first = text.split("\n", 1)[0]
    rest_of_line = remaining.split("\n", 1)[0]
    if first.strip() and first == rest_of_line:
        return len(first)
    return 0


# -- choosing blocks ----------------------------------------------------------------------------


def _bodies(source: str) -> list[tuple[int, int]]:
    """(first line, last line), 1-based, of every function body (docstring left in place)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.end_lineno is None:
            continue
        body = node.body
        if (
            len(body) > 1
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        first = body[0].lineno
        if first <= node.lineno or body[0].col_offset == 0:
            continue
        found.append((first, node.end_lineno))
    return sorted(found)


def _pick_block(
    source: str, rng: random.Random, min_lines: int, max_lines: int, max_chars: int,
    lo_frac: float = 0.25, hi_frac: float = 0.75,
) -> tuple[int, int] | None:
    """Offsets (start, end) of a chosen function body in `source`, or None."""
    lines = source.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    candidates = []
    for first, last in _bodies(source):
        n = last - first + 1
        if not (min_lines <= n <= max_lines):
            continue
        if not (lo_frac * len(lines) <= first <= hi_frac * len(lines)):
            continue
        text = lines[first - 1]
        start = starts[first - 1] + len(text) - len(text.lstrip(" \t"))
        end = starts[last - 1] + len(lines[last - 1])
        if end - start > max_chars or not source[start:end].strip():
            continue
        candidates.append((start, end))
    return rng.choice(candidates) if candidates else None


def default_scenarios(
    count: int,
    seed: int,
    *,
    min_lines: int = 5,
    max_lines: int = 25,
    max_chars: int = 600,
    files: tuple[str, ...] = DEFAULT_FILES,
) -> list[Scenario]:
    """`count` scenarios, one per file of `files` in order (files with no fitting body are
    skipped)."""
    out: list[Scenario] = []
    for name in files:
        if len(out) >= count:
            break
        path = STDLIB / name
        source = path.read_text(encoding="utf-8")
        if source.count("\n") < 300:
            continue
        rng = random.Random(f"{seed}|block|{name}")
        picked = _pick_block(source, rng, min_lines, max_lines, max_chars)
        if picked is None:
            continue
        out.append(
            Scenario(
                name=name,
                uri=f"file:///workspace/{name}",
                original=source,
                start=picked[0],
                end=picked[1],
                source=str(path),
            )
        )
    return out


def large_scenario(
    seed: int, *, min_lines: int = 5, max_lines: int = 25, max_chars: int = 600
) -> Scenario:
    """A 10,000-line file of concatenated real modules, a block removed near its middle."""
    parts: list[str] = []
    offsets: list[tuple[str, int]] = []
    total = 0
    for name in LARGE_FILES:
        text = (STDLIB / name).read_text(encoding="utf-8")
        header = f"# ---- {name} ----\n"
        offsets.append((name, sum(len(p) for p in parts) + len(header)))
        parts.append(header + (text if text.endswith("\n") else text + "\n"))
        total += text.count("\n") + 1
        if total >= LARGE_LINES:
            break
    joined = "".join(parts)
    lines = joined.split("\n")[:LARGE_LINES]
    original = "\n".join(lines) + "\n"
    rng = random.Random(f"{seed}|block|large")
    # Choose a body from the module that covers the middle line.
    middle = len(original) * 0.5
    for i, (name, base) in enumerate(offsets):
        nxt = offsets[i + 1][1] if i + 1 < len(offsets) else len(original)
        if base <= middle < nxt:
            source = (STDLIB / name).read_text(encoding="utf-8")
            picked = _pick_block(source, rng, min_lines, max_lines, max_chars, 0.1, 0.9)
            if picked is None:
                break
            start, end = base + picked[0], base + picked[1]
            assert original[start:end] == source[picked[0] : picked[1]]
            return Scenario(
                name=f"large:{name}",
                uri="file:///workspace/large_concat.py",
                original=original,
                start=start,
                end=end,
                source=f"{LARGE_LINES} lines of {', '.join(n for n, _ in offsets)}",
            )
    raise RuntimeError("no block found for the large scenario")


# -- the fake model -----------------------------------------------------------------------------


def _module_name(name: str) -> str:
    """The module a scenario's file is ("logging/__init__.py" -> "logging")."""
    return name.rsplit(":", 1)[-1].removesuffix(".py").removesuffix("/__init__").replace("/", ".")


class FakeModel:
    """`script_fim` responder: the true continuation `p_right` of the time, else a wrong line.

    The cursor is found by matching the end of the request's prompt against the text before
    the cursor for each possible position in a scenario's block. Right or wrong, and how many
    lines, depend only on (seed, scenario, cursor position): every strategy gets the same
    answer at the same place.

    `grounded` (see `replay_names`): a true continuation that needs a project name the request
    (prompt + suffix) does not contain gets that name wrong. Every located answer is checked,
    so `unseen_answers` counts the answers whose true continuation needed a name the request
    did not show, right or wrong branch; `unseen_names` counts the names.
    """

    def __init__(self, scenarios: list[Scenario], seed: int, p_right: float = 0.6, grounded: bool = True):
        self.scenarios = scenarios
        self.seed = seed
        self.p_right = p_right
        self.grounded = grounded
        self.calls = 0
        self.unmatched = 0
        self.answers = 0  # located answers
        self.unseen_answers = 0  # answers whose true continuation needed an unseen name
        self.unseen_names: dict[str, int] = {}
        self._wrong_lines = {
            sc.name: [
                line.strip()
                for i, line in enumerate(sc.original.split("\n"))
                if len(line.strip()) >= 10 and not (sc.line_of(sc.start) <= i <= sc.line_of(sc.end))
            ]
            for sc in scenarios
        }
        self._known = {sc.name: known_names(sc.original, _module_name(sc.name)) for sc in scenarios} if grounded else {}

    def locate(self, prompt: str) -> tuple[Scenario, int] | None:
        """(scenario, typed characters) whose text before the cursor ends the prompt."""
        for sc in self.scenarios:
            tail = prompt[-200:]
            if not tail:
                continue
            lo = max(0, sc.start - len(tail))
            i = sc.original.find(tail, lo, sc.end)
            while i >= 0:
                k = i + len(tail) - sc.start
                if 0 <= k <= sc.end - sc.start:
                    return sc, k
                i = sc.original.find(tail, i + 1, sc.end)
        return None

    @staticmethod
    def _truth(remaining: str, extra: int) -> str:
        """The true continuation: the rest of the line and `extra` more lines."""
        cut = remaining.find("\n", 1 if remaining.startswith("\n") else 0)
        while cut >= 0 and extra > 0:
            cut = remaining.find("\n", cut + 1)
            extra -= 1
        return remaining if cut < 0 else remaining[:cut]

    def answer(self, sc: Scenario, k: int) -> str:
        """The ungrounded answer at `k` (the true continuation or a wrong line)."""
        return self._answer(sc, k)[0]

    def _answer(self, sc: Scenario, k: int) -> tuple[str, str, bool]:
        """(answer, true continuation, whether the answer is the true continuation)."""
        rng = random.Random(f"{self.seed}|{sc.name}|answer|{k}")
        remaining = sc.block[k:]
        if rng.random() < self.p_right:
            truth = self._truth(remaining, rng.choice((0, 0, 1, 1, 2, 3)))
            return truth, truth, True
        truth = self._truth(remaining, random.Random(f"{self.seed}|{sc.name}|truth|{k}").choice((0, 0, 1, 1, 2, 3)))
        lines = self._wrong_lines[sc.name]
        for _ in range(20):
            wrong = rng.choice(lines)
            if not remaining.startswith(wrong) and wrong != remaining.split("\n", 1)[0].strip():
                return wrong, truth, False
        return "pass  # ?", truth, False

    def __call__(self, body: dict[str, Any]) -> str:
        self.calls += 1
        prompt = str(body.get("prompt") or "")
        found = self.locate(prompt)
        if found is None:
            self.unmatched += 1
            return "pass\n"
        return self.respond(*found, prompt, str(body.get("suffix") or ""))

    def respond(self, sc: Scenario, k: int, prompt: str, suffix: str) -> str:
        """The answer at block position `k` of `sc` to a request showing `prompt` and `suffix`."""
        self.answers += 1
        answer, truth, right = self._answer(sc, k)
        if not self.grounded:
            return answer
        line_start = sc.before(k).rsplit("\n", 1)[-1]
        needed = needed_names(line_start, truth, self._known[sc.name])
        if not needed:
            return answer
        seen = visible_names(prompt, suffix)
        unseen = [name for name in needed if name not in seen]
        if unseen:
            self.unseen_answers += 1
            for name in unseen:
                self.unseen_names[name] = self.unseen_names.get(name, 0) + 1
        return mangle(answer, line_start, unseen) if right else answer
