"""The fake DeepSeek API for the VS Code end-to-end test, with scripted answers.

Run with the project's venv (it imports `tests.fakes` from the repository root):

    .venv/bin/python clients/vscode/e2e/fake_deepseek.py --records OUT.json

Prints the base URL on the first line of stdout, serves until SIGTERM/SIGINT, then writes a
summary of the requests it saw to `--records`. Answers:

- FIM: `return 42` when the prompt ends inside `def answer():` (the line the test types), else
  nothing, so automatic completions while typing stay out of the way;
- chat: for a review task, one finding on the line holding `if a == None:` (found by its number
  in the prompt); for a quick edit, the selected `return a + b` rewritten as `return sum((a, b))`
  (the instruction the test types is checked to be in the prompt); other tasks get the fake's
  defaults.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))  # the repository root, for `tests.fakes`

from tests.fakes.deepseek import FakeDeepSeek  # noqa: E402
from tests.fakes.model import message_text  # noqa: E402

COMPLETION = "return 42"
FLAGGED = "if a == None:"
INSTRUCTION = "use the sum builtin"
REWRITTEN = "    return sum((a, b))\n"
NUMBERED = re.compile(r"^\s*(\d+)\| (.*)$", re.MULTILINE)


def fim(request: dict[str, Any]) -> str:
    """The FIM answer: the completion only where the test asks for it."""
    prompt = str(request.get("prompt") or "")
    return COMPLETION if prompt.rstrip(" ").endswith("def answer():\n") else ""


def chat(request: dict[str, Any]) -> str:
    """The chat answer: a review finding, or the fake's usual answers."""
    text = "\n".join(message_text(m.get("content")) for m in request.get("messages", []))
    json_mode = (request.get("response_format") or {}).get("type") == "json_object"
    if "Task: review" in text:
        line = next((int(n) for n, code in NUMBERED.findall(text) if FLAGGED in code), 1)
        finding = {
            "line_start": line,
            "line_end": line,
            "snippet": FLAGGED,
            "severity": "warning",
            "category": "style",
            "message": "e2e: compare with None using 'is'.",
            "replacement": "if a is None:",
        }
        return json.dumps({"findings": [finding]})
    if "Task: rewrite lines" in text:
        replacement = REWRITTEN if INSTRUCTION in text else "    # no instruction arrived\n"
        return json.dumps({"replacement": replacement})
    return '{"answer": "ok"}' if json_mode else "OK"


def summary(fake: FakeDeepSeek) -> dict[str, Any]:
    """What the test checks afterwards: requests per endpoint, and whether each carried a key."""
    return {
        "requests": [
            {"endpoint": r.endpoint, "status": r.status, "auth_valid": r.auth_valid, "text": r.text}
            for r in fake.requests
        ]
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="where to write the summary")
    args = parser.parse_args()
    fake = FakeDeepSeek(port=0)
    fake.script_fim(fim)
    fake.script_chat(chat)
    fake.start()
    print(fake.url, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    try:
        args.records.write_text(json.dumps(summary(fake), indent=2) + "\n", encoding="utf-8")
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
