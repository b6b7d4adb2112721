"""Offline estimate of what the prompt layout costs and which names it shows, in seconds.

    python bench/layout_sim.py                      # both corpora, seeds 7 and 11, budget 4096
    python bench/layout_sim.py --corpus large --budget 8192 --no-outline

The real-time replay (bench/replay.py) takes minutes per run and its figures move with typing
timing and machine load. This bench types the same scenarios (same blocks, same keys) straight
into flashpro's real `CompletionService` layout code, with no server, no timing and no model
call: after every `--every` keys it lays out the prompt as a request would, feeds the FIM tokens
to the fake server's prompt-cache model (`tests.fakes.cache_model.PromptCache`, DeepSeek's
documented rules), and checks the grounded fake model's rule (bench/replay_names.py): does the
prompt + suffix show every project name the true continuation at that place needs?

It prints, per corpus and seed: requests, the share of them whose continuation needed a name
the prompt did not show, the average prompt tokens, the warm cache-hit ratio, and the bill
split into cold (each file's first request) and warm, priced at 0.15 / 0.003 USD per million
miss / hit tokens (deepseek-flash off-peak list prices; output is left out). Use it to compare
layouts; use the replay for the figures a user would see.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.replay_names import needed_names, visible_names  # noqa: E402
from bench.replay_scenarios import CORPORA, FakeModel, default_scenarios  # noqa: E402
from flashpro.completion import service as service_module  # noqa: E402
from flashpro.completion.service import CompletionService  # noqa: E402
from flashpro.calls import Meter  # noqa: E402
from flashpro.config import Settings  # noqa: E402
from flashpro.documents import DocumentStore, Position, TextChange  # noqa: E402
from tests.fakes.cache_model import PromptCache  # noqa: E402
from tests.fakes.model import fim_tokens  # noqa: E402
from tests.meters import QuietSession, RecordingLedger  # noqa: E402

MISS_USD = 0.15 / 1e6
HIT_USD = 0.003 / 1e6


def simulate(corpus: str, seed: int, budget: int, every: int, scenarios: int) -> dict[str, float]:
    """Type every scenario of `corpus` back, laying out a prompt every `every` keys."""
    service = CompletionService(Meter(RecordingLedger(), QuietSession()), QuietSession())  # type: ignore[arg-type]
    service.set_roots(["/workspace"])
    settings = Settings()
    requests = unseen = prompt = hit = cold_miss = 0
    for sc in default_scenarios(scenarios, seed, files=CORPORA[corpus]):
        cache = PromptCache()
        model = FakeModel([sc], seed, 1.0)
        store = DocumentStore()
        doc = store.open(sc.uri, "python", 1, sc.initial_text)
        service.opened(doc)
        k = keys = 0
        first = True
        while k < len(sc.block):
            text = sc.key_at(k)
            line, column = sc.position(k)
            store.change(sc.uri, doc.version + 1, [TextChange(text, (line, column), (line, column))])
            service.edited(doc, [line])
            k += len(text)
            keys += 1
            if keys % every:
                continue
            line, column = sc.position(k)
            layout = service._layout(doc, Position(line, column), settings, budget)  # noqa: SLF001
            tokens = fim_tokens(layout.context.prompt, layout.context.suffix)
            found = cache.on_input(tokens).hit_tokens
            cache.on_output([*tokens, 0])
            requests += 1
            prompt += len(tokens)
            hit += found
            if first:
                cold_miss += len(tokens) - found
                first = False
            truth = model.answer(sc, k)  # p_right 1: the true continuation
            line_start = sc.before(k).rsplit("\n", 1)[-1]
            needed = needed_names(line_start, truth, model._known[sc.name])  # noqa: SLF001
            shown = visible_names(layout.context.prompt, layout.context.suffix)
            unseen += any(name not in shown for name in needed)
        service.closed(sc.uri)
    miss = prompt - hit
    return {
        "requests": requests,
        "unseen_share": unseen / requests if requests else 0.0,
        "prompt_avg": prompt / requests if requests else 0.0,
        "warm_hit": hit / (prompt - cold_miss) if prompt > cold_miss else 0.0,
        "cold_usd": cold_miss * MISS_USD,
        "warm_usd": (miss - cold_miss) * MISS_USD + hit * HIT_USD,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=[*sorted(CORPORA), "both"], default="both")
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument("--scenarios", type=int, default=6)
    parser.add_argument("--budget", type=int, default=Settings().completion.context_tokens)
    parser.add_argument("--every", type=int, default=5, help="keys between two requests (the replay: about 5)")
    parser.add_argument("--no-outline", action="store_true", help="lay out without the current file's outline")
    args = parser.parse_args(argv)
    if args.no_outline:
        service_module._OUTLINE_SHARE = 1 << 30  # noqa: SLF001 - a cap of no tokens: no outline
    corpora = sorted(CORPORA) if args.corpus == "both" else [args.corpus]
    print(f"layout simulation: budget {args.budget}, a request every {args.every} keys, outline {'off' if args.no_outline else 'on'}")
    for corpus in corpora:
        for seed in (int(s) for s in args.seeds.split(",")):
            r = simulate(corpus, seed, args.budget, args.every, args.scenarios)
            print(
                f"  {corpus:5} seed {seed:>3}: {r['requests']:>4} requests, {100 * r['unseen_share']:4.1f}% needed an unseen "
                f"name, {r['prompt_avg']:,.0f} prompt tokens avg, warm hits {100 * r['warm_hit']:.1f}%, "
                f"USD cold {r['cold_usd']:.5f} + warm {r['warm_usd']:.5f} = {r['cold_usd'] + r['warm_usd']:.5f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
