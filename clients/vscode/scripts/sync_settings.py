"""Regenerate the server settings in package.json from the server's settings model.

The server's pydantic model (`flashpro.config.Settings`) is the one source of truth for every
`flashpro.*` setting the server reads; this script writes them into the extension's
`contributes.configuration`, one category per section, with descriptions, defaults, JSON types,
enums and bounds taken from the model. Rules:

- a section that is a field of `Settings` (`completion`, `budget`, ...) becomes dotted keys
  (`flashpro.completion.maxOutputTokens`); top-level values go to the "General" category;
- a model nested deeper (an action route: `flashpro.actions.review`) is one object setting whose
  default is the whole object (VS Code and the server both merge a partial object over it);
- `X | None` allows null; a `None` default is written as null;
- `apiKey` is never a setting: the extension keeps the key in VS Code's secret storage;
- a few defaults differ in VS Code on purpose (`CLIENT_DEFAULTS`): the extension then sends
  that value to the server unless the user sets another.

The client-only settings live in the category with id `flashpro.client`, which this script
leaves as it is. Run with the project's virtual environment, from anywhere:

    .venv/bin/python clients/vscode/scripts/sync_settings.py          # rewrite package.json
    .venv/bin/python clients/vscode/scripts/sync_settings.py --check  # exit 1 when out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flashpro.config import Settings

PACKAGE_JSON = Path(__file__).resolve().parent.parent / "package.json"
PREFIX = "flashpro"
CLIENT_CATEGORY = "flashpro.client"
EXCLUDED = frozenset({"apiKey"})
"""Wire names of `Settings` fields that are not VS Code settings."""
GENERAL = "general"
CLIENT_DEFAULTS: dict[str, Any] = {
    "flashpro.diagnostics.display": "codeLens",  # VS Code underlines a diagnostic's range
}
"""VS Code defaults that differ from the server's own, by full key."""

_DROPPED = frozenset({"title", "default"})


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The model class of a field annotation, if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic property schema in the shape VS Code's settings UI understands.

    Drops `title`/`default`, and turns `anyOf: [X, {type: null}]` into X with a nullable type
    (and `null` added to its enum).
    """
    schema = {k: v for k, v in schema.items() if k not in _DROPPED}
    any_of = schema.pop("anyOf", None)
    if any_of is not None:
        others = [s for s in any_of if s.get("type") != "null"]
        if len(others) != 1 or len(others) == len(any_of):
            raise ValueError(f"unsupported union in settings schema: {any_of}")
        inner = {k: v for k, v in others[0].items() if k not in _DROPPED}
        types = inner.get("type")
        inner["type"] = [*(types if isinstance(types, list) else [types]), "null"]
        if "enum" in inner:
            inner["enum"] = [*inner["enum"], None]
        schema = {**inner, **schema}
    types = schema.get("type")
    if "object" in (types if isinstance(types, list) else [types]) and schema.get("additionalProperties") is True:
        del schema["additionalProperties"]  # the JSON schema default; keep the setting short
    return _ordered(schema)


_KEY_ORDER = (
    "type", "enum", "items", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum",
    "minLength", "pattern", "default", "description", "properties", "additionalProperties", "order",
)


def _ordered(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its keys in a fixed, readable order (unknown keys last, sorted)."""
    rank = {key: i for i, key in enumerate(_KEY_ORDER)}
    return {k: schema[k] for k in sorted(schema, key=lambda k: (rank.get(k, len(rank)), k))}


def _properties(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Property schemas of `model` by wire name (camelCase)."""
    return model.model_json_schema(by_alias=True)["properties"]


def _object_setting(model: type[BaseModel], description: str | None, default: Any) -> dict[str, Any]:
    """One object setting for a nested model (its fields become the object's properties)."""
    props = {name: _clean(schema) for name, schema in _properties(model).items()}
    keys = ", ".join(props)
    text = f"{description or model.__doc__ or ''} An object with the keys {keys}; keys left out keep their defaults."
    return {
        "type": "object",
        "default": default,
        "description": text.strip(),
        "properties": props,
        "additionalProperties": False,
    }


def _leaf_setting(schema: dict[str, Any], default: Any) -> dict[str, Any]:
    """One plain setting from its property schema."""
    return _ordered({**_clean(schema), "default": default})


def _section_settings(
    model: type[BaseModel], defaults: dict[str, Any], prefix: str
) -> dict[str, dict[str, Any]]:
    """Settings of one section: leaves, and nested models as object settings."""
    schemas = _properties(model)
    result: dict[str, dict[str, Any]] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        key = f"{prefix}.{alias}"
        nested = _model_class(field.annotation)
        if nested is not None:
            result[key] = _object_setting(nested, field.description, defaults[alias])
        else:
            result[key] = _leaf_setting(schemas[alias], defaults[alias])
    return result


def server_categories() -> list[dict[str, Any]]:
    """The generated configuration categories: General first, then one per section."""
    defaults = Settings().model_dump(by_alias=True, mode="json")
    schemas = _properties(Settings)
    general: dict[str, dict[str, Any]] = {}
    sections: list[tuple[str, dict[str, dict[str, Any]]]] = []
    for name, field in Settings.model_fields.items():
        alias = field.alias or name
        if alias in EXCLUDED:
            continue
        section = _model_class(field.annotation)
        if section is None:
            general[f"{PREFIX}.{alias}"] = _leaf_setting(schemas[alias], defaults[alias])
        else:
            sections.append((alias, _section_settings(section, defaults[alias], f"{PREFIX}.{alias}")))
    categories = [(GENERAL, general), *sections]
    result: list[dict[str, Any]] = []
    order = 0
    for index, (alias, props) in enumerate(categories, start=1):
        for key, setting in props.items():
            if key in CLIENT_DEFAULTS:
                setting["default"] = CLIENT_DEFAULTS[key]
            setting["order"] = order
            order += 1
        title = alias[0].upper() + alias[1:]
        result.append({"id": f"{PREFIX}.{alias}", "title": title, "order": index, "properties": props})
    return result


def server_properties() -> dict[str, dict[str, Any]]:
    """Every generated setting by full key (`flashpro.completion.maxOutputTokens`)."""
    return {key: value for c in server_categories() for key, value in c["properties"].items()}


def synced(package: dict[str, Any]) -> dict[str, Any]:
    """`package` with its server categories regenerated (the client category kept first)."""
    contributes = package.setdefault("contributes", {})
    existing = contributes.get("configuration", [])
    if isinstance(existing, dict):
        existing = [existing]
    client = [c for c in existing if c.get("id") == CLIENT_CATEGORY]
    contributes["configuration"] = [*client, *server_categories()]
    return package


def render(package: dict[str, Any]) -> str:
    """package.json text as written (2-space indent, trailing newline)."""
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when package.json is out of date")
    args = parser.parse_args(argv)
    current = PACKAGE_JSON.read_text(encoding="utf-8")
    wanted = render(synced(json.loads(current)))
    if args.check:
        if current != wanted:
            print(f"{PACKAGE_JSON} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        PACKAGE_JSON.write_text(wanted, encoding="utf-8")
        print(f"updated {PACKAGE_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
