"""Zero-token reuse: type-through from the suggestion cache and from a streaming response."""

from __future__ import annotations

import asyncio

import pytest
from flashpro.completion.reuse import Hit, InFlight, SuggestionCache, text_before
from flashpro.documents import Position, TextBuffer

URI = "file:///p/a.py"
BEFORE = "import os\n\ndef main():\n    path = os.path."


class FakeModel:
    """Counts calls: a request is only made when the cache has no answer."""

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, cache: SuggestionCache, prefix: str, rest: str) -> str:
        hit = cache.lookup(URI, prefix, rest)
        if hit is not None:
            return hit.text_remaining
        self.calls += 1
        text = "join(root, name)"
        cache.remember(URI, prefix, rest, text, f"req-{self.calls}")
        return text


def test_type_through_answers_from_the_cache_without_a_call() -> None:
    cache = SuggestionCache()
    model = FakeModel()
    assert model.complete(cache, BEFORE, ")") == "join(root, name)"
    assert model.calls == 1
    prefix = BEFORE
    for index, char in enumerate("join(root, nam"):
        prefix += char
        assert model.complete(cache, prefix, ")") == "join(root, name)"[index + 1 :]
    assert model.calls == 1
    hit = cache.lookup(URI, BEFORE + "join(", ")")
    assert hit == Hit("root, name)", "req-1", 5)


def test_no_hit_when_typed_text_departs_from_the_suggestion() -> None:
    cache = SuggestionCache()
    cache.remember(URI, BEFORE, "", "join(root, name)", "r1")
    assert cache.lookup(URI, BEFORE + "join(root, name)", "") is None  # fully typed: nothing left
    assert cache.lookup(URI, BEFORE + "j", ")") is None  # different rest of line
    assert cache.lookup("file:///p/b.py", BEFORE, "") is None  # different document
    assert cache.lookup(URI, BEFORE, "") == Hit("join(root, name)", "r1", 0)
    assert cache.lookup(URI, BEFORE + "joim", "") is None


def test_a_suggestion_typed_past_is_not_shown_again() -> None:
    cache = SuggestionCache()
    text = "join(root, name)"
    cache.remember(URI, BEFORE, "", text, "r1")
    assert cache.lookup(URI, BEFORE + "jo", "") == Hit("in(root, name)", "r1", 2)  # typing through it
    assert not cache.rejected(URI, BEFORE, "", text)
    assert cache.lookup(URI, BEFORE + "joim", "") is None  # typed past it: rejected
    assert cache.rejected(URI, BEFORE, "", text)
    assert cache.lookup(URI, BEFORE, "") is None  # back at the place (backspace): not shown again
    cache.remember(URI, BEFORE, "", text, "r2")  # the model offers the same text there again
    assert cache.lookup(URI, BEFORE, "") is None and len(cache) == 0
    cache.remember(URI, BEFORE, "", "join(base, name)", "r3")  # a different suggestion is welcome
    assert cache.lookup(URI, BEFORE, "") == Hit("join(base, name)", "r3", 0)
    cache.forget(URI)
    assert not cache.rejected(URI, BEFORE, "", text)


def test_look_back_is_limited_to_128_characters() -> None:
    cache = SuggestionCache()
    long = "x" * 300
    cache.remember(URI, BEFORE, "", long, "r1")
    assert cache.lookup(URI, BEFORE + "x" * 128, "") == Hit("x" * 172, "r1", 128)
    assert cache.lookup(URI, BEFORE + "x" * 129, "") is None


def test_keys_use_only_the_last_characters_before_the_cursor() -> None:
    cache = SuggestionCache(key_chars=16)
    cache.remember(URI, "A" * 100 + BEFORE, "", "join(a)", "r1")
    hit = cache.lookup(URI, "B" * 100 + BEFORE + "jo", "")
    assert hit is not None and hit.text_remaining == "in(a)"


def test_cache_is_a_bounded_lru() -> None:
    cache = SuggestionCache(max_entries=250)
    for i in range(300):
        cache.remember(URI, f"line {i}\n", "", f"value_{i}", str(i))
    assert len(cache) == 250
    assert cache.lookup(URI, "line 10\n", "") is None
    assert cache.lookup(URI, "line 299\n", "") is not None
    # A hit refreshes the entry; the oldest unused one goes first.
    assert cache.lookup(URI, "line 50\n", "") is not None
    cache.remember(URI, "new\n", "", "x", "n")
    assert cache.lookup(URI, "line 50\n", "") is not None
    assert cache.lookup(URI, "line 51\n", "") is None
    cache.forget(URI)
    assert len(cache) == 0
    with pytest.raises(ValueError):
        SuggestionCache(max_entries=0)


def test_text_before_reads_back_across_lines() -> None:
    buffer = TextBuffer("abc\ndef\nghi")
    assert text_before(buffer, Position(2, 1)) == "abc\ndef\ng"
    assert text_before(buffer, Position(2, 1), chars=5) == "def\ng"
    assert text_before(buffer, Position(0, 0)) == ""


async def test_a_streaming_response_is_reused_when_typing_matches_it() -> None:
    flight = InFlight(URI, BEFORE, "", "r1")
    flight.feed("join(")
    assert flight.matches(BEFORE + "jo")
    assert flight.remaining(BEFORE + "jo") == "in("
    assert not flight.matches(BEFORE + "jx")
    assert not flight.matches(BEFORE + "join(r")  # not streamed yet ...
    assert flight.may_match(BEFORE + "join(r")  # ... but it still may be
    assert not flight.matches(BEFORE + "jo", line_rest=")")

    async def stream() -> None:
        await asyncio.sleep(0)
        flight.feed("root, name)")
        flight.finish()

    task = asyncio.ensure_future(stream())
    assert await flight.wait() == "join(root, name)"
    await task
    assert flight.done
    assert flight.matches(BEFORE + "join(r")
    assert flight.remaining(BEFORE + "join(r") == "oot, name)"
    assert not flight.may_match(BEFORE + "join(x")


async def test_a_failed_stream_matches_nothing_and_reraises() -> None:
    flight = InFlight(URI, BEFORE, "", "r1")
    flight.feed("join")
    flight.fail(asyncio.CancelledError())
    assert not flight.matches(BEFORE + "j")
    assert flight.remaining(BEFORE + "j") is None
    with pytest.raises(asyncio.CancelledError):
        await flight.wait()


def test_in_flight_look_back_and_unrelated_prefixes() -> None:
    flight = InFlight(URI, BEFORE, "", "r1")
    flight.feed("y" * 200)
    assert flight.typed(BEFORE + "y" * 128) == "y" * 128
    assert flight.typed(BEFORE + "y" * 129) is None
    assert flight.typed("something else entirely") is None
    assert flight.typed(BEFORE) == ""
    assert flight.matches(BEFORE)
