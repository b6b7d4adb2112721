"""Imported modules read from disk: resolved inside the workspace only, private files never read."""

from __future__ import annotations

import os
from pathlib import Path

from flashpro.completion.extra import imported_paths
from flashpro.completion.workspace import WorkspaceModules


def resolve(modules: WorkspaceModules, current: Path, head: str) -> list[str]:
    found: list[str] = []
    for stem, exact in imported_paths(str(current), head):
        found += modules.find(stem, exact, str(current))
    return found


def test_python_js_and_go_imports_resolve_to_workspace_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "util.py").write_text("def helper(x):\n    return x\n\ndef _hidden():\n    pass\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "models.py").write_text("class User:\n    name: str = ''\n")
    modules = WorkspaceModules([tmp_path.as_uri()])
    main = tmp_path / "main.py"
    found = resolve(modules, main, "from pkg.util import helper\nimport models\nimport os\n")
    assert found == [str(tmp_path / "pkg" / "util.py"), str(tmp_path / "src" / "models.py")]
    assert modules.outline(found[0]) == "def helper(x):\n"  # public signatures only
    assert modules.outline(found[1]) == "class User:\n    name: str = ''\n"

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "api.ts").write_text("export function get(url: string): string {\n  return url;\n}\nfunction local() {}\n")
    found = resolve(modules, tmp_path / "web" / "app.ts", "import { get } from './api';\nimport React from 'react';\n")
    assert found == [str(tmp_path / "web" / "api.ts")]
    assert modules.outline(found[0]) == "export function get(url: string): string {\n"

    (tmp_path / "go.mod").write_text("module example.com/shop\n\ngo 1.22\n")
    (tmp_path / "cart").mkdir()
    (tmp_path / "cart" / "cart.go").write_text("package cart\n\nfunc Total(items []int) int {\n\treturn 0\n}\n")
    (tmp_path / "cart" / "cart_test.go").write_text("package cart\n\nfunc TestTotal() {}\n")
    found = resolve(modules, tmp_path / "main.go", 'import (\n\t"fmt"\n\t"example.com/shop/cart"\n)\n')
    assert found == [str(tmp_path / "cart" / "cart.go")]
    assert modules.outline(found[0]) == "func Total(items []int) int {\n"


def test_excluded_secret_outside_and_oversized_files_contribute_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.py"
    outside.write_text("def leaked():\n    pass\n")
    os.symlink(outside, root / "linked.py")
    (root / "creds.py").write_text("KEY = 'ghp_" + "a" * 36 + "'\n\ndef use_key():\n    pass\n")
    (root / "private_conf.py").write_text("def vault():\n    pass\n")
    (root / "huge.py").write_text("def big():\n    pass\n" + "# filler\n" * 2000)
    modules = WorkspaceModules([root.as_uri()], excluded=lambda uri: "/private_" in uri, max_bytes=4_096)
    head = "import linked\nimport creds\nimport private_conf\nimport huge\n"
    for path in resolve(modules, root / "main.py", head):
        assert modules.outline(path) == "", path
    assert modules.outline(str(outside)) == ""  # not in the workspace at all
