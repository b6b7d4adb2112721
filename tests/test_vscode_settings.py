"""The VS Code extension's package.json declares every server setting, in sync with the model.

`clients/vscode/scripts/sync_settings.py` regenerates the server settings from
`flashpro.config.Settings`; these tests fail when package.json was not regenerated after the
model changed (keys, defaults, types, enums, bounds), and pin the few settings that are the
extension's own.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from flashpro.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "clients" / "vscode"
PACKAGE_JSON = EXTENSION / "package.json"

CLIENT_ONLY = {
    "flashpro.enabledLanguages",
    "flashpro.server.command",
    "flashpro.trace.server",
}
"""Settings only the extension reads (it strips them before talking to the server)."""

SYNC_HINT = "run: .venv/bin/python clients/vscode/scripts/sync_settings.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_settings", EXTENSION / "scripts" / "sync_settings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sync_settings", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def package() -> dict[str, Any]:
    return json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def declared(package: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every setting package.json declares, by key."""
    result: dict[str, dict[str, Any]] = {}
    for category in package["contributes"]["configuration"]:
        for key, value in category["properties"].items():
            assert key not in result, f"{key} declared twice"
            result[key] = value
    return result


@pytest.fixture(scope="module")
def expected(generator: ModuleType) -> dict[str, dict[str, Any]]:
    return generator.server_properties()


def _wire_keys(model: type[BaseModel], prefix: str, depth: int = 0) -> set[str]:
    """Settings keys of the model walked independently of the generator (routes stay objects)."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        alias = field.alias or name
        annotation = field.annotation
        if depth == 0 and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _wire_keys(annotation, f"{prefix}.{alias}", depth + 1)
        else:
            keys.add(f"{prefix}.{alias}")
    return keys


def test_keys_match_the_model(declared: dict[str, dict[str, Any]]) -> None:
    server_keys = _wire_keys(Settings, "flashpro") - {"flashpro.apiKey"}
    missing = server_keys - declared.keys()
    extra = declared.keys() - server_keys - CLIENT_ONLY
    assert not missing, f"settings missing from package.json: {sorted(missing)}; {SYNC_HINT}"
    assert not extra, f"package.json declares settings the server does not have: {sorted(extra)}; {SYNC_HINT}"


def test_client_only_settings_are_declared_apart(package: dict[str, Any], declared: dict[str, Any]) -> None:
    assert CLIENT_ONLY <= declared.keys()
    client = [c for c in package["contributes"]["configuration"] if c.get("id") == "flashpro.client"]
    assert len(client) == 1
    assert set(client[0]["properties"]) == CLIENT_ONLY


def test_api_key_is_not_a_setting(declared: dict[str, Any]) -> None:
    assert not [key for key in declared if key.lower().endswith("apikey")]


@pytest.mark.parametrize("aspect", ["default", "type", "enum", "minimum", "maximum", "exclusiveMinimum", "pattern"])
def test_each_aspect_matches_the_model(
    aspect: str, declared: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]
) -> None:
    wrong = {
        key: (declared[key].get(aspect), want.get(aspect))
        for key, want in expected.items()
        if key in declared and declared[key].get(aspect) != want.get(aspect)
    }
    assert not wrong, f"{aspect} out of sync (package.json, model): {wrong}; {SYNC_HINT}"


def test_whole_entries_match_the_generator(
    declared: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]
) -> None:
    stale = sorted(key for key, want in expected.items() if declared.get(key) != want)
    assert not stale, f"out of sync: {stale}; {SYNC_HINT}"


def test_generator_check_mode_passes(generator: ModuleType) -> None:
    assert generator.main(["--check"]) == 0, SYNC_HINT


def test_defaults_are_the_models_defaults(declared: dict[str, dict[str, Any]]) -> None:
    """A spot check independent of the generator."""
    assert declared["flashpro.completion.maxOutputTokens"]["default"] == 128
    assert declared["flashpro.completion.maxOutputTokens"]["minimum"] == 1
    assert declared["flashpro.completion.maxOutputTokens"]["maximum"] == 4096
    assert declared["flashpro.budget.dayUsd"]["default"] is None
    assert "null" in declared["flashpro.budget.dayUsd"]["type"]
    assert declared["flashpro.diagnostics.severity"]["enum"] == ["information", "hint"]
    assert declared["flashpro.actions.deferOffPeak"] == {**declared["flashpro.actions.deferOffPeak"], "type": "boolean", "default": False}
    review = declared["flashpro.actions.review"]
    assert review["type"] == "object"
    assert review["default"] == Settings().actions.review.model_dump(by_alias=True)
    assert review["properties"]["model"]["enum"] == ["executor", "planner"]


def test_every_setting_has_a_description(declared: dict[str, dict[str, Any]]) -> None:
    undocumented = [k for k, v in declared.items() if not (v.get("description") or v.get("markdownDescription"))]
    assert not undocumented


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"flashpro.a.b": 1}` as the section `{"a": {"b": 1}}`."""
    section: dict[str, Any] = {}
    for key, value in flat.items():
        node = section
        *parents, leaf = key.split(".")[1:]
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return section


def test_declared_defaults_validate_as_server_settings(
    declared: dict[str, dict[str, Any]], generator: ModuleType
) -> None:
    """What VS Code sends with no user settings is a valid configuration: the server's defaults
    but for the few the extension changes on purpose."""
    sent = _nested({key: value["default"] for key, value in declared.items() if key not in CLIENT_ONLY})
    settings, problems = load_settings(sent)
    assert problems == []
    assert settings == load_settings(_nested(generator.CLIENT_DEFAULTS))[0]


def test_vscode_shows_the_spend_line_as_a_code_lens(declared: dict[str, dict[str, Any]]) -> None:
    """The one default that differs: VS Code underlines a diagnostic, so it gets the code lens."""
    assert declared["flashpro.diagnostics.display"]["default"] == "codeLens"
    assert declared["flashpro.diagnostics.display"]["enum"] == ["diagnostic", "codeLens"]
    assert Settings().diagnostics.display == "diagnostic"
