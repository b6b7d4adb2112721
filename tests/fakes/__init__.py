"""Fakes of external services for tests: the fake DeepSeek API server and its fixture.

    from tests.fakes import FakeDeepSeek, fake_deepseek

`fake_deepseek` is a pytest fixture (function scope) yielding a started `FakeDeepSeek` with the
default key `sk-test` and models; the lead registers it in tests/conftest.py. This package does
not import `tests.fakes.deepseek`, so `python -m tests.fakes.deepseek` runs without warnings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.cache_model import CacheLookup, PromptCache
from tests.fakes.model import Answer
from tests.fakes.server import DEFAULT_KEYS, DEFAULT_MODELS, FakeDeepSeek, RequestRecord

__all__ = [
    "DEFAULT_KEYS",
    "DEFAULT_MODELS",
    "Answer",
    "CacheLookup",
    "FakeDeepSeek",
    "PromptCache",
    "RequestRecord",
    "fake_deepseek",
]


@pytest.fixture
def fake_deepseek() -> Iterator[FakeDeepSeek]:
    """A started fake DeepSeek server (key `sk-test`), stopped after the test."""
    with FakeDeepSeek() as server:
        yield server
