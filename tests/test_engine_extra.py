"""Extra context: imports first, sticky order, privacy, budgets, bounded memory."""

from __future__ import annotations

from flashpro.completion.extra import ExtraContext, imported_paths
from flashpro.completion.layout import Snippet, comment_style, render_snippet
from flashpro.documents import DocumentStore, TextChange
from flashpro.tokens import count

ROOT = "file:///proj"
MAIN_HEAD = "import os\nfrom pkg.util import helper\nimport models\n\n"


def make_store() -> DocumentStore:
    store = DocumentStore(exclude=["**/.env", "**/secrets.*"])
    store.open(f"{ROOT}/pkg/util.py", "python", 1, "def helper(x):\n    return x\n\nclass Tool:\n    def run(self):\n        pass\n")
    store.open(f"{ROOT}/models.py", "python", 1, "class User:\n    name: str\n\nclass Order:\n    total: int\n\ndef load():\n    ...\n")
    store.open(f"{ROOT}/other.py", "python", 1, "".join(f"value_{i} = {i}\n" for i in range(100)))
    store.open(f"{ROOT}/main.py", "python", 1, MAIN_HEAD + "print(helper(1))\n")
    return store


def tracked(store: DocumentStore) -> ExtraContext:
    extra = ExtraContext([ROOT])
    for doc in store:
        extra.opened(doc)
    return extra


def tokens(snippets: list[Snippet]) -> int:
    style = comment_style("", "main.py")
    return sum(count(render_snippet(s, style)) for s in snippets)


def test_imported_files_come_first_then_recent_edits() -> None:
    store = make_store()
    extra = tracked(store)
    other = store.get(f"{ROOT}/other.py")
    assert other is not None
    extra.edited(other, 40)
    snippets = extra.select(f"{ROOT}/main.py", MAIN_HEAD, 2000)
    assert [s.label for s in snippets] == ["pkg/util.py", "models.py", "other.py:33"]
    assert snippets[0].text == "def helper(x):\nclass Tool:\n    def run(self):\n"  # an outline
    assert snippets[2].text.startswith("value_32 = 32\n")
    assert tokens(snippets) <= 2000


def test_order_is_stable_when_a_new_file_is_opened() -> None:
    store = make_store()
    extra = tracked(store)
    other = store.get(f"{ROOT}/other.py")
    assert other is not None
    extra.edited(other, 5)
    head = MAIN_HEAD + "from pkg.extra import more\n"
    first = extra.select(f"{ROOT}/main.py", head, 2000)
    # A newly opened file that the current file imports is appended, not inserted first.
    new = store.open(f"{ROOT}/pkg/extra.py", "python", 1, "def more():\n    pass\ndef less():\n    pass\ndef most():\n    pass\n")
    extra.opened(new)
    second = extra.select(f"{ROOT}/main.py", head, 2000)
    assert second[: len(first)] == first
    assert [s.label for s in second[len(first) :]] == ["pkg/extra.py"]
    # Repeating the selection changes nothing (deterministic, sticky).
    assert extra.select(f"{ROOT}/main.py", head, 2000) == second


def test_a_changed_snippet_moves_to_the_end_and_others_keep_their_places() -> None:
    store = make_store()
    extra = tracked(store)
    first = extra.select(f"{ROOT}/main.py", MAIN_HEAD, 2000)
    assert [s.label for s in first] == ["pkg/util.py", "models.py"]
    store.change(f"{ROOT}/pkg/util.py", 2, [TextChange("def helper2(y):\n    return y\n", (0, 0), (0, 0))])
    second = extra.select(f"{ROOT}/main.py", MAIN_HEAD, 2000)
    assert [s.label for s in second] == ["models.py", "pkg/util.py"]
    assert second[1].text.startswith("def helper2(y):\n")


def test_private_documents_never_appear() -> None:
    store = make_store()
    secret_text = "def config():\n    KEY = 'AKIAABCDEFGHIJKLMNOP'\n"
    store.open(f"{ROOT}/settings.py", "python", 1, secret_text)  # secret-looking
    store.open(f"{ROOT}/.env", "dotenv", 1, "import models\nTOKEN=abc\n")  # excluded
    store.open(f"{ROOT}/blob.py", "python", 1, "def x():\x00\n")  # binary
    extra = tracked(store)
    for doc in store:
        extra.edited(doc, 0)
    head = MAIN_HEAD + "import settings\nfrom . import blob\n"
    snippets = extra.select(f"{ROOT}/main.py", head, 10_000)
    uris = {s.uri for s in snippets}
    assert uris.isdisjoint({f"{ROOT}/settings.py", f"{ROOT}/.env", f"{ROOT}/blob.py"})
    assert all("AKIA" not in s.text and "TOKEN" not in s.text for s in snippets)
    assert f"{ROOT}/models.py" in uris
    # A document that becomes private after being selected disappears at the next selection.
    models = store.get(f"{ROOT}/models.py")
    assert models is not None
    models.excluded = True
    again = extra.select(f"{ROOT}/main.py", head, 10_000)
    assert f"{ROOT}/models.py" not in {s.uri for s in again}
    # The current document is never its own extra context.
    assert f"{ROOT}/main.py" not in uris


def test_budget_is_respected_and_a_smaller_budget_keeps_a_prefix() -> None:
    store = make_store()
    extra = tracked(store)
    for doc in store:
        extra.edited(doc, 0)
        extra.edited(doc, 64)
    full = extra.select(f"{ROOT}/main.py", MAIN_HEAD, 5000)
    assert len(full) >= 3 and tokens(full) <= 5000
    small = extra.select(f"{ROOT}/main.py", MAIN_HEAD, tokens(full[:2]))
    assert small == full[:2]
    assert extra.select(f"{ROOT}/main.py", MAIN_HEAD, 0) == []


def test_memory_is_bounded() -> None:
    store = DocumentStore()
    extra = ExtraContext([ROOT], max_regions=16, max_documents=50, max_selections=8, max_snippets=4)
    for i in range(200):
        doc = store.open(f"{ROOT}/m{i}.py", "python", 1, f"def f{i}():\n    return {i}\n")
        extra.opened(doc)
        extra.edited(doc, 0)
        extra.select(doc.uri, "", 1000)
    assert len(extra._docs) <= 50
    assert len(extra._regions) <= 16
    assert len(extra._selections) <= 8
    assert all(len(chosen) <= 4 for chosen in extra._selections.values())
    extra.closed(f"{ROOT}/m199.py")
    assert f"{ROOT}/m199.py" not in extra._docs


def test_import_parsing_for_python_js_and_go() -> None:
    py = "from .sibling import a, b as c\nfrom ..up import thing\nimport x.y, z as w\n"
    assert imported_paths("/p/pkg/mod.py", py)[:4] == [
        ("/p/pkg/sibling", True),
        ("/p/pkg/sibling/__init__", True),
        ("/p/pkg/sibling/a", True),
        ("/p/pkg/sibling/a/__init__", True),
    ]
    assert ("/p/up/thing", True) in imported_paths("/p/pkg/mod.py", py)
    assert ("x/y", False) in imported_paths("/p/pkg/mod.py", py)
    js = "import React from 'react'\nimport { a } from './lib/a.js'\nconst b = require(\"../b\")\nexport * from '@/c'\n"
    assert imported_paths("/p/src/app.ts", js) == [
        ("react", False),
        ("/p/src/lib/a", True),
        ("/p/src/lib/a/index", True),
        ("/p/b", True),
        ("/p/b/index", True),
        ("c", False),
    ]
    go = 'package main\n\nimport (\n\t"fmt"\n\tu "example.com/proj/util"\n)\nimport "example.com/proj/db"\n'
    assert imported_paths("/p/main.go", go) == [
        ("fmt/", False),
        ("example.com/proj/util/", False),
        ("example.com/proj/db/", False),
    ]


def test_go_and_typescript_imports_match_open_documents() -> None:
    store = DocumentStore()
    store.open("file:///w/util/strings.go", "go", 1, "package util\n\nfunc Reverse(s string) string {\n\treturn s\n}\n\nfunc Upper() {}\n\ntype T struct{}\n")
    store.open("file:///w/web/lib/a.ts", "typescript", 1, "export function a(): number {\n  return 1;\n}\nexport interface A {}\nexport type B = string;\n")
    store.open("file:///w/main.go", "go", 1, 'package main\n\nimport "example.com/w/util"\n')
    store.open("file:///w/web/app.ts", "typescript", 1, "import { a } from './lib/a'\n")
    extra = ExtraContext(["file:///w"])
    for doc in store:
        extra.opened(doc)
    go = extra.select("file:///w/main.go", 'package main\n\nimport "example.com/w/util"\n', 1000)
    assert [s.label for s in go] == ["util/strings.go"]
    ts = extra.select("file:///w/web/app.ts", "import { a } from './lib/a'\n", 1000)
    assert [s.label for s in ts] == ["web/lib/a.ts"]
    assert ts[0].text.startswith("export function a(): number {\n")
