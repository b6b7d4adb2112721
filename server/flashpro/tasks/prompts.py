"""The words a task sends: the planner's request, each node's, the acceptance review.

Node prompts are laid out for DeepSeek's prefix cache: the system message and the plan (goal,
decisions, acceptance, every node's title and files) come first and are byte-identical for every
node of a task, so each node after the first reads them from the cache; the node's own
instructions, files and the handoffs of the nodes it depends on come after. A retry appends the
model's previous answer and what went wrong, so the whole earlier conversation is a cache hit too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from flashpro.privacy import flavor_for, shared_scanner
from flashpro.tasks.plan import Plan, PlanNode
from flashpro.tokens import count

__all__ = [
    "ACCEPT_SYSTEM",
    "NODE_SYSTEM",
    "PLAN_SYSTEM",
    "acceptance_message",
    "design_request",
    "node_messages",
    "plan_head",
    "planning_message",
    "retry_feedback",
    "selection_request",
]

PLAN_SYSTEM = """You are flashpro's planner, a senior engineer. You break a change into a small \
graph of nodes that a cheaper model will carry out one by one, each with its own short context. \
The server checks every node's result with real tools and asks you to accept the combined change \
at the end. Decide; do not list options. Keep nodes few (one per coherent change to one or two \
files); put tests in their own node when the change needs new tests. A node sees only the files \
it lists in reads and writes, plus short handoffs from the nodes it depends on.
Checks a node may ask for: "compiles", "lint", "tests:<pytest selector>" (e.g. \
"tests:tests/test_a.py"), and the named checks listed below. Paths are relative to the project \
root. Answer with one json object and nothing else, like this example:
{"goal": "Cache parsed configs per path", \
"decisions": [{"decision": "Use functools.lru_cache on load()", "reason": "load is a pure function of the path"}], \
"risks": ["Stale cache after the file changes"], \
"acceptance": ["load() twice on one path reads the file once"], \
"nodes": [{"id": "n1", "title": "Cache load()", "role": "implement", "model": "executor", "deps": [], \
"reads": [], "writes": ["app/config.py"], "instructions": "Decorate load() with functools.lru_cache(maxsize=64) and import functools.", \
"checks": ["compiles", "lint"], "replicas": 1}, \
{"id": "n2", "title": "Test the cache", "role": "test", "model": "executor", "deps": ["n1"], \
"reads": ["app/config.py"], "writes": ["tests/test_config.py"], "instructions": "Add a test that loads one path twice and asserts one read.", \
"checks": ["compiles", "tests:tests/test_config.py"], "replicas": 1}]}"""

NODE_SYSTEM = """You are flashpro's executor: you carry out one node of a plan by editing files. \
Change only what your node's instructions ask for, in the files you are allowed to write; keep \
the style of the code around you. Answer with one json object and nothing else, like this example:
{"edits": [{"path": "app/config.py", "search": "def load(path):\\n", \
"replace": "@functools.lru_cache(maxsize=64)\\ndef load(path):\\n"}], \
"new_files": [{"path": "tests/test_config.py", "content": "from app.config import load\\n"}], \
"summary": "load() is cached", "handoff": "load() is now cached with lru_cache(maxsize=64)"}
Each search must be copied exactly from the file as shown (whole lines, with their indentation) \
and must occur exactly once in it; include enough lines to make it unique. Use new_files only \
for files that do not exist yet. handoff is one or two sentences the nodes after you need to know."""

ACCEPT_SYSTEM = """You are flashpro's planner, reviewing the combined result of a plan you \
made, before the user sees it. You get the plan's goal and acceptance criteria, the diff of every \
change, and the report of the checks the server ran. Accept when the change does what the goal \
asks and meets the criteria; ask for rework of specific nodes (by id) when a node's result is \
wrong and another attempt can fix it; reject when the change should not be applied. Answer with \
one json object and nothing else, like this example:
{"verdict": "rework", "findings": ["n2's test does not assert the single read"], "rework": ["n2"]}"""


def planning_message(
    source: str,
    files: Sequence[str],
    checks: Iterable[str],
    run_tests: bool,
    limits: tuple[int, int],
) -> str:
    """The planner's user message: what to implement, the project's files, the checks offered."""
    named = ", ".join(f'"{name}"' for name in checks) or "none"
    tests = "" if run_tests else " (tests: checks are skipped in this workspace unless the user allows them)"
    listing = "\n".join(files) if files else "(no files listed)"
    return (
        f"{source}\n\nProject files:\n{listing}\n\nNamed checks: {named}{tests}.\n"
        f"At most {limits[0]} nodes and {limits[1]} files. Plan the change now, in json."
    )


def plan_head(plan: Plan) -> str:
    """The plan as every node sees it (the cached part of each node prompt)."""
    data = plan.model_dump(include={"goal", "decisions", "acceptance"})
    data["nodes"] = [
        node.model_dump(include={"id", "title", "deps", "reads", "writes"}) for node in plan.nodes
    ]
    return "The plan:\n" + json.dumps(data, indent=1, ensure_ascii=False) + "\n\n"


def node_messages(
    head: str,
    node: PlanNode,
    files: Mapping[str, str | None],
    handoffs: Mapping[str, str],
    budget: int,
    extra: str = "",
) -> list[dict[str, str]]:
    """A node's two messages: the shared head, then its own part within `budget` tokens."""
    parts = [
        f"Your node: {node.id} — {node.title}\nInstructions: {node.instructions}\n"
        f"You may write: {', '.join(node.writes) or '(nothing)'}\n"
    ]
    if extra:
        parts.append(f"\n{extra}\n")
    for dep, handoff in handoffs.items():
        parts.append(f"\nHandoff from {dep}: {handoff}\n")
    used = count(NODE_SYSTEM) + count(head) + sum(count(p) for p in parts) + 64
    scanner = shared_scanner()
    for path, text in files.items():
        redacted = scanner.redact(text, flavor_for(path)) if text is not None else None
        if text is None:
            block = f"\nFile {path} does not exist yet.\n"
        elif redacted is not None and redacted.blocked:
            block = f"\nFile {path} holds a private key; it is not shown.\n"
        else:
            text = redacted.text if redacted is not None else text
            block = f"\nFile {path}:\n```\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}```\n"
            size = count(block)
            if used + size > budget:
                outline = "".join(
                    line for line in text.splitlines(keepends=True) if line.lstrip().startswith(("def ", "class ", "async def "))
                )
                block = f"\nFile {path} is too large to show whole; its definitions:\n```\n{outline}```\n"
        size = count(block)
        if used + size > budget:
            block = f"\nFile {path} is too large to show.\n"
            size = count(block)
        parts.append(block)
        used += size
    return [{"role": "system", "content": NODE_SYSTEM}, {"role": "user", "content": head + "".join(parts)}]


def retry_feedback(problems: Sequence[str], checks: Sequence[str], budget_chars: int = 6000) -> str:
    """What went wrong with the previous answer, trimmed to fit."""
    text = "\n".join([*problems, *checks])
    if len(text) > budget_chars:
        text = text[: budget_chars // 3] + "\n…\n" + text[-(2 * budget_chars) // 3 :]
    return (
        "Your previous answer did not pass. The files are back as they were before it.\n"
        f"{text}\nAnswer again with the complete json."
    )


def acceptance_message(plan: Plan, diff: str, report: str, budget_chars: int = 60_000) -> str:
    """The acceptance review's user message."""
    if len(diff) > budget_chars:
        diff = diff[:budget_chars] + "\n… (diff cut)\n"
    criteria = "\n".join(f"- {item}" for item in plan.acceptance) or "- (none given)"
    nodes = "\n".join(f"- {node.id}: {node.title}" for node in plan.nodes)
    return (
        f"Goal: {plan.goal}\nAcceptance criteria:\n{criteria}\nNodes:\n{nodes}\n\n"
        f"Checks:\n{report}\n\nDiff:\n{diff}\nYour verdict, in json."
    )


def selection_request(label: str, lines: Sequence[str], start: int, end: int, budget: int) -> str:
    """What to implement from a selection: the file (numbered; a window around the selection
    when the whole file does not fit `budget` tokens) and which lines state the intent."""
    first, last = 0, len(lines)
    numbered = [f"{i + 1:>5}| {line.rstrip(chr(10))}\n" for i, line in enumerate(lines)]
    while first < last and sum(count(line) for line in numbered[first:last]) > budget:
        # shrink the window around the selection, keeping it centred
        if start - first > last - end:
            first = min(first + max((start - first) // 2, 1), start)
        else:
            last = max(last - max((last - end) // 2, 1), end + 1)
        if first == start and last == end + 1:
            break
    shown = "".join(numbered[first:last])
    where = f"lines {first + 1}-{last}" if (first, last) != (0, len(lines)) else "the whole file"
    return (
        f"Implement what lines {start + 1}-{end + 1} of {label} describe or begin (a comment "
        f"stating the intent, or code to complete or change). {label}, {where}, with line numbers "
        f"(not part of the code):\n{shown}"
    )


def design_request(label: str, text: str) -> str:
    """What to implement from a design document the user may have edited."""
    return f"Implement this design ({label}), as written:\n\n{text.strip()}\n"
