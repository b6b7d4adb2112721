"""Replay benchmark: real editing through the REAL flashpro server (LSP over stdio) and through
emulations of the peers' strategies, against the fake DeepSeek server; a comparison table.

    python bench/replay.py            # 3 scenarios, all strategies (about 2-3 minutes)
    python bench/replay.py --quick    # 1 short scenario (about 30 s; a smoke run, figures are thin)
    python bench/replay.py --seed 11  # another draw of blocks, answers and timing
    python bench/replay.py --ungrounded  # the fake model knows every name
    python bench/replay.py --corpus large --scenarios 6  # large class-heavy modules
    python bench/replay.py --large    # one block in a 10,000-line file (server overhead target)
    python bench/replay.py --json out.json

What happens (details in the bench/replay_*.py modules):

* scenarios (`replay_scenarios`): a function body of 5-25 lines is cut from the middle of a real
  stdlib module of >= 300 lines (fixed files, seeded choice); the editor opens the file without
  it and a simulated user types it back: one key = one incremental didChange (Enter brings the
  next line's indentation), 60 ms +-40% per key and ~400 ms pauses at line ends, in real time;
* the fake model answers with the true continuation 60% of the time (the same places for every
  strategy) and with a real line from elsewhere in the file otherwise; it is *grounded* (see
  `replay_names`; `--ungrounded` turns it off): a true continuation that needs a project name
  the request (prompt + suffix) does not show gets that name wrong, as a real model would. Each
  strategy's table column counts the answers that needed such an unseen name. The fake's latency
  model is 150 ms + 0.05 ms per prompt-cache-miss token to the first byte, 5 ms between chunks;
* the user accepts a suggestion on screen when it is a prefix of what is left to type (or its
  first line is the rest of the current line: a partial accept), skipping those keys;
* flashpro runs first, alone (its overhead is timed), with a fresh fake: one warm-up request on a
  throw-away file (the tokenizer loads on the first request; reported as "cold start"), the
  replay, then an overhead probe of invoked requests (no debounce, no reuse) on the last
  scenario's file; warm-up and probe are left out of the table. Then the peers run
  concurrently, each with its own fresh fake (same scenarios, same seed). `--serial` runs every
  strategy alone.

The bench prints figures and PASS/FAIL lines for the issue's targets; it never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.replay_driver import replay_scenario  # noqa: E402
from bench.replay_flashpro import FlashproStrategy, overheads  # noqa: E402
from bench.replay_metrics import BILLING_RULE, Tally, figures, percentile  # noqa: E402
from bench.replay_peers import PEERS  # noqa: E402
from bench.replay_report import render, targets  # noqa: E402
from bench.replay_scenarios import (  # noqa: E402
    CORPORA,
    FakeModel,
    Scenario,
    Timing,
    default_scenarios,
    large_scenario,
)
from flashpro.config import Settings  # noqa: E402
from flashpro.ledger import Ledger, PriceTable  # noqa: E402
from flashpro.tokens import count  # noqa: E402
from tests.fakes import FakeDeepSeek  # noqa: E402

__all__ = ["Config", "main", "run", "run_async"]

STRATEGIES = ("flashpro", *PEERS)


@dataclass
class Config:
    seed: int = 7
    scenarios: int = 3
    corpus: str = "small"  # which files blocks are cut from (replay_scenarios.CORPORA)
    large: bool = False
    max_chars: int = 600
    strategies: tuple[str, ...] = STRATEGIES
    timing: Timing = field(default_factory=Timing)
    p_right: float = 0.6
    grounded: bool = True  # the fake model gets a name wrong when the request does not show it
    quick: bool = False  # --quick: one short scenario (the targets say the figures are thin)
    editor: str = "vscode"  # flashpro's client: "vscode" asks on every key, "neovim" after 200 ms idle
    latency_s: float = 0.15
    latency_per_miss_token_s: float = 0.00005
    chunk_delay_s: float = 0.005
    serial: bool = False
    settle_s: float = 0.5
    server_log: Path | None = None
    probe: int = 30  # flashpro: invoked requests that time the server without its debounce
    completion: dict[str, Any] = field(default_factory=dict)  # flashpro completion.* overrides


def make_scenarios(cfg: Config) -> list[Scenario]:
    if cfg.large:
        return [large_scenario(cfg.seed, max_chars=cfg.max_chars)]
    return default_scenarios(cfg.scenarios, cfg.seed, max_chars=cfg.max_chars, files=CORPORA[cfg.corpus])


def make_fake(cfg: Config, scenarios: list[Scenario]) -> tuple[FakeDeepSeek, FakeModel]:
    fake = FakeDeepSeek(
        latency_s=cfg.latency_s,
        latency_per_miss_token_s=cfg.latency_per_miss_token_s,
        chunk_delay_s=cfg.chunk_delay_s,
    ).start()
    model = FakeModel(scenarios, cfg.seed, cfg.p_right, grounded=cfg.grounded)
    fake.script_fim(model)
    return fake, model


async def run_flashpro(cfg: Config, scenarios: list[Scenario], prices: PriceTable) -> dict[str, Any]:
    tally = Tally()
    fake, model = make_fake(cfg, scenarios)
    scratch = tempfile.TemporaryDirectory(prefix="flashpro-replay-")
    ledger_path = Path(scratch.name) / "ledger.sqlite3"
    options: dict[str, Any] = {"apiKey": "sk-test", "baseUrl": fake.url, "completion": dict(cfg.completion)}
    strategy = FlashproStrategy(tally, options, ledger_path, editor=cfg.editor, server_log=cfg.server_log)
    try:
        await strategy.start()
        try:
            warm = len(fake.requests_to("fim"))  # the warm-up call(s) are left out of the figures
            unmatched = model.unmatched
            began_counts = model_snapshot(model)
            began = time.monotonic()
            starts = []
            for sc in scenarios:
                starts.append(len(fake.requests_to("fim")))
                await replay_scenario(strategy, sc, cfg.seed, cfg.timing, cfg.settle_s)
            tally.wall_s = time.monotonic() - began
            await settled(fake)
            replayed = len(fake.requests_to("fim"))
            grounding = model_counts(model, began_counts)  # the probe below is left out
            probe = await strategy.probe(scenarios[-1], cfg.probe) if cfg.probe else []
        finally:
            await strategy.stop()
        await settled(fake)
        every = fake.requests_to("fim")
        records = every[warm:replayed]
        overheads(strategy.answers, records, tally)
        result = figures(tally, records, prices, cold_ids(every, starts))
        probe_tally = Tally()
        overheads(probe, every[replayed:], probe_tally)
        result["probe"] = {
            "requests": len(every) - replayed,
            "samples": len(probe_tally.overhead_ms),
            "overhead_ms_p50": percentile(probe_tally.overhead_ms, 50),
            "overhead_ms_p99": percentile(probe_tally.overhead_ms, 99),
            "pre_api_ms_p50": percentile(probe_tally.pre_api_ms, 50),
            "pre_api_ms_p99": percentile(probe_tally.pre_api_ms, 99),
            "post_api_ms_p50": percentile(probe_tally.post_api_ms, 50),
            "post_api_ms_p99": percentile(probe_tally.post_api_ms, 99),
            "file_lines": scenarios[-1].original.count("\n"),
        }
        result["fake_model_unmatched"] = model.unmatched - unmatched
        result.update(grounding)
        result["warmup_ms"] = strategy.warmup_ms
        result["warmup_requests"] = warm
        result["ledger"] = read_ledger(ledger_path, every, prices)
    finally:
        fake.stop()
        scratch.cleanup()
    return result


def model_snapshot(model: FakeModel) -> dict[str, Any]:
    """The fake model's running counts, to subtract later (see `model_counts`)."""
    return {"answers": model.answers, "unseen": model.unseen_answers, "names": dict(model.unseen_names)}


def model_counts(model: FakeModel, since: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fake model's answers and those whose true continuation needed a name the request did
    not show (grounding), minus the counts in `since`, with the most frequent unseen names."""
    base = since or {"answers": 0, "unseen": 0, "names": {}}
    names = {n: c - base["names"].get(n, 0) for n, c in model.unseen_names.items()}
    top = sorted(((n, c) for n, c in names.items() if c > 0), key=lambda item: (-item[1], item[0]))
    return {
        "model_answers": model.answers - base["answers"],
        "unseen_name_answers": model.unseen_answers - base["unseen"],
        "unseen_names_top": top[:12],
    }


async def settled(fake: FakeDeepSeek) -> None:
    """Wait (without blocking the loop) until the fake has closed every request record."""
    try:
        await fake.wait_until_async(lambda: all(r.done for r in fake.requests), timeout=10)
    except TimeoutError:
        pass  # figures use the records as they are


def cold_ids(records: list[Any], starts: list[int]) -> frozenset[int]:
    """Ids of each scenario's first FIM request (a cold prompt cache for that file)."""
    return frozenset(records[i].id for i in starts if i < len(records))


def read_ledger(path: Path, records: list[Any], prices: PriceTable) -> dict[str, Any]:
    """flashpro's own ledger figures (warm-up included), cross-checked against every FIM request
    the fake saw (warm-up included)."""
    try:
        with Ledger(path, read_only=True) as ledger:
            stats = ledger.stats()
    except Exception as exc:  # noqa: BLE001 - a bench reports, it does not crash
        return {"error": f"{type(exc).__name__}: {exc}"}
    data = stats.to_dict()
    billed = figures(Tally(), records, prices)
    data["calls_match_fake"] = stats.calls == len(records)
    data["fake_fim_requests"] = len(records)
    data["fake_disconnected"] = billed["cancelled_requests"]
    data["fake_prompt_tokens"] = billed["prompt_tokens"]
    data["fake_billed_usd"] = billed["billed_usd"]
    return data


async def run_peer(name: str, cfg: Config, scenarios: list[Scenario], prices: PriceTable) -> dict[str, Any]:
    tally = Tally()
    fake, model = make_fake(cfg, scenarios)
    peer = PEERS[name](tally, fake.beta_url)
    began = time.monotonic()
    try:
        starts = []
        for sc in scenarios:
            starts.append(len(fake.requests_to("fim")))
            await replay_scenario(peer, sc, cfg.seed, cfg.timing, cfg.settle_s)
        await peer.stop()
        tally.wall_s = time.monotonic() - began
        await settled(fake)
        records = fake.requests_to("fim")
        result = figures(tally, records, prices, cold_ids(records, starts))
        result["fake_model_unmatched"] = model.unmatched
        result.update(model_counts(model))
    finally:
        fake.stop()
    return result


async def run_async(cfg: Config) -> dict[str, Any]:
    """Replay every scenario through every strategy; the figures as a dict."""
    began = time.monotonic()
    prices = PriceTable.load()
    scenarios = make_scenarios(cfg)
    count("warm up")  # load the tokenizer now, not inside the fake's first request
    results: dict[str, dict[str, Any]] = {}
    phases: list[dict[str, Any]] = []
    if "flashpro" in cfg.strategies:
        t = time.monotonic()
        results["flashpro"] = await run_flashpro(cfg, scenarios, prices)
        phases.append({"strategies": ["flashpro"], "wall_s": time.monotonic() - t})
    peers = [name for name in cfg.strategies if name in PEERS]
    groups = [[name] for name in peers] if cfg.serial else ([peers] if peers else [])
    for group in groups:
        t = time.monotonic()
        done = await asyncio.gather(*(run_peer(name, cfg, scenarios, prices) for name in group))
        results.update(zip(group, done, strict=True))
        phases.append({"strategies": group, "wall_s": time.monotonic() - t})
    context_tokens = int(cfg.completion.get("contextTokens", Settings().completion.context_tokens))
    report: dict[str, Any] = {
        "config": {
            **{k: v for k, v in asdict(cfg).items() if k != "timing"},
            "timing": asdict(cfg.timing),
            "flashpro_context_tokens": context_tokens,
            "flashpro_revision": server_revision(),
        },
        "scenarios": [
            {
                "name": sc.name,
                "source": sc.source,
                "file_lines": sc.original.count("\n"),
                "block_first_line": sc.line_of(sc.start) + 1,
                "block_lines": sc.block.count("\n") + 1,
                "block_chars": len(sc.block),
                "keys_needed": sc.keystrokes_needed,
            }
            for sc in scenarios
        ],
        "strategies": results,
        "phases": phases,
        "billing_rule": BILLING_RULE,
    }
    report["targets"] = targets(report, context_tokens)
    report["wall_s"] = time.monotonic() - began
    return report


def server_revision() -> str:
    """The git commit the server code comes from, "+dirty" when server/ has local changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "server"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def run(cfg: Config) -> dict[str, Any]:
    return asyncio.run(run_async(cfg))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short scenario (about 30 s)")
    parser.add_argument("--large", action="store_true", help="one block in a 10,000-line file")
    parser.add_argument("--scenarios", type=int, help="number of scenarios (default 3; --quick 1)")
    parser.add_argument(
        "--corpus", choices=sorted(CORPORA), default="small",
        help="small: six stdlib modules of 350-1,400 lines (default); large: class-heavy modules of 1,300-3,300 lines",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help=f"comma list of {', '.join(STRATEGIES)}")
    parser.add_argument("--serial", action="store_true", help="run every strategy alone (slower)")
    parser.add_argument("--p-right", type=float, default=0.6, help="share of right answers of the fake model")
    parser.add_argument(
        "--ungrounded", action="store_true",
        help="the fake model knows every name (by default it gets a project name wrong when the request does not show it)",
    )
    parser.add_argument("--latency", type=float, default=0.15, help="fake: seconds to first byte")
    parser.add_argument("--latency-per-miss-token", type=float, default=0.00005)
    parser.add_argument("--chunk-delay", type=float, default=0.005)
    parser.add_argument("--key-ms", type=float, default=60.0)
    parser.add_argument("--pause-ms", type=float, default=400.0)
    parser.add_argument(
        "--pause-at", choices=("line-end", "line-start"), default="line-end",
        help="pause before Enter (default) or after it, at the next line's first character",
    )
    parser.add_argument("--context-tokens", type=int, help="flashpro completion.contextTokens")
    parser.add_argument(
        "--editor", choices=("vscode", "neovim"), default="vscode",
        help="flashpro's client: vscode asks on every key; neovim (0.12) only after 200 ms without typing",
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--server-log", type=Path, help="append flashpro's stderr log to this file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # pytest-lsp re-logs the server's window/logMessage lines; keep them off the terminal.
    quiet = logging.getLogger("pytest_lsp")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    names = tuple(n.strip() for n in args.strategies.split(",") if n.strip())
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        print(f"unknown strategies: {', '.join(unknown)}", file=sys.stderr)
        return 2
    cfg = Config(
        seed=args.seed,
        scenarios=args.scenarios or (1 if args.quick else 3),
        corpus=args.corpus,
        large=args.large,
        max_chars=250 if args.quick else 600,
        probe=10 if args.quick else 30,
        strategies=names,
        timing=Timing(key_s=args.key_ms / 1000, pause_s=args.pause_ms / 1000, pause_at=args.pause_at),
        p_right=args.p_right,
        grounded=not args.ungrounded,
        editor=args.editor,
        quick=args.quick,
        latency_s=args.latency,
        latency_per_miss_token_s=args.latency_per_miss_token,
        chunk_delay_s=args.chunk_delay,
        serial=args.serial,
        server_log=args.server_log,
    )
    if args.context_tokens:
        cfg.completion["contextTokens"] = args.context_tokens
    report = run(cfg)
    render(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
