"""The fake DeepSeek API for the VS Code end-to-end test, with scripted answers.

Run with the project's venv (it imports `tests.fakes` from the repository root):

    .venv/bin/python clients/vscode/e2e/fake_deepseek.py --records OUT.json

Prints the base URL on the first line of stdout and, on the second, the URL of a small control
server whose `GET /requests` answers the requests seen so far (the drive counts FIM calls with
it); serves until SIGTERM/SIGINT, then writes a summary of the requests it saw to `--records`.
Answers:

- FIM: `return 42` when the prompt ends inside `def answer():` (the line the test types), else
  nothing, so automatic completions while typing stay out of the way;
- chat: for a review task, one finding on the line holding `if a == None:` (found by its number
  in the prompt); for a quick edit, the selected `return a + b` rewritten as `return sum((a, b))`
  (the instruction the test types is checked to be in the prompt); for a design, a design whose
  goal is `Cache what answer() returns` when the task names the line of the `# TODO: cache the
  answer` comment (the paragraph at the cursor), else a goal saying what went wrong;
- "Implement this" (told apart by flashpro's task prompts, as in tests/task_script.py): the
  planner gets a two-node plan for `calc.py` (n1 replaces the `# TODO: sub(a, b) returns a - b`
  comment with `sub`, n2 writes `tests/test_calc.py`), whose goal is `Add sub(a, b) to calc.py`
  only when the request names the TODO's line; n1 answers its edit when its prompt shows the
  TODO, n2 its test (mentioning n1's handoff only when that arrived); the acceptance review
  accepts when the diff adds `sub`, else rejects;
- other tasks get the fake's defaults.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))  # the repository root, for `tests.fakes`

from flashpro.tasks.prompts import ACCEPT_SYSTEM, NODE_SYSTEM, PLAN_SYSTEM  # noqa: E402
from tests.fakes.deepseek import FakeDeepSeek  # noqa: E402
from tests.fakes.model import message_text  # noqa: E402

COMPLETION = "return 42"
FLAGGED = "if a == None:"
INSTRUCTION = "use the sum builtin"
REWRITTEN = "    return sum((a, b))\n"
NUMBERED = re.compile(r"^\s*(\d+)\| (.*)$", re.MULTILINE)
INTENT = "# TODO: cache the answer"
DESIGN_GOAL = "Cache what answer() returns"
DESIGN_TASK = re.compile(r"^Task: design how to implement what lines (\S+) of", re.MULTILINE)
TASK_TODO = "# TODO: sub(a, b) returns a - b"
TASK_GOAL = "Add sub(a, b) to calc.py"
TASK_REQUEST = re.compile(r"^Implement what lines (\S+) of (\S+) describe", re.MULTILINE)
TASK_NODE = re.compile(r"Your node: (\S+) — ")
SUB = "def sub(a, b):\n    return a - b\n"
HANDOFF = "sub(a, b) is in calc.py"
TEST_CALC = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"


def fim(request: dict[str, Any]) -> str:
    """The FIM answer: the completion only where the test asks for it."""
    prompt = str(request.get("prompt") or "")
    return COMPLETION if prompt.rstrip(" ").endswith("def answer():\n") else ""


def task_answer(system: str, text: str) -> str | None:
    """The answer to one of a task's calls (planner, node, acceptance), else None."""
    if system == PLAN_SYSTEM:
        request = TASK_REQUEST.search(text)
        where = next((n for n, code in NUMBERED.findall(text) if code.strip() == TASK_TODO), None)
        asked = f"{request.group(1)} of {request.group(2)}" if request else "(no request)"
        goal = TASK_GOAL if asked == f"{where}-{where} of calc.py" else f"e2e: the task is on lines {asked}, the TODO on {where}"
        node = {"role": "implement", "model": "executor", "deps": [], "reads": [], "checks": ["compiles", "lint"], "replicas": 1}
        plan = {
            "goal": goal,
            "decisions": [{"decision": "A plain function next to add()", "reason": "Same module, same style"}],
            "risks": [],
            "acceptance": ["sub(5, 3) == 2"],
            "nodes": [
                {**node, "id": "n1", "title": "Write sub(a, b)", "writes": ["calc.py"],
                 "instructions": "Replace the TODO comment with sub(a, b) returning a - b."},
                {**node, "id": "n2", "title": "Test sub(a, b)", "role": "test", "deps": ["n1"], "reads": ["calc.py"],
                 "writes": ["tests/test_calc.py"], "instructions": "Add tests/test_calc.py asserting sub(5, 3) == 2."},
            ],
        }  # fmt: skip
        return json.dumps(plan)
    if system == NODE_SYSTEM:
        node = TASK_NODE.search(text)
        if node is not None and node.group(1) == "n1":
            edits = [{"path": "calc.py", "search": TASK_TODO + "\n", "replace": SUB}] if TASK_TODO in text else []
            return json.dumps({"edits": edits, "new_files": [], "summary": "sub added", "handoff": HANDOFF})
        content = TEST_CALC if f"Handoff from n1: {HANDOFF}" in text else "# e2e: no handoff from n1\n" + TEST_CALC
        new = [{"path": "tests/test_calc.py", "content": content}]
        return json.dumps({"edits": [], "new_files": new, "summary": "sub tested", "handoff": ""})
    if system == ACCEPT_SYSTEM:
        if "+def sub(a, b):" in text and "+++ b/tests/test_calc.py" in text:
            return json.dumps({"verdict": "accept", "findings": [], "rework": []})
        return json.dumps({"verdict": "reject", "findings": ["e2e: the diff does not add sub and its test"], "rework": []})
    return None


def chat(request: dict[str, Any]) -> str:
    """The chat answer: a task's answers, a review finding, or the fake's usual answers."""
    messages = request.get("messages", [])
    text = "\n".join(message_text(m.get("content")) for m in messages)
    task = task_answer(message_text(messages[0].get("content")) if messages else "", text)
    if task is not None:
        return task
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
    task = DESIGN_TASK.search(text)
    if task:
        where = next((n for n, code in NUMBERED.findall(text) if code.strip() == INTENT), None)
        lines = task.group(1)
        goal = DESIGN_GOAL if lines == where else f"e2e: the task is on lines {lines}, the intent on {where}"
        design = {
            "goal": goal,
            "decisions": [{"decision": "Memoise answer() with functools.cache", "reason": "No arguments"}],
            "steps": [{"title": "Decorate answer()", "detail": "Add @functools.cache", "files": ["main.py"]}],
            "risks": ["A cached value never changes"],
            "acceptance": ["answer() still returns 42"],
        }
        return json.dumps(design)
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


def live(fake: FakeDeepSeek) -> dict[str, Any]:
    """The control server's answer: each request's endpoint, status and, for FIM, its prompt's end."""
    rows = []
    for r in fake.requests:
        prompt = str(r.body.get("prompt") or "") if isinstance(r.body, dict) else ""
        end = prompt[-60:] if r.endpoint == "fim" else None
        rows.append({"endpoint": r.endpoint, "status": r.status, "prompt_end": end})
    return {"requests": rows}


def control(fake: FakeDeepSeek) -> ThreadingHTTPServer:
    """A local HTTP server (its own port) for the drive's questions: `GET /requests`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path != "/requests":
                self.send_error(404)
                return
            body = json.dumps(live(fake)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="e2e-control", daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="where to write the summary")
    args = parser.parse_args()
    fake = FakeDeepSeek(port=0)
    fake.script_fim(fim)
    fake.script_chat(chat)
    fake.start()
    ctl = control(fake)
    print(f"{fake.url}\nhttp://127.0.0.1:{ctl.server_address[1]}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    try:
        args.records.write_text(json.dumps(summary(fake), indent=2) + "\n", encoding="utf-8")
    finally:
        ctl.shutdown()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
