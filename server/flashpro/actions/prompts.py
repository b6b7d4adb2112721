"""The words sent with each action: one shared system message, then a task per action.

The system message is the same for every action and never changes, so it is always served
from DeepSeek's prefix cache. Each task names the lines it is about, asks for json and shows
an example answer (JSON Output needs both), and goes after the file in the user message.
"""

from __future__ import annotations

from flashpro.actions.context import LineSpan

__all__ = ["SYSTEM", "task"]

SYSTEM = (
    "You are flashpro, a senior software engineer working inside the user's editor. "
    "You are given a source file with numbered lines (the numbers and the '| ' after them are "
    "not part of the code), then a task. Answer exactly as the task asks. When it asks for json, "
    "answer with one json object and nothing else. Line numbers in your answer refer to the "
    "numbered lines you were given. Never invent lines you were not shown."
)

_REVIEW = """Task: review lines {lines} of {label} for bugs, security problems, error handling, \
performance and clarity. Report only real, specific problems, most important first; an empty \
list is a fine answer. For each finding give the line range, and, if you can, the exact \
snippet of code (copied verbatim from one of those lines, without the line number) that is \
wrong. Give a replacement only when it is a drop-in replacement for exactly that snippet (or, \
with no snippet, for exactly those whole lines).
Answer in json like this example:
{{"findings": [{{"line_start": 12, "line_end": 12, "snippet": "if x == None:", \
"severity": "warning", "category": "style", "message": "Compare with None using 'is'.", \
"replacement": "if x is None:"}}]}}
severity is one of error, warning, information, hint."""

_DESIGN = """Task: design how to implement what lines {lines} of {label} describe or begin \
(a comment stating the intent, or code to extend). Decide; do not list options without \
choosing. Name the files each step touches.
Answer in json like this example:
{{"goal": "Cache parsed configs per path", \
"decisions": [{{"decision": "Use functools.lru_cache on load()", "reason": "Pure function of the path"}}], \
"steps": [{{"title": "Make load() pure", "detail": "Move the env lookup out", "files": ["app/config.py"]}}], \
"risks": ["Stale cache after the file changes"], \
"acceptance": ["load() twice on one path reads the file once"]}}"""

_QUICK_EDIT = """Task: rewrite lines {lines} of {label} following this instruction: {instruction}
Those lines are exactly:
<<<
{selection}>>>
Keep the indentation and the style of the file; change nothing the instruction does not ask for.
Answer in json like this example, where replacement is the complete new text for those lines:
{{"replacement": "def area(r: float) -> float:\\n    return math.pi * r * r\\n"}}"""

_EXPLAIN = """Task: explain lines {lines} of {label} to a developer new to this code: what it \
does, how, and anything surprising. Be brief and concrete; use Markdown with short paragraphs \
or bullets, no preamble."""

_TESTS = """Task: write unit tests for lines {lines} of {label}, in the framework the project \
most likely uses (pytest for Python). Cover normal cases, edge cases and errors. The file must \
run as it is: include its imports.
Answer in json like this example (path is relative to the project root):
{{"path": "tests/test_area.py", "content": "import math\\n\\nfrom shapes import area\\n\\n\\ndef test_unit_circle():\\n    assert area(1) == math.pi\\n"}}"""

_TASKS = {
    "review": _REVIEW,
    "design": _DESIGN,
    "quickEdit": _QUICK_EDIT,
    "explain": _EXPLAIN,
    "tests": _TESTS,
}


def task(action: str, label: str, span: LineSpan, selection: str = "", instruction: str = "") -> str:
    """The task text for `action` on `span` of the file `label`."""
    if selection and not selection.endswith("\n"):
        selection += "\n"
    return _TASKS[action].format(
        lines=span.label(), label=label, selection=selection, instruction=instruction.strip()
    )
