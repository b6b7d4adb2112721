"""What the replay counts, and the figures it derives from the counts and the fake's records.

`Tally` is filled by the strategy drivers while a replay runs (keystrokes, accepted characters,
suggestions shown and accepted, latencies). `figures` joins it with the fake DeepSeek server's
request records: requests, tokens, cache hits and the bill, priced with flashpro's own price
table at each request's UTC start time. *Cold* requests are each file's first request (nothing of
that file can be cached yet); the bill and the tokens are also split into cold and warm.

Billing rule for requests the client abandoned: the fake computes `usage` when it reads the
request, before its latency; DeepSeek has processed (and bills) the prompt by then, so the
prompt tokens of a cancelled request are billed in full. Output tokens are billed only when the
fake had begun streaming the answer (chunks_sent > 0); a request dropped before its first byte
produced no output.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flashpro.ledger import PriceTable
from flashpro.usage import Usage

__all__ = ["MODEL", "Tally", "figures", "percentile"]

MODEL = "deepseek-v4-flash"
BILLING_RULE = (
    "cancelled requests: prompt tokens billed in full (the fake records usage when it reads the "
    "request); output tokens only if streaming had begun"
)


@dataclass
class Tally:
    """Counts one strategy's driver keeps while replaying."""

    keystrokes: int = 0  # keys typed (each one didChange)
    typed_chars: int = 0
    accept_actions: int = 0  # Tab presses (whole or first-line accepts)
    accepted_chars: int = 0
    partial_accepts: int = 0
    shown: set[str] = field(default_factory=set)  # distinct suggestions shown
    accepted: set[str] = field(default_factory=set)  # distinct suggestions (partly) accepted
    latency_ms: list[float] = field(default_factory=list)  # editor-seen, answers with items
    api_latency_ms: list[float] = field(default_factory=list)  # HTTP call alone (peers)
    overhead_ms: list[float] = field(default_factory=list)  # flashpro: inside the server
    pre_api_ms: list[float] = field(default_factory=list)  # flashpro: request in -> API call out
    post_api_ms: list[float] = field(default_factory=list)  # flashpro: API done -> answer out
    local_answers: int = 0  # answers given without an API call
    lsp_requests: int = 0  # flashpro: inlineCompletion requests sent
    lsp_cancels: int = 0  # flashpro: $/cancelRequest sent
    lsp_errors: int = 0
    empty_answers: int = 0
    stale_answers: int = 0  # answers with items that came back after the text changed
    block_chars: int = 0
    keys_needed: int = 0  # keys to type every block with no help
    key_late_ms: list[float] = field(default_factory=list)  # how late each user action ran
    wall_s: float = 0.0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _wall_clock(monotonic_at: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=time.monotonic() - monotonic_at)


def billed_usage(record: Any) -> Usage | None:
    """The usage billed for one fake record (see BILLING_RULE), None if the fake made none."""
    if record.usage is None:
        return None
    usage = Usage.from_api(record.usage)
    if record.disconnected and not record.finished and record.chunks_sent == 0:
        usage = Usage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=0,
            cache_hit_tokens=usage.cache_hit_tokens,
            cache_miss_tokens=usage.cache_miss_tokens,
        )
    return usage


def figures(
    tally: Tally, records: list[Any], prices: PriceTable, cold: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The comparison figures of one strategy (see the module docstring). `cold`: ids of the
    records that were each scenario's first request (left out of the warm hit ratio)."""
    prompt = hit = miss = output = 0
    warm_prompt = warm_hit = 0
    cold_prompt = cold_requests = warm_requests = 0
    cost = cold_cost = Decimal(0)
    cancelled = unpriced = 0
    for record in records:
        usage = billed_usage(record)
        if record.disconnected and not record.finished:
            cancelled += 1
        if usage is None:
            continue
        prompt += usage.prompt_tokens
        hit += usage.cache_hit_tokens
        if record.id in cold:
            cold_prompt += usage.prompt_tokens
            cold_requests += 1
        else:
            warm_prompt += usage.prompt_tokens
            warm_hit += usage.cache_hit_tokens
            warm_requests += 1
        miss += usage.cache_miss_tokens
        output += usage.completion_tokens
        price = prices.cost_usd(usage, MODEL, _wall_clock(record.started_at))
        if price is None:
            unpriced += 1
        else:
            cost += price
            if record.id in cold:
                cold_cost += price
    keys = tally.keystrokes + tally.accept_actions
    usd = float(cost)
    shown = len(tally.shown)
    return {
        "keystrokes": tally.keystrokes,
        "accept_actions": tally.accept_actions,
        "user_actions": keys,
        "keys_needed": tally.keys_needed,
        "block_chars": tally.block_chars,
        "typed_chars": tally.typed_chars,
        "requests": len(records),
        "requests_per_100_keys": 100.0 * len(records) / keys if keys else None,
        "cancelled_requests": cancelled,
        "prompt_tokens": prompt,
        "cache_hit_tokens": hit,
        "cache_miss_tokens": miss,
        "cache_hit_ratio": hit / prompt if prompt else None,
        "warm_cache_hit_ratio": warm_hit / warm_prompt if warm_prompt else None,
        "output_tokens": output,
        "billed_usd": usd,
        "cold_requests": cold_requests,
        "cold_prompt_tokens": cold_prompt,
        "cold_usd": float(cold_cost),
        "warm_usd": usd - float(cold_cost),
        "warm_prompt_tokens_avg": warm_prompt / warm_requests if warm_requests else None,
        "unpriced_requests": unpriced,
        "accepted_chars": tally.accepted_chars,
        "partial_accepts": tally.partial_accepts,
        "usd_per_1k_accepted_chars": usd * 1000 / tally.accepted_chars if tally.accepted_chars else None,
        "shown": shown,
        "accepted": len(tally.accepted),
        "acceptance_rate": len(tally.accepted) / shown if shown else None,
        "local_answers": tally.local_answers,
        "stale_answers": tally.stale_answers,
        "empty_answers": tally.empty_answers,
        "latency_ms_p50": percentile(tally.latency_ms, 50),
        "latency_ms_p99": percentile(tally.latency_ms, 99),
        "latency_samples": len(tally.latency_ms),
        "api_latency_ms_p50": percentile(tally.api_latency_ms, 50),
        "api_latency_ms_p99": percentile(tally.api_latency_ms, 99),
        "overhead_ms_p50": percentile(tally.overhead_ms, 50),
        "overhead_ms_p99": percentile(tally.overhead_ms, 99),
        "overhead_samples": len(tally.overhead_ms),
        "pre_api_ms_p50": percentile(tally.pre_api_ms, 50),
        "pre_api_ms_p99": percentile(tally.pre_api_ms, 99),
        "post_api_ms_p50": percentile(tally.post_api_ms, 50),
        "post_api_ms_p99": percentile(tally.post_api_ms, 99),
        "lsp_requests": tally.lsp_requests,
        "lsp_cancels": tally.lsp_cancels,
        "lsp_errors": tally.lsp_errors,
        "key_late_ms_p50": percentile(tally.key_late_ms, 50),
        "key_late_ms_p99": percentile(tally.key_late_ms, 99),
        "wall_s": tally.wall_s,
    }
