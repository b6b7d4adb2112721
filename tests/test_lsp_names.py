"""End to end: the names a continuation needs reach the prompt (definitions below the cursor,
imported workspace modules read from disk), private files never do, the budget holds, and a
suggestion typed past is not shown again."""

from __future__ import annotations

import json
from pathlib import Path

from flashpro.tokens import count

from tests.fakes import FakeDeepSeek
from tests.lsp_session import ledger_rows, start_session

FILLER = "".join(f"    step_{i} = {i}  # padding to push the next definition out of the suffix\n" for i in range(80))
MAIN = (
    "from geometry.shapes import area_of_circle\n"
    "import keys\n"
    "import secrets_conf\n"
    "\n"
    "def report(items):\n"
    "    total = 0\n"
    "    \n"
    f"{FILLER}"
    "    return total\n"
    "\n"
    "\n"
    "def compute_total_volume(items, depth):\n"
    "    return sum(items) * depth\n"
)


def workspace(root: Path) -> None:
    (root / "geometry").mkdir()
    (root / "geometry" / "__init__.py").write_text("")
    (root / "geometry" / "shapes.py").write_text(
        "import math\n\n\ndef area_of_circle(radius):\n    return math.pi * radius ** 2\n\n\n"
        "def _private_helper():\n    return 1\n\n\nclass Square:\n    def __init__(self, side):\n"
        "        self.side = side\n"
    )
    (root / "keys.py").write_text("TOKEN = 'AKIAABCDEFGHIJKLMNOP'\n\n\ndef load_key_material():\n    return TOKEN\n")
    (root / "secrets_conf.py").write_text("def read_vault_password():\n    return 'hunter2'\n")


async def test_names_below_the_cursor_and_from_imported_workspace_modules_reach_the_prompt(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    workspace(tmp_path)
    fake_deepseek.script_fim("total += 1\n")
    options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url, "exclude": ["**/secrets_*"]}
    uri = (tmp_path / "main.py").as_uri()
    ledger = tmp_path / "ledger.sqlite3"
    async with start_session("vscode", init_options=options, root_uri=tmp_path.as_uri(), ledger=ledger) as session:
        session.open(uri, MAIN)
        await session.inline(uri, 6, 4, invoked=True)
    (row,) = ledger_rows(ledger)
    sent = {entry["file"] for entry in json.loads(row["details"])["sent"]}
    assert {"main.py", "geometry/shapes.py"} <= sent  # the module read from disk is in the sent record too
    (request,) = fake_deepseek.requests_to("fim")
    prompt, suffix = request.body["prompt"], request.body["suffix"]
    assert "compute_total_volume" not in suffix  # far below the cursor, out of the suffix...
    assert "def compute_total_volume(items, depth):\n" in prompt  # ...yet in the outline
    assert "def area_of_circle(radius):\n" in prompt  # an imported module that is not open
    assert "class Square:\n" in prompt and "self.side" in prompt
    assert "_private_helper" not in prompt  # public signatures only
    for text in (prompt, suffix):
        assert "AKIA" not in text and "load_key_material" not in text  # secret-looking module
        assert "read_vault_password" not in text and "hunter2" not in text  # excluded module


async def test_the_budget_is_never_exceeded_with_outline_and_imports(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    workspace(tmp_path)
    fake_deepseek.script_fim("x\n")
    uri = (tmp_path / "main.py").as_uri()
    for budget in (128, 300, 700, 2000):
        fake_deepseek.reset()
        fake_deepseek.script_fim("x\n")
        options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url, "completion": {"contextTokens": budget}}
        async with start_session("vscode", init_options=options, root_uri=tmp_path.as_uri()) as session:
            session.open(uri, MAIN)
            for line in (0, 6, 40, 88):
                await session.inline(uri, line, 4, invoked=True)
        for request in fake_deepseek.requests_to("fim"):
            assert count(request.body["prompt"]) + count(request.body["suffix"]) <= budget, budget


async def test_a_suggestion_typed_past_is_not_shown_again(fake_deepseek: FakeDeepSeek) -> None:
    uri = "file:///workspace/calc.py"
    fake_deepseek.script_fim(["return a + b\n"] * 3)
    options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url}
    async with start_session("vscode", init_options=options) as session:
        session.open(uri, "def add(a, b):\n    \n")
        items = await session.inline(uri, 1, 4)
        assert [item.insert_text for item in items] == ["return a + b"]
        session.edit(uri, (1, 4), (1, 4), "r")  # typing through it: the rest is still offered
        assert [item.insert_text for item in await session.inline(uri, 1, 5)] == ["eturn a + b"]
        session.edit(uri, (1, 5), (1, 5), "a")  # "ra": typed past it, rejected
        await session.inline(uri, 1, 6)  # a fresh call (the second)
        session.edit(uri, (1, 4), (1, 6), "")  # back to where it was shown (backspace twice)
        assert await session.inline(uri, 1, 4) == []  # not from the cache, and the model's
    assert len(fake_deepseek.requests_to("fim")) == 3  # same answer there is not shown either
