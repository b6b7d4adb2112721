"""Privacy units: the secret rules on the canary corpus and on ordinary code, redaction, the
memo, exclusion by globs / .gitignore / vendored folders, document flags, sent line ranges."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flashpro.config import DEFAULT_EXCLUDE
from flashpro.documents import DocumentStore, TextChange, is_excluded, looks_secret
from flashpro.privacy import (
    CODE,
    CONFIG,
    REDACTED,
    SecretScanner,
    SentLines,
    WorkspaceIgnore,
    file_label,
    flavor_for,
    has_private_key,
    scan_line,
)
from flashpro.privacy import scanner as scanner_module

from tests.canaries import CANARIES, FILES, Canary, secret_line, write_workspace

VALUES = [c for c in CANARIES if c.kind == "value"]
BLOCKS = [c for c in CANARIES if c.kind == "block"]
PATHS = [c for c in CANARIES if c.kind == "path"]


def test_the_corpus_has_every_shape_the_issue_lists() -> None:
    assert len(CANARIES) >= 28
    assert len({c.secret for c in CANARIES}) == len(CANARIES)


@pytest.mark.parametrize("canary", VALUES, ids=lambda c: c.name)
def test_every_secret_value_is_found_and_only_the_value_is_replaced(canary: Canary) -> None:
    _, line = secret_line(canary)
    result = SecretScanner().redact(line, flavor_for(canary.path))
    assert canary.secret not in result.text
    before, after = line.split(canary.secret, 1)
    assert result.text == before + REDACTED + after  # the name, quotes and the rest are kept


@pytest.mark.parametrize("canary", VALUES, ids=lambda c: c.name)
def test_a_value_typed_one_key_at_a_time_is_caught_as_soon_as_it_is_whole(canary: Canary) -> None:
    _, line = secret_line(canary)
    scanner = SecretScanner()
    end = line.index(canary.secret) + len(canary.secret)
    for typed in range(end, len(line) + 1):  # the whole value, before any closing quote
        assert canary.secret not in scanner.redact(line[:typed], flavor_for(canary.path)).text


@pytest.mark.parametrize("canary", BLOCKS, ids=lambda c: c.name)
def test_private_key_blocks_make_the_whole_document_private(canary: Canary) -> None:
    text = FILES[canary.path]
    assert has_private_key(text) and looks_secret(text)
    assert SecretScanner().redact(text, flavor_for(canary.path)).blocked
    doc = DocumentStore().open(f"file:///w/{canary.path}", "python", 1, text)
    assert doc.secret and doc.private


@pytest.mark.parametrize(
    ("line", "flavor"),
    [
        ("password = input()", CODE),
        ("token = get_token()", CODE),
        ("password: str", CODE),
        ("def get_password(self) -> str:", CODE),
        ('secret = os.environ["APP_SECRET"]', CODE),
        ("api_key = settings.API_KEY", CODE),
        ("db = connect(password=password)", CODE),
        ("if password == expected_password:", CODE),
        ('TOKEN_TYPE = "bearer"', CODE),
        ('key = "name"', CODE),
        ('password = "<redacted>"', CODE),
        ('digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"', CODE),
        ('commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"', CODE),
        ('request_id = "123e4567-e89b-12d3-a456-426614174000"', CODE),
        ("def build_context_for_the_selection_with_imports_and_outline(view, span):", CODE),
        ("CACHE_KEY_PREFIX_FOR_RENDERED_SNIPPETS_AND_THEIR_TOKENS = 32", CODE),
        ("    password: ${DB_PASSWORD}", CONFIG),
        ("PASSWORD=$DB_PASSWORD", CONFIG),
        ("token_type: bearer", CONFIG),
        ("auth: required", CONFIG),
        ("  - 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'", CONFIG),
    ],
)
def test_ordinary_lines_are_not_flagged(line: str, flavor: str) -> None:
    assert scan_line(line, flavor) == ()


def test_flavors_follow_the_file_type() -> None:
    assert flavor_for("config/settings.py") == CODE and flavor_for("app/billing.ts") == CODE
    assert flavor_for("docker-compose.yml") == CONFIG and flavor_for("deploy/kubeconfig") == CONFIG
    assert flavor_for("main.go") == "go"
    # A bare value counts where it is a literal (config), not where it is an expression (code).
    assert scan_line("POSTGRES_PASSWORD: pg-Zq81x-value", CONFIG)
    assert scan_line("POSTGRES_PASSWORD: pg-Zq81x-value", CODE) == ()


def test_redaction_is_deterministic_idempotent_and_maps_offsets() -> None:
    text = f'a = 1\npassword = "{"x7Hq-flashpro-canary"}"  # db\r\nb = 2\ntail'
    first, second = SecretScanner().redact(text, CODE), SecretScanner().redact(text, CODE)
    assert first == second and first.secrets == 1
    assert first.text == f'a = 1\npassword = "{REDACTED}"  # db\r\nb = 2\ntail'
    assert SecretScanner().redact(first.text, CODE).secrets == 0  # a redacted line scans clean
    for word in ("a = 1", "# db", "b = 2", "tail"):
        assert first.text[first.shift(text.index(word)) :].startswith(word)
    start = text.index("x7Hq")
    assert first.shift(start + 3) == first.text.index(REDACTED) + len(REDACTED)  # inside: after it


def test_segments_and_gutters_pick_the_rules_per_part() -> None:
    scanner = SecretScanner()
    yaml_then_python = "POSTGRES_PASSWORD: pg-Zq81x-value\nPOSTGRES_PASSWORD = pg_value_9\n"
    result = scanner.redact(yaml_then_python, CODE, segments=[(0, CONFIG), (34, CODE)])
    assert result.text == f"POSTGRES_PASSWORD: {REDACTED}\nPOSTGRES_PASSWORD = pg_value_9\n"
    numbered = '   12| password = "Zq81-flashpro"\n   13| x = 1\n'
    gutter = re.compile(r" *\d+\| ")
    assert scanner.redact(numbered, CODE, gutter=gutter).text == f'   12| password = "{REDACTED}"\n   13| x = 1\n'


def test_the_memo_is_bounded_and_a_known_line_is_not_scanned_again(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[str] = []
    real = scanner_module.scan_line
    monkeypatch.setattr(scanner_module, "scan_line", lambda line, flavor: scanned.append(line) or real(line, flavor))
    scanner = SecretScanner(max_lines=16, max_texts=2)
    text = "\n".join(f"line_{i} = {i}" for i in range(10))
    scanner.redact(text, CODE)
    assert len(scanned) == 10
    scanned.clear()
    scanner.redact(text.replace("line_9 = 9", "line_9 = 99"), CODE)  # a keystroke
    assert scanned == ["line_9 = 99"]
    small = SecretScanner(max_lines=4)
    small.redact(text, CODE)
    assert len(small._memo) == 4  # noqa: SLF001
    scanned.clear()
    head = "\n".join(f"head_{i} = {i}" for i in range(50))
    assert scanner.redact(head, CODE, remember=True) is scanner.redact(head, CODE, remember=True)
    assert len(scanned) == 50


def test_long_lines_are_scanned_whole() -> None:
    line = "x = 1; " * 2000 + 'k = "AKIAFLASHPROCANARY7Q"; ' + "y = 2; " * 2000
    result = SecretScanner().redact(line, CODE)
    assert "AKIAFLASHPROCANARY7Q" not in result.text and result.secrets == 1


def test_exclusion_globs_keep_their_documented_meaning() -> None:
    assert is_excluded("file:///home/u/proj/.env", DEFAULT_EXCLUDE)
    assert is_excluded("file:///home/u/proj/.env.local", DEFAULT_EXCLUDE)
    assert is_excluded("file:///home/u/proj/config/secrets.yaml", DEFAULT_EXCLUDE)
    assert is_excluded("file:///c%3A/keys/server.pem", DEFAULT_EXCLUDE)
    assert not is_excluded("file:///home/u/proj/main.py", DEFAULT_EXCLUDE)
    assert is_excluded("file:///home/u/proj/src/a.py", ["src/*.py"])  # at any folder boundary
    assert not is_excluded("file:///home/u/proj/src/deep/a.py", ["src/*.py"])  # * stays in a segment
    assert is_excluded("file:///home/u/proj/src/deep/a.py", ["src/**/*.py"])
    assert is_excluded("file:///p/private/x/y.py", ["**/private/**"])
    assert is_excluded("file:///p/notes.txt", ["notes.???"]) and not is_excluded("file:///p/notes.text", ["notes.???"])
    assert is_excluded("file:///p/!odd.py", ["!odd.py"])  # taken literally, not as a negation


def test_gitignore_nested_negated_and_vendored(tmp_path: Path) -> None:
    write_workspace(tmp_path)
    (tmp_path / ".gitignore").write_text("local_settings.py\nscratch/\n*.log\n!keep.log\n")
    (tmp_path / ".git" / "info").mkdir()
    (tmp_path / ".git" / "info" / "exclude").write_text("private_notes.md\n")
    ignore = WorkspaceIgnore(str(tmp_path))
    for relative in (
        "app/local_settings.py", "scratch/notes.py", "sub/conf.local.py", "node_modules/leftpad/index.js",
        ".venv/lib/python3.11/site-packages/vendored.py", "a/dist/x.js", "build/gen.py", "venv/x.py",
        "server.log", "docs/private_notes.md",
    ):  # fmt: skip
        assert ignore.ignored(str(tmp_path / relative)), relative
    for relative in ("app/cloud.py", "keep.log", "sub/conf.py", "builder/x.py", "distance.py"):
        assert not ignore.ignored(str(tmp_path / relative)), relative
    assert ignore.ignored("/elsewhere/node_modules/x/index.js")  # vendored folders anywhere
    assert not ignore.ignored("/elsewhere/local_settings.py")  # outside: the workspace's git rules do not apply
    (tmp_path / ".gitignore").write_text("cloud.py\n")
    os.utime(tmp_path / ".gitignore", ns=(1, 10**18))  # a new modification time: read again
    assert ignore.ignored(str(tmp_path / "app/cloud.py"))


def test_every_path_canary_is_excluded_and_ordinary_files_are_not(tmp_path: Path) -> None:
    write_workspace(tmp_path)
    store = DocumentStore(exclude=DEFAULT_EXCLUDE)
    store.set_workspace(str(tmp_path))
    for canary in PATHS:
        doc = store.open((tmp_path / canary.path).as_uri(), "plaintext", 1, FILES[canary.path])
        assert doc.private, canary.name
    for name in ("app/cloud.py", "app/billing.ts", "config/settings.py", "docker-compose.yml"):
        assert not store.open((tmp_path / name).as_uri(), "python", 1, FILES[name]).private, name


def test_a_private_key_typed_one_key_at_a_time_makes_the_document_private() -> None:
    store = DocumentStore()
    doc = store.open("file:///w/typed.py", "python", 1, "")
    header = "KEY = '''-----BEGIN RSA PRIVATE KEY-----"
    for version, char in enumerate(header, 2):
        assert not doc.secret
        store.change(doc.uri, version, [TextChange(char, (0, version - 2), (0, version - 2))])
    assert doc.secret and doc.private
    store.close(doc.uri)
    assert not store.open(doc.uri, "python", 1, "x = 1\n").private  # reopened clean: a new document


def test_sent_lines_merge_per_file_and_render_one_based() -> None:
    sent = SentLines("/ws")
    sent.add("file:///ws/b.py", 10, 12)
    sent.add("file:///ws/a.py", 0, 3)
    sent.add("file:///ws/b.py", 13, 20)
    sent.add_lines("file:///ws/b.py", [40, 41, 43])
    sent.add("file:///other/c.py", 5, 5)
    assert sent.to_json() == [
        {"file": "b.py", "lines": [11, 21]},
        {"file": "b.py", "lines": [41, 42]},
        {"file": "b.py", "lines": [44, 44]},
        {"file": "a.py", "lines": [1, 4]},
        {"file": "/other/c.py", "lines": [6, 6]},
    ]
    assert file_label("file:///ws/sub/x.py", "/ws/") == "sub/x.py"
    assert file_label("file:///wsx/y.py", "/ws") == "/wsx/y.py"
