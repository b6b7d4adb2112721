"""Pure pieces of inline completion: post-processing, context budget, privacy, error gate."""

from __future__ import annotations

from flashpro.completion.context import build_context
from flashpro.completion.postprocess import strip_line_overlap, strip_suffix_overlap, tidy
from flashpro.documents import Position, TextBuffer, is_excluded, looks_secret
from flashpro.providers import AuthFailed, InsufficientBalance, MissingKey, RateLimited, Unavailable
from flashpro.providers.gate import ErrorGate
from flashpro.tokens import count


def test_overlap_with_the_rest_of_the_line_is_stripped() -> None:
    assert strip_suffix_overlap("a, b)", ")") == "a, b"
    assert strip_suffix_overlap("x]])", "])") == "x]"
    assert strip_suffix_overlap("abc", "z") == "abc"
    assert tidy("a, b)\nmore()", ")", ")\n") == "a, b"


def test_repeated_following_lines_are_dropped() -> None:
    after = "\n    return total\n"
    assert strip_line_overlap("\n    total += 1\n    return total", after) == "\n    total += 1"
    assert tidy("   \n\n", "", "") == ""


def test_context_fits_its_budget_and_keeps_the_lines_nearest_the_cursor() -> None:
    text = "".join(f"line_{i} = compute({i}, {i * 7})\n" for i in range(3000))
    buf = TextBuffer(text)
    ctx = build_context(buf, Position(1500, 4), budget=400, suffix_budget=100)
    assert ctx.prompt_tokens <= 300
    assert ctx.suffix_tokens <= 100
    assert ctx.prompt_tokens == count(ctx.prompt)
    assert ctx.suffix_tokens == count(ctx.suffix)
    assert ctx.prompt.endswith("line_1499 = compute(1499, 10493)\nline")
    assert ctx.suffix.startswith("_1500 = compute(1500, 10500)\n")
    assert ctx.line_rest == "_1500 = compute(1500, 10500)"


def test_secret_paths_and_contents_are_recognised() -> None:
    defaults = ["**/.env", "**/*.pem", "**/id_rsa*"]
    assert is_excluded("file:///home/u/proj/.env", defaults)
    assert is_excluded("file:///home/u/.ssh/id_rsa", defaults)
    assert is_excluded("file:///c%3A/keys/server.pem", defaults)
    assert not is_excluded("file:///home/u/proj/main.py", defaults)
    assert looks_secret("x = '''\n-----BEGIN RSA PRIVATE KEY-----\nabc")
    assert looks_secret("AWS = 'AKIAABCDEFGHIJKLMNOP'")
    assert not looks_secret("def f():\n    return 1\n")


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gate_pauses_and_announces_each_kind_once() -> None:
    clock = _Clock()
    gate = ErrorGate(balance_pause=60, rate_limit_pause=2, clock=clock)
    assert gate.blocked_by() is None
    assert gate.observe(Unavailable("500")) is True
    assert gate.observe(Unavailable("500 again")) is False
    assert gate.blocked_by() is None  # transient errors never pause

    assert gate.observe(RateLimited("429", retry_after=5)) is True
    assert gate.blocked_by() is not None
    clock.now += 5.1
    assert gate.blocked_by() is None

    assert gate.observe(InsufficientBalance("402")) is True
    assert gate.blocked_by() is not None
    clock.now += 61
    assert gate.blocked_by() is None

    assert gate.observe(AuthFailed("401")) is True
    clock.now += 10_000
    assert isinstance(gate.blocked_by(), AuthFailed)  # until the key changes
    assert gate.observe(AuthFailed("401")) is False
    gate.reset()
    assert gate.blocked_by() is None
    assert gate.observe(MissingKey("none")) is True


def test_one_huge_line_is_cut_by_characters() -> None:
    buf = TextBuffer("var a=1;" * 50_000)
    ctx = build_context(buf, Position(0, 200_000), budget=256, suffix_budget=64)
    assert 0 < ctx.prompt_tokens <= 192
    assert 0 < ctx.suffix_tokens <= 64
    assert ctx.prompt.endswith("var a=1;")
