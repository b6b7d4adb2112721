"""Fake DeepSeek API server: public facade and command line.

Re-exports the pieces tests code against (`FakeDeepSeek`, `RequestRecord`, `Answer`,
`PromptCache`) and runs the fake by hand:

    python -m tests.fakes.deepseek --port 0        # prints http://127.0.0.1:PORT, Ctrl-C stops

Layout of the implementation: `server` (HTTP endpoints, records, injection), `transport`
(socket I/O and disconnect detection), `model` (token layouts, scripted answers), `validate`
(what DeepSeek refuses), `wire` (JSON/SSE shapes), `cache_model` (the prompt cache).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tests.fakes.cache_model import CacheLookup, PromptCache
from tests.fakes.model import Answer
from tests.fakes.server import DEFAULT_KEYS, DEFAULT_MODELS, FakeDeepSeek, RequestRecord

__all__ = [
    "DEFAULT_KEYS",
    "DEFAULT_MODELS",
    "Answer",
    "CacheLookup",
    "FakeDeepSeek",
    "PromptCache",
    "RequestRecord",
    "main",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.deepseek", description="Run the fake DeepSeek API server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--key", action="append", dest="keys", help="accepted API key (repeatable)")
    parser.add_argument("--model", action="append", dest="models", help="listed model id (repeatable)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before the first byte")
    parser.add_argument("--latency-per-miss-token", type=float, default=0.0)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between stream chunks")
    parser.add_argument("--no-cache", action="store_true", help="disable the prompt cache")
    parser.add_argument("--cache-interval", type=int, default=128)
    parser.add_argument("--cache-min-unit", type=int, default=64)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    server = FakeDeepSeek(
        host=args.host,
        port=args.port,
        api_keys=args.keys or DEFAULT_KEYS,
        models=args.models or DEFAULT_MODELS,
        cache_enabled=not args.no_cache,
        cache_interval=args.cache_interval or None,
        cache_min_unit=args.cache_min_unit,
        latency_s=args.latency,
        latency_per_miss_token_s=args.latency_per_miss_token,
        chunk_delay_s=args.chunk_delay,
    )
    try:
        server.start()
        print(server.url, flush=True)
        print(f"FIM base URL: {server.beta_url}   Ctrl-C stops", file=sys.stderr, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
