"""What is sent: FIM layouts and action prompts with secrets redacted, and the lines they record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flashpro.actions import ActionFailed, ActionService, LineSpan
from flashpro.calls import Limits
from flashpro.completion.guard import guard_layout
from flashpro.completion.layout import NO_ANCHOR, Snippet, build_layout
from flashpro.config import Settings
from flashpro.documents import DocumentStore, Position, TextBuffer, Workspace
from flashpro.privacy import REDACTED, SecretScanner

from tests.meters import FixedMeter

KEY = "AKIAFLASHPROCANARY7Q"
URI = "file:///ws/app/main.py"


def _layout(text: str, line: int, column: int, snippets: list[Snippet] = (), budget: int = 2048):  # type: ignore[assignment]
    layout = build_layout(
        TextBuffer(text), Position(line, column), budget, 256, snippets, anchor=NO_ANCHOR,
        language_id="python", label="app/main.py",
    )  # fmt: skip
    return layout, guard_layout(
        layout, uri=URI, cursor_line=line, snippets=snippets, language_id="python",
        label="app/main.py", scanner=SecretScanner(), root="/ws",
    )  # fmt: skip


def _file(lines: int, secret_at: int) -> str:
    rows = [f"value_{i} = compute({i})\n" for i in range(lines)]
    rows[secret_at] = f'AWS_KEY = "{KEY}"\n'
    return "".join(rows)


def test_a_secret_anywhere_in_the_window_is_replaced_and_the_rest_kept() -> None:
    text = _file(200, 10)
    original, guarded = _layout(text, 150, 4)
    assert KEY in original.context.prompt and guarded is not None
    assert KEY not in guarded.context.prompt and f'AWS_KEY = "{REDACTED}"\n' in guarded.context.prompt
    assert guarded.context.prompt.replace(REDACTED, KEY) == original.context.prompt
    assert guarded.context.suffix == original.context.suffix
    assert guarded.head == original.head.replace(KEY, REDACTED)
    assert guarded.line_at(guarded.context.prompt.index("AWS_KEY")) == 10  # runs follow the shift
    _, below = _layout(_file(200, 151), 150, 4)  # in the suffix
    assert below is not None and KEY not in below.context.suffix and REDACTED in below.context.suffix


def test_the_head_stays_byte_stable_while_typing_below_a_secret() -> None:
    text = _file(200, 10)
    _, first = _layout(text, 150, 4)
    typed = text.replace("value_150 = compute(150)\n", "value_150 = compute(150)x\n")
    _, second = _layout(typed, 150, 25)
    assert first is not None and second is not None
    assert first.head == second.head and first.head_hash == second.head_hash
    assert REDACTED in first.head


@pytest.mark.parametrize("column", [12, 20, 31])
def test_a_secret_split_by_the_cursor_is_hidden_on_both_sides(column: int) -> None:
    text = f'x = 1\nAWS_KEY = "{KEY}"\ny = 2\n'
    _, guarded = _layout(text, 1, column)
    assert guarded is not None
    sent = guarded.context.prompt + guarded.context.suffix
    assert KEY not in sent and KEY[:8] not in sent and KEY[-8:] not in sent
    assert guarded.context.prompt.endswith(REDACTED) or guarded.context.prompt.endswith('AWS_KEY = "')
    assert guarded.context.line_rest == f'AWS_KEY = "{KEY}"'[column:]  # the real text, for reuse


def test_a_private_key_in_the_window_stops_the_call() -> None:
    text = "a = 1\nKEY = '''\n-----BEGIN RSA PRIVATE KEY-----\nMIIB\n'''\nb = 2\n"
    assert _layout(text, 5, 0)[1] is None


def test_snippets_are_scanned_with_their_own_files_rules() -> None:
    compose = Snippet("file:///ws/docker-compose.yml", "docker-compose.yml", "    POSTGRES_PASSWORD: pg-Zq81x-value\n", ((5, 5),))
    python = Snippet("file:///ws/app/db.py", "app/db.py", "POSTGRES_PASSWORD = pg_default_value\n", ((2, 2),))
    _, guarded = _layout("import db\nx = 1\n", 1, 5, [compose, python])
    assert guarded is not None
    assert "pg-Zq81x-value" not in guarded.context.prompt  # a YAML literal
    assert "POSTGRES_PASSWORD = pg_default_value" in guarded.context.prompt  # Python: a name
    assert list(guarded.sent) == [("docker-compose.yml", 5, 5), ("app/db.py", 2, 2), ("app/main.py", 0, 1)]


def test_sent_lines_cover_the_top_the_window_and_the_suffix() -> None:
    text = "".join(f"v{i} = {i}\n" for i in range(2000))
    original, guarded = _layout(text, 1500, 3, budget=4096)
    assert guarded is not None and original.top_lines > 0
    ((_, top_first, top_last), (_, first, last)) = guarded.sent
    assert (top_first, top_last) == (0, original.top_lines - 1)
    assert first == original.window_start and last > 1500  # the window, the cursor line, the suffix
    assert last == 1500 + original.context.suffix.count("\n") - 1


def _service() -> ActionService:
    return ActionService(
        FixedMeter(Limits(8000, 500, True, True, True)),
        Workspace("/ws"),
        clock=lambda: datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )


def test_action_prompts_are_redacted_and_record_their_lines() -> None:
    doc = DocumentStore().open(URI, "python", 1, _file(40, 3))
    service = _service()
    messages, sent = service.outgoing("review", doc, LineSpan(10, 12), "", 16384)
    assert KEY not in messages[1]["content"] and f'    4| AWS_KEY = "{REDACTED}"' in messages[1]["content"]
    assert sent == [{"file": "app/main.py", "lines": [1, 41]}]  # a small file goes whole
    assert service.messages("review", doc, LineSpan(10, 12), "", 16384) == messages
    big = DocumentStore().open(URI, "python", 1, "import os\n" + _file(3000, 1500))
    messages, sent = service.outgoing("explain", big, LineSpan(1500, 1502), "", 2000)
    assert KEY not in messages[1]["content"] and REDACTED in messages[1]["content"]
    assert sent[0] == {"file": "app/main.py", "lines": [1, 1]} and len(sent) == 2  # imports, excerpt
    first, last = sent[1]["lines"]  # type: ignore[misc]
    assert first <= 1502 <= last


def test_quick_edit_refuses_a_selection_holding_a_secret() -> None:
    doc = DocumentStore().open(URI, "python", 1, _file(40, 3))
    service = _service()
    with pytest.raises(ActionFailed, match="looks like a secret"):
        service.outgoing("quickEdit", doc, LineSpan(2, 4), "rename it", 16384)
    messages, sent = service.outgoing("quickEdit", doc, LineSpan(6, 7), "rename it", 16384)
    assert KEY not in messages[1]["content"] and sent == [{"file": "app/main.py", "lines": [1, 41]}]
    with pytest.raises(ActionFailed, match="private key"):
        pem = "x = '''\n-----BEGIN EC PRIVATE KEY-----\nMHcC\n'''\n"
        service.outgoing("explain", DocumentStore().open(URI, "python", 1, pem), LineSpan(0, 0), "", 16384)


def test_a_reopened_document_with_the_same_version_is_never_read_from_an_earlier_text() -> None:
    store = DocumentStore()
    service = _service()
    first = store.open(URI, "python", 1, "stale_marker = 1\n" + _file(20, 3))
    assert "stale_marker" in service.outgoing("review", first, LineSpan(0, 2), "", 16384)[0][1]["content"]
    service.preview("review", first, LineSpan(0, 2))
    store.close(URI)
    second = store.open(URI, "python", 1, "fresh_marker = 2\n")  # versions restart at 1
    content = service.outgoing("review", second, LineSpan(0, 0), "", 16384)[0][1]["content"]
    assert "fresh_marker" in content and "stale_marker" not in content and REDACTED not in content
