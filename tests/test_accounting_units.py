"""Pure accounting pieces: figure formatting, cache-drop explanation, acceptance inference."""

from __future__ import annotations

from flashpro.accounting import AcceptanceTracker, CacheWatch, dollars, percent, spend_line, tokens
from flashpro.ledger import Stats


def test_figures_are_short_and_honest() -> None:
    assert tokens(950) == "950"
    assert tokens(41_234) == "41.2k"
    assert tokens(1_300_000) == "1.3M"
    assert dollars(0) == "$0"
    assert dollars(0.0031) == "$0.0031"
    assert dollars(0.000028) == "$0.000028"
    assert dollars(12.5) == "$12.50"
    assert percent(0.873) == "87%" and percent(None) == "n/a"


def test_spend_line_matches_the_documented_shape() -> None:
    stats = Stats(calls=61, prompt_tokens=40_000, output_tokens=1_234, cache_hit_ratio=0.87,
                  cost_usd=0.0031, shown=61, accepted=20, partially_accepted=3)
    assert spend_line(stats) == "flashpro: 41.2k tokens · 87% cache hit · $0.0031 · 23/61 completions accepted"


def test_cache_drop_names_the_first_changed_line() -> None:
    watch = CacheWatch()
    head = "".join(f"line {i}\n" for i in range(40))
    def line_at(index: int) -> int:  # the prompt starts at document line 10
        return 10 + (head + "tail").count("\n", 0, index)

    for _ in range(4):
        assert watch.observe("u", head + "tail", 0.9, line_at) is None
    changed = head.replace("line 3\n", "line three\n")
    drop = watch.observe("u", changed + "tail", 0.05, line_at)
    assert drop is not None
    assert drop.changed_line == 13  # prompt line 3, and the prompt starts at document line 10
    assert drop.explain() == "cache hit fell to 5% (usual 90%): prompt head changed at line 14"
    assert watch.observe("u", changed + "tail", 0.85, line_at) is None  # ordinary variation is not a drop


def test_unanswered_suggestions_become_rejected_but_acceptances_win() -> None:
    tracker = AcceptanceTracker()
    tracker.shown("a", "r1")
    tracker.shown("a", "r2")
    assert tracker.answered("r2") == "a"  # the document it was shown in
    assert tracker.answered("r2") is None  # already answered
    assert tracker.superseded_by_next("a") == ["r1"]
    assert tracker.superseded_by_next("a") == []
    tracker.shown("a", "r3")
    assert tracker.superseded_by_next("a", keep="r3") == []  # still being typed through
    assert tracker.superseded_by_next("a") == ["r3"]
