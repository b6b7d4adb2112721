"""Pure pieces of inline completion: post-processing, context budget, privacy, error gate."""

from __future__ import annotations

from flashpro.completion.postprocess import strip_line_overlap, strip_suffix_overlap, tidy
from flashpro.documents import is_excluded, looks_secret
from flashpro.providers import AuthFailed, InsufficientBalance, MissingKey, RateLimited, Unavailable
from flashpro.providers.gate import ErrorGate


def test_overlap_with_the_rest_of_the_line_is_stripped() -> None:
    assert strip_suffix_overlap("a, b)", ")") == "a, b"
    assert strip_suffix_overlap("x]])", "])") == "x]"
    assert strip_suffix_overlap("abc", "z") == "abc"
    assert tidy("a, b)\nmore()", ")", ")\n") == "a, b"


def test_repeated_following_lines_are_dropped() -> None:
    after = "\n    return total\n"
    assert strip_line_overlap("\n    total += 1\n    return total", after) == "\n    total += 1"
    assert tidy("   \n\n", "", "") == ""


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

