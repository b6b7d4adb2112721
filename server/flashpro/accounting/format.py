"""Short human figures for diagnostics and status bars: tokens, dollars, percentages."""

from __future__ import annotations

from flashpro.ledger import Stats

__all__ = ["dollars", "percent", "spend_line", "tokens"]


def tokens(count: int) -> str:
    """41234 -> '41.2k', 1_300_000 -> '1.3M', 950 -> '950'."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1_000:
        return f"{count / 1_000:.1f}k"
    return str(count)


def dollars(amount: float) -> str:
    """USD with enough digits to be honest about very small sums."""
    if amount == 0:
        return "$0"
    if amount >= 1:
        return f"${amount:.2f}"
    if amount >= 0.0001:
        return f"${amount:.4f}"
    return f"${amount:.6f}"


def percent(ratio: float | None) -> str:
    """0.873 -> '87%'; None -> 'n/a'."""
    return "n/a" if ratio is None else f"{ratio * 100:.0f}%"


def spend_line(stats: Stats, planner_usd: float = 0.0) -> str:
    """`flashpro: 41.2k tokens · 87% cache hit · $0.0031 (executor $0.0011 · planner $0.0020) · 23/61
    completions accepted`; the split appears once the planner has spent on the file."""
    cost = dollars(stats.cost_usd)
    if planner_usd > 0:
        cost += f" (executor {dollars(max(stats.cost_usd - planner_usd, 0.0))} · planner {dollars(planner_usd)})"
    parts = [
        f"{tokens(stats.prompt_tokens + stats.output_tokens)} tokens",
        f"{percent(stats.cache_hit_ratio)} cache hit",
        cost,
    ]
    if stats.shown:
        parts.append(f"{stats.accepted + stats.partially_accepted}/{stats.shown} completions accepted")
    if stats.wasted_usd > 0:
        parts.append(f"{dollars(stats.wasted_usd)} wasted")
    return "flashpro: " + " · ".join(parts)
