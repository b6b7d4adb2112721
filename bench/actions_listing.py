"""Benchmark: what listing code actions (`textDocument/codeAction`) costs on files of any size.

Owns measuring the listing's time on the server's event loop, in process, through the real
protocol (`FlashproProtocol.receive`, the handlers, the action previews): a document of each
size is opened (its `didOpen`, JSON decoding included, is timed too), then actions are listed three ways: first (cold: nothing cached for this
version), again (same version: caches hit), and after a one-character edit (a new version).
Also prints the first title, so the preview's wording at each size shows. Nothing reaches a
network: the API key is a dummy and no action is run.

Run: ``python bench/actions_listing.py [--sizes 1k,10k,5MB,10MB,50MB] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from typing import Any

__all__ = ["main"]

_FUNCTION = '''def handler_{n}(request, retries=3):
    """Handle request {n}: validate, look up, answer."""
    if request is None:
        raise ValueError("request {n} is empty")
    for attempt in range(retries):
        value = lookup(request.key, attempt)  # may miss
        if value is not None:
            return {{"id": {n}, "value": value}}
    return None


'''


def source(size: str) -> str:
    """Python-like text: `1k` / `10k` lines, or `5MB` / `50MB` of characters."""
    header = "import os\nimport sys\nfrom pathlib import Path\n\n\n"
    lines_per_block = _FUNCTION.count("\n")
    if size.endswith("k"):
        blocks = int(size[:-1]) * 1000 // lines_per_block
        return header + "".join(_FUNCTION.format(n=n) for n in range(blocks))
    target = int(float(size[:-2]) * 1_000_000)
    block = len(_FUNCTION.format(n=0))
    return header + "".join(_FUNCTION.format(n=n) for n in range(target // block + 1))


class _Wire:
    def __init__(self) -> None:
        self.answers: dict[Any, dict[str, Any]] = {}

    def write(self, data: bytes) -> None:
        message = json.loads(data)
        if "id" in message and "method" not in message:
            self.answers[message["id"]] = message

    def close(self) -> None:
        pass


async def _run(sizes: list[str], repeat: int) -> None:
    from flashpro.lsp import create_server

    server = create_server()
    protocol = server.protocol
    wire = _Wire()
    protocol.set_writer(wire, include_headers=False)
    ids = iter(range(1, 1_000_000))

    def send(method: str, params: Any, request: bool = True) -> Any:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            message["id"] = msg_id = next(ids)
        protocol.receive(json.dumps(message).encode())  # type: ignore[attr-defined]
        return wire.answers.pop(msg_id) if request else None

    caps = {"textDocument": {"codeAction": {"dataSupport": True, "resolveSupport": {"properties": ["command"]}}}}
    send("initialize", {"capabilities": caps, "rootUri": "file:///bench", "initializationOptions": {"apiKey": "sk-bench"}})
    print(f"{'size':>6} {'lines':>9} {'open ms':>8} {'first ms':>9} {'again ms':>9} {'edited ms':>10}  first title")
    for size in sizes:
        text = source(size)
        uri = f"file:///bench/{size}.py"
        start = time.perf_counter()
        send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}, False)
        opened = (time.perf_counter() - start) * 1000
        line = text.count("\n") // 2
        params = {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
            "context": {"diagnostics": []},
        }
        timings: dict[str, list[float]] = {"first": [], "again": [], "edited": []}
        title = ""
        for round_ in range(repeat):
            for kind in ("first", "again", "edited"):
                if kind in ("first", "edited"):
                    edit = {"range": params["range"], "text": "#" if round_ % 2 == 0 else ""}
                    version = 2 + round_ * 2 + (kind == "edited")
                    send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [edit]}, False)
                start = time.perf_counter()
                answer = send("textDocument/codeAction", params)
                timings[kind].append((time.perf_counter() - start) * 1000)
                assert "result" in answer, answer
                title = answer["result"][0]["title"]
        best = {kind: min(values) for kind, values in timings.items()}
        print(
            f"{size:>6} {text.count(chr(10)):>9} {opened:>8.0f} {best['first']:>9.1f} {best['again']:>9.1f} {best['edited']:>10.1f}  {title}"
        )
        send("textDocument/didClose", {"textDocument": {"uri": uri}}, False)
    await server.core.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,5MB,10MB,50MB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["FLASHPRO_LEDGER"] = os.path.join(scratch, "ledger.sqlite3")
        asyncio.run(_run(args.sizes.split(","), args.repeat))


if __name__ == "__main__":
    main()
