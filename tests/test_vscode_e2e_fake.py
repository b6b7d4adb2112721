"""The VS Code e2e's scripted fake DeepSeek (clients/vscode/e2e/fake_deepseek.py) still runs its task.

The e2e itself needs code-server and Chromium. Here, in the ordinary suite, the same scripted
answers drive the real server through "Implement this" on the e2e workspace's TODO, as VS Code
asks for it (the code action at the cursor, resolved, its command run): a change to the task
prompts or to the request's wording that would break the e2e fails here first.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from lsprotocol import types

from tests.fakes import FakeDeepSeek
from tests.lsp_session import start_session

E2E = Path(__file__).resolve().parents[1] / "clients" / "vscode" / "e2e"
TODO_LINE = 7  # 0-based: "# TODO: sub(a, b) returns a - b" in calc.py


def _fake_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("e2e_fake_deepseek", E2E / "fake_deepseek.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_e2e_fake_takes_implement_this_on_the_todo_to_one_annotated_edit(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    fake = _fake_module()
    fake_deepseek.script_chat(fake.chat)
    shutil.copytree(E2E / "workspace", tmp_path, dirs_exist_ok=True)
    calc = tmp_path / "calc.py"
    text = calc.read_text()
    assert text.splitlines()[TODO_LINE] == fake.TASK_TODO
    uri = calc.as_uri()
    options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url}
    async with start_session("vscode", init_options=options, root_uri=tmp_path.as_uri()) as session:
        session.open(uri, text)
        cursor = types.Position(line=TODO_LINE, character=0)
        listed = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=cursor, end=cursor),
                context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.Refactor]),
            )
        )
        (action,) = [a for a in listed or [] if isinstance(a, types.CodeAction) and a.title.startswith("Implement this (")]
        action = await session.client.code_action_resolve_async(action)
        assert action.command is not None
        result = await session.execute(action.command.command, *(action.command.arguments or []))
        assert result["status"] == "applied", result
        assert result["nodes"] == {"n1": "passed", "n2": "passed"}
        (applied,) = session.applied_edits
    edit = applied.edit
    annotations = edit.change_annotations or {}
    assert {key: (a.label, a.needs_confirmation) for key, a in annotations.items()} == {
        "n1": ("Write sub(a, b)", True),
        "n2": ("Test sub(a, b)", True),
    }
    assert all((a.description or "").startswith("1 attempt · compiles ✓ lint ✓ · $") for a in annotations.values())
    changes = edit.document_changes or []
    test_uri = (tmp_path / "tests" / "test_calc.py").as_uri()
    assert [c.uri for c in changes if isinstance(c, types.CreateFile)] == [test_uri]
    texts = {
        c.text_document.uri: [(e.new_text, e.annotation_id) for e in c.edits]
        for c in changes
        if isinstance(c, types.TextDocumentEdit)
    }
    assert texts == {uri: [(fake.SUB, "n1")], test_uri: [(fake.TEST_CALC, "n2")]}
    (review,) = (tmp_path / ".flashpro" / "tasks").glob("*.md")
    assert review.read_text().splitlines()[0] == f"# Task: {fake.TASK_GOAL}"
