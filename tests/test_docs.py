"""The documentation stays true to the code: every setting is documented with its real default."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import settings_doc

ROOT = Path(__file__).resolve().parents[1]


def test_the_settings_page_is_generated_from_the_settings_model() -> None:
    assert settings_doc.main(["--check"]) == 0, "run: python scripts/settings_doc.py"


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_docs_link_only_inside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in __import__("re").findall(r"\]\(([^)#]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to a missing file: {target}"


def test_the_readme_quotes_the_neovim_configuration_the_tests_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = (ROOT / "tests" / "neovim" / "init.lua").read_text(encoding="utf-8").split("\n", 2)[2].rstrip()
    assert code in readme
