"""What the offline model answers to flashpro's code actions, built from the prompt it is sent.

The action is recognised from the task flashpro writes (`Task: review lines ...`), the file from
its numbered lines (`   12| code`). Answers are made with the very schemas flashpro validates
(`flashpro.actions.schemas`), so they always parse:

- review: a few rule-based findings on the lines asked about (`== None`, a bare `except:`, a
  mutable default argument, `open()` outside `with`, a `print` left in library code), each
  with the exact snippet and, where it is a drop-in, a replacement;
- design: a goal taken from the comment at the cursor, steps over the functions the file has;
- quick edit: the selection unchanged; tests: a small pytest file; explain: a short summary.

Every text says it is simulated; nothing here pretends to be a real model's judgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from flashpro.actions.schemas import (
    Decision,
    Design,
    DesignStep,
    Finding,
    QuickEditAnswer,
    Review,
    TestsAnswer,
)

__all__ = ["Prompt", "action_of", "answer_action", "parse_prompt"]

_NUMBERED = re.compile(r"^\s*(\d+)\| ?(.*)$")
_TASK = re.compile(r"^Task: (?P<verb>review|design|rewrite|explain|write unit tests)\b", re.M)
_LINES = re.compile(
    r"lines (?P<a>\d+)(?:-(?P<b>\d+))? of (?P<label>.+?)"
    r"(?= for bugs| describe| following| to a developer|, in the)"
)
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")
_CLASS = re.compile(r"^\s*class\s+([A-Za-z_]\w*)")
_VERBS = {
    "review": "review",
    "design": "design",
    "rewrite": "quickEdit",
    "explain": "explain",
    "write unit tests": "tests",
}


@dataclass(frozen=True, slots=True)
class Prompt:
    """What an action prompt says: the action, the file's label, the lines, the file's lines."""

    action: str
    label: str
    start: int
    end: int
    lines: dict[int, str]
    selection: str


def action_of(text: str) -> str | None:
    """The action a chat prompt asks for (`review`, `design`, ...), or None."""
    found = _TASK.search(text)
    return _VERBS[found.group("verb")] if found else None


def parse_prompt(text: str) -> Prompt | None:
    """The parts of an action prompt the answers need, or None for any other chat."""
    found = _TASK.search(text)
    span = _LINES.search(text, found.end()) if found is not None else None
    if found is None or span is None:
        return None
    start = int(span.group("a"))
    end = int(span.group("b") or start)
    lines: dict[int, str] = {}
    for line in text[: found.start()].splitlines():
        numbered = _NUMBERED.match(line)
        if numbered:
            lines[int(numbered.group(1))] = numbered.group(2)
    selection = ""
    if "<<<\n" in text and ">>>" in text:
        selection = text.split("<<<\n", 1)[1].rsplit(">>>", 1)[0]
    return Prompt(_VERBS[found.group("verb")], span.group("label").strip(), start, end, lines, selection)


def _review(prompt: Prompt) -> str:
    findings: list[Finding] = []
    for number in range(prompt.start, prompt.end + 1):
        line = prompt.lines.get(number)
        if line is None:
            continue
        findings.extend(_findings(number, line))
    return Review(findings=findings[:8]).model_dump_json()


def _findings(number: int, line: str) -> list[Finding]:
    """Rule-based findings on one line (the offline model's whole review skill)."""
    found: list[Finding] = []
    code = line.split("#", 1)[0]
    for match in re.finditer(r"([\w.\[\]'\"]+) (==|!=) None\b", code):
        fixed = f"{match.group(1)} {'is' if match.group(2) == '==' else 'is not'} None"
        found.append(
            Finding(
                line_start=number,
                line_end=number,
                snippet=match.group(0),
                severity="warning",
                category="correctness",
                message="Compare with None using 'is' / 'is not': '==' can be overridden.",
                replacement=fixed,
            )
        )
    if re.match(r"^\s*except\s*:", code):
        found.append(
            Finding(
                line_start=number,
                line_end=number,
                snippet="except:",
                severity="warning",
                category="error-handling",
                message="A bare 'except:' also catches KeyboardInterrupt and SystemExit; "
                "name the exceptions this code expects.",
                replacement="except Exception:",
            )
        )
    default = re.search(r"\w+\s*(?::\s*[^=,)]+)?=\s*(\[\]|\{\})", code)
    if _DEF.match(code) and default:
        found.append(
            Finding(
                line_start=number,
                line_end=number,
                snippet=default.group(0),
                severity="warning",
                category="bug",
                message="A mutable default argument is shared between calls; default to None "
                "and create the container inside the function.",
            )
        )
    if re.search(r"(?<!with )\bopen\(", code) and not code.lstrip().startswith("with "):
        found.append(
            Finding(
                line_start=number,
                line_end=number,
                snippet="open(",
                severity="information",
                category="resources",
                message="This file handle is never closed on an error; use 'with open(...)'.",
            )
        )
    if re.match(r"^\s+print\(", code):
        found.append(
            Finding(
                line_start=number,
                line_end=number,
                severity="hint",
                category="style",
                message="A print() in library code; return the value or use logging.",
            )
        )
    return found


def _names(prompt: Prompt) -> list[str]:
    names = []
    for number in sorted(prompt.lines):
        line = prompt.lines[number]
        found = _DEF.match(line) or _CLASS.match(line)
        if found and not line.startswith((" ", "\t")) and found.group(1) not in names:
            names.append(found.group(1))
    return names


def _intent(prompt: Prompt) -> str:
    """The comment at the target lines, without its marker and `TODO:` (the design's goal)."""
    words = []
    for number in range(prompt.start, prompt.end + 1):
        line = prompt.lines.get(number, "").strip()
        if line.startswith(("#", "//")):
            text = line.lstrip("#/ ").strip()
            text = re.sub(r"^(TODO|FIXME|XXX)\b:?\s*", "", text)
            if text:
                words.append(text)
    return " ".join(words)


def _design(prompt: Prompt) -> str:
    goal = _intent(prompt) or f"Extend lines {prompt.start}-{prompt.end} of {prompt.label}"
    names = _names(prompt)
    label = prompt.label
    stem = PurePosixPath(label).stem
    near = ", ".join(names[:3]) if names else "the existing code"
    design = Design(
        goal=goal.rstrip(".") + " (simulated design)",
        decisions=[
            Decision(
                decision=f"Build on {near} in {label} rather than a new module",
                reason="The data and helpers it needs already live there.",
            ),
            Decision(
                decision="Keep the new code a pure function with the I/O at the edge",
                reason="It can then be tested without files or a network.",
            ),
        ],
        steps=[
            DesignStep(
                title="Write the core as one function",
                detail=f"Next to {names[-1] if names else 'the code'}; inputs and outputs typed.",
                files=[label],
            ),
            DesignStep(
                title="Call it from the existing entry point",
                detail=f"Reuse {names[0] if names else 'the current flow'}; no behaviour change otherwise.",
                files=[label],
            ),
            DesignStep(
                title="Add tests for the normal case and the edge cases",
                detail="Empty input, one item, a malformed item.",
                files=[f"tests/test_{stem}.py"],
            ),
        ],
        risks=["Existing callers may rely on the current output format."],
        acceptance=[f"{goal.rstrip('.')}: covered by a test that fails before the change."],
    )
    return design.model_dump_json()


def _tests(prompt: Prompt) -> str:
    stem = PurePosixPath(prompt.label).stem
    names = [n for n in _names(prompt) if not n[:1].isupper()][:3]
    body = "".join(
        f"\n\ndef test_{name}_exists() -> None:\n    assert callable({stem}.{name})\n" for name in names
    ) or "\n\ndef test_module_imports() -> None:\n    assert " + stem + "\n"
    content = f'"""Tests for {prompt.label} (simulated)."""\n\nimport {stem}\n{body}'
    return TestsAnswer(path=f"tests/test_{stem}.py", content=content).model_dump_json()


def _explain(prompt: Prompt) -> str:
    names = _names(prompt)
    listed = ", ".join(f"`{n}`" for n in names[:6]) or "no top-level definitions"
    return (
        f"*Simulated explanation (offline model).*\n\n"
        f"- Lines {prompt.start}-{prompt.end} of `{prompt.label}`.\n"
        f"- The file defines {listed}.\n"
    )


def answer_action(text: str) -> tuple[str, str] | None:
    """(action, answer text) for an action prompt, or None for any other chat."""
    prompt = parse_prompt(text)
    if prompt is None:
        return None
    if prompt.action == "review":
        return "review", _review(prompt)
    if prompt.action == "design":
        return "design", _design(prompt)
    if prompt.action == "quickEdit":
        return "quickEdit", QuickEditAnswer(replacement=prompt.selection).model_dump_json()
    if prompt.action == "tests":
        return "tests", _tests(prompt)
    return "explain", _explain(prompt)
