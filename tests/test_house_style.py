"""The package's own rules, checked for every module: only `lsp/` imports the LSP library,
each module says what it owns, keeps to a readable size and exports a sorted `__all__`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flashpro

PACKAGE = Path(flashpro.__file__).parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _isort_key(name: str) -> tuple[int, str]:
    """isort / ruff RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_follows_the_house_style(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), "a module docstring saying what it owns"
    assert "from __future__ import annotations" in source
    assert source.count("\n") <= 500, "modules stay under 500 lines"
    if path.parent.name != "lsp":
        imported = {
            (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        assert not imported & {"pygls", "lsprotocol"}, "only flashpro.lsp imports the LSP library"
    exported = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__"
    ]
    if path.name not in ("__main__.py",):
        assert exported, "public names are declared in __all__"
        names = [ast.literal_eval(element) for element in exported[0].elts]  # type: ignore[attr-defined]
        assert names == sorted(names, key=_isort_key), "__all__ is sorted (constants, classes, functions)"


FEATURES = {"completion", "actions", "tasks"}
"""Feature packages: each builds on the shared layers (calls, accounting, documents, ...) and none
imports another, so a feature can be read, changed or removed on its own."""


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_feature_imports_another_and_the_seam_imports_none(path: Path) -> None:
    package = path.relative_to(PACKAGE).parts[0]
    if package not in FEATURES | {"calls", "accounting", "ledger", "providers", "documents", "tokens"}:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        parts[1]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for parts in [node.module.split(".")]
        if parts[0] == "flashpro" and len(parts) > 1
    }
    allowed_features = {package} if package in FEATURES else set()
    assert not (imported & FEATURES) - allowed_features, f"{package} imports {imported & FEATURES}"
