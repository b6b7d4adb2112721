"""flashpro's own time per inline request on a 10,000-line file, the API call excluded.

    python bench/overhead.py            # 300 requests (about 20 s)
    python bench/overhead.py -n 1000
    python bench/overhead.py --secret   # a secret near the top: every prompt is redacted

Runs the real `Flashpro` core in-process (no LSP transport) against the fake DeepSeek server in
a thread. For each request it types one character into the bench's 10,000-line file (an
incremental change, as an editor sends it), then asks for an invoked completion (no debounce,
no type-through reuse) at the cursor. The time inside flashpro is the request's wall time minus
the provider's FIM call (HTTP, the openai SDK and the fake's answer), so it covers document
sync, the cache-aware layout with exact token counts, extra context, post-processing and
bookkeeping (ledger writes are queued to their thread). Prints p50 / p90 / p99 / max.

The LSP-level figure (JSON-RPC over stdio included) is the replay's "overhead probe"
(`python bench/replay.py --large`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flashpro.app import Flashpro  # noqa: E402
from flashpro.documents import TextChange  # noqa: E402

from bench.replay_scenarios import large_scenario  # noqa: E402
from tests.fakes import FakeDeepSeek  # noqa: E402


class _Quiet:
    """A frontend that drops everything (the bench measures the core, not the editor)."""

    def show_message(self, level: str, text: str) -> None: ...

    def publish_spend(self, uri: str, message: str | None, severity: str) -> None: ...

    def send_status(self, status: dict[str, Any]) -> None: ...

    def publish_review(self, uri: str) -> None: ...


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


_SECRET_LINE = 'AWS_SECRET_ACCESS_KEY = "FlashproBenchSecret/0123456789+abcdefghij"\n'


async def measure(n: int, secret: bool = False) -> list[float]:
    sc = large_scenario(7)
    text = sc.original[: sc.start] + sc.original[sc.end :]
    start = sc.start
    if secret:  # at the top of the file, so the prompt's head holds it: redacted on every request
        text, start = _SECRET_LINE + text, start + len(_SECRET_LINE)
    with FakeDeepSeek() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.script_fim(lambda body: "    return value\n")
        core = Flashpro(_Quiet(), env={})
        core.configure(
            init_options={
                "apiKey": "sk-test",
                "baseUrl": fake.url,
                "ledgerPath": str(Path(tmp) / "l.sqlite3"),
            }
        )
        core.open_document(sc.uri, "python", 1, text)
        doc = core.documents.get(sc.uri)
        assert doc is not None
        line = text[:start].count("\n")
        column = len(text[:start].rsplit("\n", 1)[-1])
        api: list[float] = []
        provider = core.meter.provider
        original = provider.fim

        async def timed(*args: Any, **kwargs: Any) -> str:
            began = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                api.append(time.perf_counter() - began)

        provider.fim = timed  # type: ignore[method-assign]
        overheads: list[float] = []
        typed = "value_of_x"
        for i in range(n + 20):  # the first 20 warm the tokenizer, caches and connection pool
            char = typed[i % len(typed)]
            began = time.perf_counter()
            core.change_document(sc.uri, doc.version + 1, [TextChange(char, (line, column), (line, column))])
            column += 1
            api.clear()
            await core.completion.complete(doc, line, column, invoked=True)
            total = time.perf_counter() - began
            if i >= 20 and api:
                overheads.append((total - sum(api)) * 1000)
            if column > 60:  # keep the line short: start a new one
                core.change_document(
                    sc.uri, doc.version + 1, [TextChange("\n    ", (line, column), (line, column))]
                )
                line, column = line + 1, 4
        await core.shutdown()
    return overheads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="measured requests (after 20 warm-up ones)")
    parser.add_argument("--secret", action="store_true", help="plant a secret at the top (redaction on)")
    args = parser.parse_args(argv)
    values = asyncio.run(measure(args.n, args.secret))
    what = ", a secret redacted from every prompt" if args.secret else ""
    print(f"flashpro in-process overhead per invoked inline request, 10,000-line file{what}, n={len(values)}")
    print(
        f"  p50 {statistics.median(values):.2f} ms · p90 {_percentile(values, 0.9):.2f} ms · "
        f"p99 {_percentile(values, 0.99):.2f} ms · max {max(values):.2f} ms"
    )
    target = _percentile(values, 0.99)
    print(
        f"  {'PASS' if target <= 5 else 'FAIL'} server overhead p99 <= 5 ms on a 10,000-line file ({target:.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
