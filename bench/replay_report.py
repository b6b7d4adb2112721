"""Targets and printing for bench/replay.py: the issue's targets as PASS / FAIL / N/A lines, and
the rich table with the method notes. Reads only the report dict that `replay.run` returns."""

from __future__ import annotations

from typing import Any

__all__ = ["render", "targets"]


def targets(report: dict[str, Any], context_tokens: int) -> list[dict[str, Any]]:
    """The issue's targets as PASS / FAIL / N/A lines (informational), each naming the figures it
    compares; on a thin run (one scenario) each line carries a note saying so."""
    results = report["strategies"]
    fp = results.get("flashpro")
    peers = {k: v for k, v in results.items() if k != "flashpro"}
    cfg = report.get("config", {})
    out: list[dict[str, Any]] = []
    if fp is None:
        return [{"target": "all", "status": "N/A", "detail": "flashpro was not run", "note": ""}]
    scenarios = len(report.get("scenarios", ()))
    note = ""
    if cfg.get("quick") or scenarios < 2:
        note = (
            f"thin run: {scenarios} short scenario, {fp['user_actions']} user actions, {fp['model_answers']} model "
            "answers; one answer more or less moves these figures a lot, and the file's cold first call weighs "
            "far more than in a full run. It shows the direction and that every figure is produced; a verdict "
            "needs the full run (3 scenarios) on two seeds."
        )

    def line(name: str, ok: bool | None, detail: str) -> None:
        status = "N/A" if ok is None else ("PASS" if ok else "FAIL")
        out.append({"target": name, "status": status, "detail": detail, "note": note})

    naive = peers.get("naive")
    line(
        "accepted characters >= the whole-file strategy's (naive)",
        None if naive is None else fp["accepted_chars"] >= naive["accepted_chars"],
        f"flashpro accepted {fp['accepted_chars']} of {fp['block_chars']} chars, naive "
        + (f"{naive['accepted_chars']}" if naive else "not run")
        + f"; answers that needed an unseen name: flashpro {_share(fp)}"
        + (f", naive {_share(naive)}" if naive else ""),
    )
    priced = {k: v["usd_per_1k_accepted_chars"] for k, v in peers.items() if v["usd_per_1k_accepted_chars"]}
    mine = fp["usd_per_1k_accepted_chars"]
    if priced and mine is not None:
        best = min(priced, key=priced.__getitem__)
        line(
            "USD per 1,000 accepted chars <= 1/3 of the cheapest peer's",
            mine <= priced[best] / 3,
            f"flashpro ${mine:.6f} (billed ${fp['billed_usd']:.6f}: cold ${fp['cold_usd']:.6f} + warm "
            f"${fp['warm_usd']:.6f}) vs cheapest peer {best} ${priced[best]:.6f}, limit ${priced[best] / 3:.6f}",
        )
    else:
        line("USD per 1,000 accepted chars <= 1/3 of the cheapest peer's", None, "no peer (or flashpro) accepted anything to price")
    warm = fp["warm_cache_hit_ratio"]
    line(
        "cache-hit ratio >= 90% of prompt tokens after each file's first call",
        None if warm is None else warm >= 0.90,
        f"flashpro {_pct(warm)} of the prompt tokens of its {fp['requests'] - fp['cold_requests']} warm calls were "
        f"cache hits ({_pct(fp['cache_hit_ratio'])} counting the {fp['cold_requests']} cold first calls, which "
        f"cannot hit); completion.contextTokens={context_tokens}",
    )
    rate = fp["requests_per_100_keys"]
    line(
        "<= 25 API requests per 100 keystrokes",
        None if rate is None else rate <= 25,
        f"flashpro {fp['requests']} FIM requests for {fp['keystrokes']} keys typed + {fp['accept_actions']} accepts"
        + (f" = {rate:.1f} per 100" if rate is not None else ""),
    )
    probe = fp.get("probe") or {}
    p99 = probe.get("overhead_ms_p99")
    auto = fp["overhead_ms_p99"]
    detail = (
        f"invoked probe (no debounce) p99 {_num(p99, '{:.1f}')} ms over {probe.get('samples', 0)} answers "
        f"on a {probe.get('file_lines', 0):,}-line file, JSON-RPC included; automatic requests p99 "
        f"{_num(auto, '{:.1f}')} ms incl. the debounce wait"
    )
    if probe.get("file_lines", 0) >= 10_000 and p99 is not None:
        line("server overhead p99 <= 5 ms on a 10,000-line file", p99 <= 5.0, detail)
    else:
        line(
            "server overhead p99 <= 5 ms on a 10,000-line file", None,
            "needs a 10,000-line file: run bench/overhead.py (in-process) or this bench with --large; " + detail,
        )
    return out


def _share(result: dict[str, Any]) -> str:
    answers = result.get("model_answers") or 0
    unseen = result.get("unseen_name_answers") or 0
    return f"{unseen}/{answers}" + (f" ({100 * unseen / answers:.0f}%)" if answers else "")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: Any, fmt: str = "{:,}") -> str:
    return "-" if value is None else fmt.format(value)


ROWS: list[tuple[str, str, Any]] = [
    ("keystrokes typed (+ accepts)", "keystrokes", lambda r: f"{r['keystrokes']} (+{r['accept_actions']})"),
    ("FIM requests", "requests", lambda r: str(r["requests"])),
    ("  cancelled / stale answers", "cancelled_requests", lambda r: f"{r['cancelled_requests']} / {r['stale_answers']}"),
    ("requests / 100 keystrokes", "requests_per_100_keys", lambda r: _num(r["requests_per_100_keys"], "{:.1f}")),
    ("prompt tokens (avg / request)", "prompt_tokens", lambda r: f"{r['prompt_tokens']:,} ({r['prompt_tokens'] // max(r['requests'], 1):,})"),
    ("cache-hit ratio", "cache_hit_ratio", lambda r: _pct(r["cache_hit_ratio"])),
    ("  excl. each file's 1st call", "warm_cache_hit_ratio", lambda r: _pct(r["warm_cache_hit_ratio"])),
    ("output tokens", "output_tokens", lambda r: _num(r["output_tokens"])),
    ("billed USD", "billed_usd", lambda r: f"${r['billed_usd']:.6f}"),
    ("  cold (1st call/file) / warm", "cold_usd", lambda r: f"${r['cold_usd']:.6f} / ${r['warm_usd']:.6f}"),
    ("prompt tokens cold / warm avg", "cold_prompt_tokens", lambda r: f"{r['cold_prompt_tokens'] // max(r['cold_requests'], 1):,} / {_num(r['warm_prompt_tokens_avg'], '{:,.0f}')}"),
    ("accepted chars", "accepted_chars", lambda r: f"{r['accepted_chars']} / {r['block_chars']}"),
    ("USD / 1k accepted chars", "usd_per_1k_accepted_chars", lambda r: _num(r["usd_per_1k_accepted_chars"], "${:.6f}")),
    ("answers needing an unseen name", "unseen_name_answers", _share),
    ("acceptance (accepted/shown)", "acceptance_rate", lambda r: f"{_pct(r['acceptance_rate'])} ({r['accepted']}/{r['shown']})"),
    ("local answers (no API)", "local_answers", lambda r: str(r["local_answers"])),
    ("latency p50 / p99 ms", "latency_ms_p50", lambda r: f"{_num(r['latency_ms_p50'], '{:.0f}')} / {_num(r['latency_ms_p99'], '{:.0f}')}"),
    ("API call p50 / p99 ms", "api_latency_ms_p50", lambda r: f"{_num(r['api_latency_ms_p50'], '{:.0f}')} / {_num(r['api_latency_ms_p99'], '{:.0f}')}"),
    ("server overhead p50 / p99 ms", "overhead_ms_p50", lambda r: f"{_num(r['overhead_ms_p50'], '{:.1f}')} / {_num(r['overhead_ms_p99'], '{:.1f}')}"),
    ("  pre-API p50 / p99 ms", "pre_api_ms_p50", lambda r: f"{_num(r['pre_api_ms_p50'], '{:.1f}')} / {_num(r['pre_api_ms_p99'], '{:.1f}')}"),
    ("  post-API p50 / p99 ms", "post_api_ms_p50", lambda r: f"{_num(r['post_api_ms_p50'], '{:.1f}')} / {_num(r['post_api_ms_p99'], '{:.1f}')}"),
    ("user action late p50 / p99 ms", "key_late_ms_p50", lambda r: f"{_num(r['key_late_ms_p50'], '{:.0f}')} / {_num(r['key_late_ms_p99'], '{:.0f}')}"),
]


def render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    probe = Console()
    console = Console(width=probe.width if probe.is_terminal else 150)
    cfg = report["config"]
    console.print(
        f"[bold]flashpro replay[/] (server {cfg['flashpro_revision']}) seed {cfg['seed']}, fake model right {100 * cfg['p_right']:.0f}% of the time "
        f"({'grounded: it gets a project name wrong when the request does not show it' if cfg.get('grounded', True) else 'ungrounded: it knows every name'}), "
        f"latency {1000 * cfg['latency_s']:.0f} ms + {1e6 * cfg['latency_per_miss_token_s']:.0f} µs/miss token, "
        f"typing {1000 * cfg['timing']['key_s']:.0f} ms/key, {1000 * cfg['timing']['pause_s']:.0f} ms pauses at "
        f"{'line ends (before Enter)' if cfg['timing']['pause_at'] == 'line-end' else 'line starts (after Enter)'}"
    )
    for sc in report["scenarios"]:
        console.print(
            f"  scenario {sc['name']}: {sc['file_lines']:,}-line file, block of {sc['block_lines']} lines / "
            f"{sc['block_chars']} chars at line {sc['block_first_line']} ({sc['keys_needed']} keys to type unaided)"
        )
    results = report["strategies"]
    table = Table(title="replay: same keystrokes, same fake model", show_lines=False)
    table.add_column("", no_wrap=True)
    for name in results:
        table.add_column(name, justify="right", no_wrap=True)
    for label, key, fmt in ROWS:
        if all(results[n].get(key) is None for n in results) and key.startswith(("overhead", "pre_", "post_")):
            continue
        table.add_row(label, *(fmt(results[n]) for n in results))
    console.print(table)
    console.print("[bold]Method[/]")
    notes = [
        f"billed USD: every FIM request the fake recorded, priced with flashpro.ledger.PriceTable at its UTC start; {report['billing_rule']}.",
        "keystrokes: keys typed (each one didChange); '+ accepts' are Tab presses; requests / 100 keystrokes counts both.",
        "cancelled: FIM requests the client dropped before the fake finished answering; stale: answers with text that came back after the text had changed (not shown).",
        "acceptance: distinct suggestions accepted (whole or first line) / distinct suggestions shown (shown = answered before the text changed).",
        "latency: from the key the answer is for (the inlineCompletion request; for peers including their debounce) to an answer with text; local-cache answers included.",
        "server overhead (flashpro): editor-seen latency minus the fake's time (completed_at - started_at) of the finished FIM call overlapping the request most; answers without an API call count in full. pre-API includes any debounce wait inside the server.",
    ]
    if "flashpro" in results:
        notes.append("flashpro ran alone; the peers ran " + ("one at a time." if cfg["serial"] else "concurrently, each against its own fake (their latencies include some CPU contention)."))
    notes.append(
        "user action late: how far behind schedule the simulated user's keys ran (event-loop or CPU contention); "
        "large values mean the machine was busy and latencies are inflated."
    )
    for note in notes:
        console.print(f"  - {note}")
    warm = results.get("flashpro", {}).get("warmup_ms")
    if "flashpro" in results:
        console.print(
            f"[bold]flashpro cold start[/]: the first (warm-up) answer took "
            f"{_num(warm, '{:.0f}')} ms; left out of the figures above."
        )
        probe = results["flashpro"].get("probe") or {}
        if probe.get("samples"):
            console.print(
                f"[bold]flashpro overhead probe[/] ({probe['samples']} invoked requests after the replay, one key typed before "
                f"each, {probe['file_lines']:,}-line file; no debounce, no reuse; left out of the figures above): overhead p50 "
                f"{_num(probe['overhead_ms_p50'], '{:.1f}')} / p99 {_num(probe['overhead_ms_p99'], '{:.1f}')} ms "
                f"(pre-API {_num(probe['pre_api_ms_p50'], '{:.1f}')} / {_num(probe['pre_api_ms_p99'], '{:.1f}')}, post-API "
                f"{_num(probe['post_api_ms_p50'], '{:.1f}')} / {_num(probe['post_api_ms_p99'], '{:.1f}')})"
            )
    ledger = results.get("flashpro", {}).get("ledger")
    if ledger:
        if "error" in ledger:
            console.print(f"[bold]flashpro ledger[/]: could not read it ({ledger['error']})")
        else:
            console.print(
                f"[bold]flashpro ledger[/] (warm-up included): {ledger['calls']} calls vs {ledger['fake_fim_requests']} FIM "
                f"requests at the fake ({'match' if ledger['calls_match_fake'] else 'MISMATCH'}); "
                f"{ledger['cancelled']} cancelled in the ledger vs {ledger['fake_disconnected']} dropped at the fake; "
                f"{ledger['calls_with_usage']} rows with usage, {ledger['prompt_tokens']:,} prompt tokens vs "
                f"{ledger['fake_prompt_tokens']:,} at the fake; cost ${ledger['cost_usd']:.6f} vs ${ledger['fake_billed_usd']:.6f} "
                f"billed from the fake's usage; shown {ledger['shown']}, accepted {ledger['accepted']} + "
                f"{ledger['partially_accepted']} partially, {ledger['accepted_chars']} accepted chars; "
                f"hit ratio {_pct(ledger['cache_hit_ratio'])}"
            )
    console.print("[bold]Targets[/] of issue 12 (informational; the bench never asserts)")
    notes = {t.get("note") for t in report["targets"]} - {""}
    for t in report["targets"]:
        colour = {"PASS": "green", "FAIL": "red"}.get(t["status"], "yellow")
        console.print(f"  [{colour}]{t['status']}{'*' if t.get('note') else ''}[/] {t['target']}: {t['detail']}")
    for note in sorted(notes):
        console.print(f"  * {note}")
    phases = ", ".join(f"{'+'.join(p['strategies'])} {p['wall_s']:.1f}s" for p in report["phases"])
    console.print(f"wall time {report['wall_s']:.1f}s ({phases})")
