"""The provider's own time per call: HTTP, the stream reader and the error checks, on loopback.

    python bench/provider.py            # 300 FIM and 300 chat calls
    python bench/provider.py -n 1000

Drives `DeepSeekProvider` against the fake DeepSeek server in a thread (no latency, no prompt
cache work to speak of): a FIM call streaming three lines and a chat call streaming a short
answer, each timed from the request to the checked end of its stream (`[DONE]` and usage seen,
deadlines armed). Prints p50 / p90 / max per kind. The figure is the floor a real call adds on
top of DeepSeek's own latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flashpro.providers import CallTrace, ChatRequest, DeepSeekProvider, FimRequest  # noqa: E402

from tests.fakes import FakeDeepSeek  # noqa: E402

__all__ = ["main"]

_ANSWER = "    return a + b  # add the two numbers and give the result back\n" * 3


async def _time(n: int, call: Callable[[], Awaitable[str]]) -> list[float]:
    for _ in range(20):  # warm-up: connections, imports
        await call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000.0)
    return sorted(times)


async def measure(n: int) -> dict[str, list[float]]:
    """Milliseconds per call, sorted, for "fim" and "chat"."""
    with FakeDeepSeek() as fake:
        fake.script_fim(lambda body: _ANSWER)
        fake.script_chat(lambda body: _ANSWER)
        provider = DeepSeekProvider("sk-test", fake.url)
        fim = FimRequest("deepseek-v4-flash", "def add(a, b):\n" * 50, "\n", 256)
        chat = ChatRequest("deepseek-v4-flash", [{"role": "user", "content": "Add them. " * 50}], 256)
        try:
            return {
                "fim": await _time(n, lambda: provider.fim(fim, CallTrace())),
                "chat": await _time(n, lambda: provider.chat(chat, CallTrace())),
            }
        finally:
            await provider.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="measured calls per kind (after 20 warm-up ones)")
    args = parser.parse_args(argv)
    for kind, values in asyncio.run(measure(args.n)).items():
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        print(
            f"{kind:>4}: p50 {statistics.median(values):.2f} ms · p90 {p90:.2f} ms · "
            f"max {values[-1]:.2f} ms  (n={len(values)}, loopback fake, no latency)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
