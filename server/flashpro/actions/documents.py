"""Answers that become files: designs (Markdown + JSON) and explanations (Markdown).

They are written under `<workspace>/.flashpro/` (designs in `designs/`, explanations in
`notes/`) with names made from the UTC time and the source file, so nothing is overwritten
and a later step can read the design's JSON back.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from flashpro.actions.schemas import Design

__all__ = ["design_markdown", "write_design", "write_note"]


def design_markdown(design: Design, source: str, lines: str) -> str:
    """A design as a Markdown document."""
    out = [f"# Design: {design.goal}", "", f"_From {source}, lines {lines}._", ""]
    if design.decisions:
        out += ["## Decisions", ""]
        out += [f"- **{d.decision}**" + (f" — {d.reason}" if d.reason else "") for d in design.decisions]
        out.append("")
    out += ["## Steps", ""]
    for number, step in enumerate(design.steps, 1):
        files = f" (`{'`, `'.join(step.files)}`)" if step.files else ""
        out.append(f"{number}. **{step.title}**{files}")
        if step.detail:
            out.append(f"   {step.detail}")
    out.append("")
    if design.risks:
        out += ["## Risks", "", *(f"- {risk}" for risk in design.risks), ""]
    if design.acceptance:
        out += ["## Acceptance checks", "", *(f"- [ ] {check}" for check in design.acceptance), ""]
    return "\n".join(out)


def _stem(source: str, when: datetime) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(source).name).strip("-") or "file"
    return f"{when.strftime('%Y%m%d-%H%M%S')}-{name}"


def _unique(folder: Path, stem: str, suffix: str) -> Path:
    path = folder / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


def write_design(root: Path, design: Design, source: str, lines: str, when: datetime) -> Path:
    """Write the design's Markdown and JSON; returns the Markdown path."""
    folder = root / ".flashpro" / "designs"
    folder.mkdir(parents=True, exist_ok=True)
    markdown = _unique(folder, _stem(source, when), ".md")
    markdown.write_text(design_markdown(design, source, lines), encoding="utf-8")
    payload = {"source": source, "lines": lines, "created_utc": when.isoformat(), **design.model_dump()}
    markdown.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return markdown


def write_note(root: Path, title: str, body: str, source: str, when: datetime) -> Path:
    """Write an explanation as Markdown; returns its path."""
    folder = root / ".flashpro" / "notes"
    folder.mkdir(parents=True, exist_ok=True)
    path = _unique(folder, _stem(source, when), ".md")
    path.write_text(f"# {title}\n\n{body.strip()}\n", encoding="utf-8")
    return path
