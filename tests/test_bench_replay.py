"""Smoke test of the replay benchmark (bench/replay.py): one short scenario, flashpro and one peer.

Behaviour only — the run completes, requests were made, the figures add up. Never timings.
"""

from __future__ import annotations

from bench.replay import Config, run_async
from bench.replay_scenarios import FakeModel, Timing, accept_length, default_scenarios


def test_accept_rule() -> None:
    assert accept_length("foo(x)", "foo(x)\n    bar") == 6
    assert accept_length("foo(x)\n    baz", "foo(x)\n    bar") == 6  # first line = rest of the line
    assert accept_length("foo(y)", "foo(x)\n") == 0
    assert accept_length("fo", "foo(x)\n") == 2
    assert accept_length("   ", "   x") == 0


def test_fake_model_finds_the_cursor_and_is_deterministic() -> None:
    (sc,) = default_scenarios(1, seed=3, max_chars=250)
    model = FakeModel([sc], seed=3, p_right=1.0, grounded=False)
    for k in (0, 7, len(sc.block) // 2):
        assert model.locate("<some header>\n" + sc.before(k)) == (sc, k)
        answer = model({"prompt": sc.before(k), "suffix": sc.after})
        assert answer and sc.block[k:].startswith(answer)
    wrong = FakeModel([sc], seed=3, p_right=0.0, grounded=False)({"prompt": sc.before(5), "suffix": sc.after})
    assert not sc.block[5:].startswith(wrong)


def test_grounded_fake_model_gets_unseen_names_wrong() -> None:
    (sc,) = default_scenarios(1, seed=3, max_chars=250)
    model = FakeModel([sc], seed=3, p_right=1.0)
    wrong = 0
    for k in range(0, len(sc.block), 5):
        truth = model.answer(sc, k)
        # Everything visible (the rest of the block too): the answer is the true continuation.
        assert model.respond(sc, k, sc.before(k), sc.block[k:] + sc.after) == truth
        # Only the text before the cursor on its line: project names the answer needs are unseen.
        blind = model.respond(sc, k, sc.before(k).rsplit("\n", 1)[-1], "")
        if blind != truth:
            wrong += 1
            assert not sc.block[k:].startswith(blind) and blind.replace("_", "") == truth.replace("_", "")
    assert wrong > 0 and model.unseen_answers == wrong and model.unseen_names


async def test_replay_runs_and_its_figures_add_up() -> None:
    cfg = Config(
        seed=3,
        scenarios=1,
        max_chars=200,
        strategies=("flashpro", "llama.vim"),
        timing=Timing(key_s=0.02, pause_s=0.25),
        settle_s=0.6,  # longer than any debounce, so the last key's request goes out
        probe=2,
    )
    report = await run_async(cfg)
    (scenario,) = report["scenarios"]
    assert set(report["strategies"]) == {"flashpro", "llama.vim"}
    for name, r in report["strategies"].items():
        assert r["requests"] > 0, name
        assert r["cache_hit_tokens"] + r["cache_miss_tokens"] == r["prompt_tokens"], name
        assert 0 <= r["accepted_chars"] <= r["block_chars"] == scenario["block_chars"], name
        assert r["typed_chars"] + r["accepted_chars"] == r["block_chars"], name  # the block is typed back whole
        assert r["accepted"] <= r["shown"], name
        assert r["accepted"] <= r["accept_actions"] <= r["keystrokes"] + r["accept_actions"], name
        assert r["requests_per_100_keys"] == 100 * r["requests"] / (r["keystrokes"] + r["accept_actions"]), name
        assert r["billed_usd"] >= 0 and r["unpriced_requests"] == 0, name
        assert r["fake_model_unmatched"] == 0, name  # every prompt ended with the text before the cursor
        assert 0 <= r["unseen_name_answers"] <= r["model_answers"] <= r["requests"], name  # grounding counts
        assert r["cold_requests"] == 1 and abs(r["cold_usd"] + r["warm_usd"] - r["billed_usd"]) < 1e-12, name
    flashpro = report["strategies"]["flashpro"]
    assert flashpro["lsp_requests"] >= flashpro["keystrokes"] + flashpro["accept_actions"]
    assert "error" not in flashpro["ledger"] and flashpro["ledger"]["calls"] > 0
    assert [t["status"] in ("PASS", "FAIL", "N/A") for t in report["targets"]] == [True] * 5


async def test_overhead_bench_measures_real_calls() -> None:
    from bench.overhead import measure

    values = await measure(5)
    assert len(values) == 5 and all(v > 0 for v in values)  # one API call each, time left over
