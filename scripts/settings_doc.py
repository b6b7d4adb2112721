"""Regenerate the settings table in docs/settings.md from the server's settings model.

The table between the `<!-- settings:begin -->` and `<!-- settings:end -->` markers is generated:
every setting, its default and its description, straight from `flashpro.config.Settings`, so the
documentation cannot drift from the code (tests/test_docs.py runs this with --check).

    python scripts/settings_doc.py          # rewrite the table
    python scripts/settings_doc.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from flashpro.config import DEFAULT_EXCLUDE, ActionRoute, Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def _default(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list) and value == list(DEFAULT_EXCLUDE):
        return "secret-file globs (below)"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def rows(model: type[BaseModel] = Settings, prefix: str = "flashpro.") -> list[str]:
    """One Markdown table row per setting, nested sections flattened with dots."""
    out = []
    for name, field in model.model_fields.items():
        key = prefix + to_camel(name)
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel) and not issubclass(kind, ActionRoute):
            out += rows(kind, key + ".")
            continue
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        out.append(f"| `{key}` | {_default(field.get_default(call_default_factory=True))} | {description} |")
    return out


def table() -> str:
    return "\n".join([BEGIN, "| setting | default | meaning |", "|---|---|---|", *rows(), END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/settings.md is out of date")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + table() + text[end:]
    if args.check:
        if updated != text:
            print("docs/settings.md is out of date: run python scripts/settings_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
