"""Every flashpro setting: one typed pydantic model per section, with defaults and docs.

Settings arrive from three places, merged in this order (later wins):

1. environment variables (`DEEPSEEK_API_KEY`, `DEEPSEEK_BASE_URL`, `FLASHPRO_LEDGER`);
2. the client's `initializationOptions` (either the `flashpro` section itself or an object
   holding it under the key `flashpro`);
3. `workspace/configuration` for section `flashpro`, re-read on `didChangeConfiguration`.

Keys are camelCase on the wire (`apiKey`, `completion.maxOutputTokens`) and snake_case in
Python. A value that does not validate is dropped, reported once, and its default applies:
a bad setting never stops the server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_snake

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_EXCLUDE",
    "ActionRoute",
    "ActionSettings",
    "BudgetSettings",
    "CompletionSettings",
    "DiagnosticsSettings",
    "ImplementRoute",
    "ModelSettings",
    "Settings",
    "TaskSettings",
    "TelemetrySettings",
    "beta_url",
    "load_settings",
    "merge_sources",
]

DEFAULT_BASE_URL = "https://api.deepseek.com"

DEFAULT_EXCLUDE: tuple[str, ...] = (
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/*.crt",
    "**/*.cer",
    "**/id_rsa*",
    "**/id_ed25519*",
    "**/id_ecdsa*",
    "**/.netrc",
    "**/.npmrc",
    "**/.pypirc",
    "**/secrets.*",
    "**/credentials*",
)


class _Section(BaseModel):
    """Base of every settings section: camelCase aliases, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        validate_default=True,
    )


class ModelSettings(_Section):
    """Which DeepSeek model plays which role (names change; keep them in settings)."""

    flash: str = Field(
        "deepseek-v4-flash",
        min_length=1,
        description="Executor model: FIM completions and quick edits.",
    )
    pro: str = Field(
        "deepseek-v4-pro",
        min_length=1,
        description="Planner model: design and review actions.",
    )


class CompletionSettings(_Section):
    """Inline (FIM) completion behaviour."""

    automatic: bool = Field(
        True,
        description="Answer automatic (as-you-type) inline completion requests. When false, "
        "only explicitly invoked requests are answered.",
    )
    max_output_tokens: int = Field(
        128,
        ge=1,
        le=4096,
        description="Output token cap for automatic completions (FIM output is capped at 4K).",
    )
    invoked_max_output_tokens: int = Field(
        256,
        ge=1,
        le=4096,
        description="Output token cap for explicitly invoked completions.",
    )
    context_tokens: int = Field(
        4096,
        ge=64,
        le=1_000_000,
        description="Budget in exact V4 tokens for the prompt and suffix together.",
    )
    suffix_tokens: int = Field(
        64,
        ge=0,
        le=100_000,
        description="Part of the context budget given to the text after the cursor. The suffix "
        "follows the hole, so it is never served from the prompt cache: keep it small.",
    )
    timeout: float = Field(
        8.0,
        gt=0,
        le=120,
        description="Deadline in seconds for a whole FIM request (keep-alives do not extend it; "
        "half of it is the longest silence allowed once the answer has started). No retries.",
    )
    max_file_size: int = Field(
        10_000_000,
        ge=1,
        description="Files larger than this many characters get no completions.",
    )


class DiagnosticsSettings(_Section):
    """The per-file spend line: a diagnostic on the first line, or a code lens above it."""

    enabled: bool = Field(True, description="Show the per-file spend line.")
    display: Literal["diagnostic", "codeLens"] = Field(
        "diagnostic",
        description="How the spend line is shown: diagnostic (on the first line; every client "
        "shows it, some underline the line) or codeLens (above the first line, nothing "
        "underlined; for clients with code lenses, the VS Code extension's default).",
    )
    severity: Literal["information", "hint"] = Field(
        "information", description="Severity of the spend diagnostic: information or hint."
    )
    window: Literal["session", "today", "all"] = Field(
        "session", description="Which calls the spend line covers."
    )


class BudgetSettings(_Section):
    """Spending caps; as one nears, flashpro degrades in stages (see the README)."""

    day_usd: float | None = Field(
        None, gt=0, description="USD per UTC day across all files (unset: no cap)."
    )
    file_usd: float | None = Field(
        None, gt=0, description="USD per UTC day for any one file (unset: no cap)."
    )
    request_tokens: int | None = Field(
        None, ge=64, description="Tokens per request, context and output together (unset: no cap)."
    )


class ActionRoute(_Section):
    """How one code action is routed: which model role, thinking, effort and budgets."""

    model: Literal["executor", "planner"] = Field(
        "executor", description="executor (V4 Flash) or planner (V4 Pro)."
    )
    thinking: bool = Field(False, description="Let the model think before answering.")
    reasoning_effort: Literal["low", "medium", "high", "max"] | None = Field(
        None, description="Reasoning effort when thinking (unset: the API's default)."
    )
    max_output_tokens: int = Field(
        2048, ge=16, le=384_000, description="Output token cap, reasoning included."
    )
    context_tokens: int = Field(
        8192, ge=256, le=1_000_000, description="Budget in exact V4 tokens for the prompt."
    )


class ImplementRoute(ActionRoute):
    """How "Implement this" is routed: which models plan, execute the nodes and accept."""

    combination: Literal["pro-flash", "flash", "pro"] = Field(
        "pro-flash",
        description="pro-flash: V4 Pro plans and accepts, each node runs on the model the plan "
        "routes it to (V4 Flash unless the plan says planner); flash: V4 Flash does everything; "
        "pro: V4 Pro does everything.",
    )

    @model_validator(mode="after")
    def _planner_follows_combination(self) -> ImplementRoute:
        """`model` (who plans and accepts) follows the combination."""
        self.model = "executor" if self.combination == "flash" else "planner"
        return self


_PLANNER = {"model": "planner", "thinking": True, "reasoningEffort": "high"}
_EXECUTOR = {"model": "executor", "thinking": False}
_ROUTES: dict[str, dict[str, Any]] = {
    "review": {**_PLANNER, "maxOutputTokens": 8192, "contextTokens": 16384},
    "design": {**_PLANNER, "maxOutputTokens": 8192, "contextTokens": 16384},
    "quickEdit": {**_EXECUTOR, "maxOutputTokens": 4096, "contextTokens": 8192},
    "explain": {**_EXECUTOR, "maxOutputTokens": 1024, "contextTokens": 6144},
    "tests": {**_EXECUTOR, "maxOutputTokens": 4096, "contextTokens": 8192},
    "implement": {**_PLANNER, "maxOutputTokens": 16384, "contextTokens": 32768},
}
"""Default routes; a route given in settings is merged key by key over its default."""


def _route(name: str) -> Any:
    """A default factory for one action's route."""
    kind = ImplementRoute if name == "implement" else ActionRoute
    return lambda: kind.model_validate(_ROUTES[name])


class ActionSettings(_Section):
    """Routing of the code actions (action -> model role, thinking, budgets)."""

    review: ActionRoute = Field(
        default_factory=_route("review"),
        description="Review this: findings as diagnostics with quick fixes.",
    )
    design: ActionRoute = Field(
        default_factory=_route("design"),
        description="Design this: a structured design written as a Markdown document.",
    )
    quick_edit: ActionRoute = Field(
        default_factory=_route("quickEdit"),
        description="Quick edit: the selection rewritten to an instruction, applied as one edit.",
    )
    explain: ActionRoute = Field(
        default_factory=_route("explain"),
        description="Explain this: a short Markdown explanation.",
    )
    tests: ActionRoute = Field(
        default_factory=_route("tests"),
        description="Write tests for this: a new test file, applied as one edit.",
    )
    implement: ImplementRoute = Field(
        default_factory=_route("implement"),
        description="Implement this: V4 Pro plans a change as nodes, V4 Flash executes them, the "
        "server checks each, Pro accepts; one reviewed edit. `combination` picks pro-flash, flash "
        "or pro; the other keys apply to the planning and acceptance calls.",
    )
    defer_off_peak: bool = Field(
        False,
        description="At peak price, queue planner actions (design, review) until off-peak "
        "instead of running them now.",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_over_defaults(cls, data: Any) -> Any:
        """A partial route (`{"thinking": false}`) keeps the rest of that action's defaults."""
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        for name, defaults in _ROUTES.items():
            key = name if name in merged else to_snake(name)
            given = merged.get(key)
            if isinstance(given, Mapping):
                merged[key] = {**defaults, **given}
        return merged


class TaskSettings(_Section):
    """Tasks ("Implement this"): scheduling, checks, retries and limits."""

    concurrency: int = Field(4, ge=1, le=16, description="Nodes run at once (DeepSeek limits concurrency per account).")
    max_attempts: int = Field(
        3, ge=1, le=10, description="Executor attempts per node (each retry sees the failing check's output) before one escalation to V4 Pro."
    )
    max_usd: float | None = Field(None, gt=0, description="USD a single task may spend; it stops cleanly when reached (unset: no cap).")
    run_tests: bool = Field(
        False,
        description="Allow `tests:` checks: run pytest in the task's shadow copy of this workspace (it executes workspace and model-written code; off by default).",
    )
    checks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named check commands a plan may ask for: name -> argv, run in the shadow copy with a timeout and without secrets in the environment.",
    )
    max_replicas: int = Field(3, ge=1, le=8, description="Most candidates a node with `replicas` runs at once.")
    max_nodes: int = Field(12, ge=1, le=100, description="Most nodes a plan may have.")
    max_files: int = Field(20, ge=1, le=500, description="Most files a plan may touch.")
    node_context_tokens: int = Field(24576, ge=1024, le=1_000_000, description="Prompt budget of one node call, in exact V4 tokens.")
    check_timeout: float = Field(120.0, gt=0, le=3600, description="Seconds before a check command (tests, named checks) is stopped.")
    survival_seconds: float = Field(
        300.0, gt=0, le=86_400, description="After this long, how much of an applied task's change is still in the files is measured."
    )
    python: str | None = Field(None, description="Python that runs tests: checks (default: the workspace's .venv, else the one running flashpro).")


class TelemetrySettings(_Section):
    """Opt-in OpenTelemetry export of every model call (GenAI semantic conventions)."""

    otlp_endpoint: str | None = Field(
        None,
        pattern=r"^https?://",
        description="OTLP/HTTP endpoint of a collector, e.g. http://localhost:4318 (unset: the "
        "OTEL_EXPORTER_OTLP_ENDPOINT environment variable, else no export). Prompt text is never "
        "exported unless logPrompts is on.",
    )
    export_interval_seconds: float = Field(
        30.0, gt=0, le=3600, description="How often metrics are exported (spans go out in batches as they end)."
    )


class Settings(_Section):
    """The whole `flashpro` settings section."""

    api_key: SecretStr | None = Field(
        None,
        description="DeepSeek API key. Prefer the DEEPSEEK_API_KEY environment variable or the "
        "VS Code secret store; never commit it.",
    )
    base_url: str = Field(
        DEFAULT_BASE_URL,
        pattern=r"^https?://",
        description="DeepSeek API base URL; the FIM (beta) URL is derived from it.",
    )
    models: ModelSettings = Field(default_factory=ModelSettings)
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    diagnostics: DiagnosticsSettings = Field(default_factory=DiagnosticsSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    request_timeout: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="Deadline in seconds for a whole chat (planner / quick edit) request "
        "(keep-alives do not extend it; once the answer has started, a silence of half of it, "
        "at most 15 s, also ends it).",
    )
    ledger_path: str | None = Field(
        None,
        description="Path of the SQLite usage ledger (default: the user data directory; "
        "env FLASHPRO_LEDGER).",
    )
    exclude: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDE),
        description="Glob patterns of files never sent to the API. Secrets-like files are "
        "excluded by default; patterns you add are appended to the defaults.",
    )
    log_prompts: bool = Field(
        False, description="Store prompt text in the ledger (off by default)."
    )
    prices: dict[str, Any] | None = Field(
        None,
        description="Price table entries merged over the built-in table (same shape as "
        "flashpro/ledger/prices.json), for when DeepSeek changes prices.",
    )

    @field_validator("exclude")
    @classmethod
    def _keep_default_excludes(cls, value: list[str]) -> list[str]:
        """User patterns extend the secret-file defaults; they never replace them."""
        return list(dict.fromkeys([*DEFAULT_EXCLUDE, *value]))

    @property
    def api_key_value(self) -> str | None:
        """The API key as plain text, or None when unset or blank."""
        if self.api_key is None:
            return None
        value = self.api_key.get_secret_value().strip()
        return value or None


def beta_url(base_url: str) -> str:
    """The `/beta` base URL (FIM lives there) derived from the main base URL."""
    base = base_url.rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    if base.endswith("/beta"):
        return base
    return base + "/beta"


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge `extra` into a copy of `base` (extra wins)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        elif value is not None:
            merged[key] = dict(value) if isinstance(value, Mapping) else value
    return merged


def _section(raw: Any) -> dict[str, Any]:
    """Extract the flashpro section from initializationOptions or a configuration result."""
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("flashpro")
    if isinstance(inner, Mapping):
        return dict(inner)
    return dict(raw)


def _env_section(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings that come from environment variables."""
    section: dict[str, Any] = {}
    if env.get("DEEPSEEK_API_KEY"):
        section["apiKey"] = env["DEEPSEEK_API_KEY"]
    if env.get("DEEPSEEK_BASE_URL"):
        section["baseUrl"] = env["DEEPSEEK_BASE_URL"]
    if env.get("FLASHPRO_LEDGER"):
        section["ledgerPath"] = env["FLASHPRO_LEDGER"]
    return section


def merge_sources(*sources: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge env and the given raw sources (initializationOptions, configuration) in order."""
    merged = _env_section(os.environ if env is None else env)
    for source in sources:
        merged = _deep_merge(merged, _section(source))
    return merged


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    """Remove the value at `loc` (by alias or field name) from nested `data`."""
    node: Any = data
    for part in loc[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    last = loc[-1] if loc else None
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        del node[last]
        return True
    return False


def _describe(error: Mapping[str, Any]) -> str:
    """One line naming the bad setting and why it was refused (never its secret value)."""
    path = ".".join(str(part) for part in error.get("loc", ()))
    return f"flashpro.{path}: {error.get('msg', 'invalid value')}"


def load_settings(raw: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Validate a merged settings dict; bad values fall back to defaults and are reported."""
    data = _deep_merge({}, raw)
    problems: list[str] = []
    for _ in range(64):
        try:
            return Settings.model_validate(data), problems
        except ValidationError as exc:
            errors = exc.errors()
            dropped = False
            for error in errors:
                loc = tuple(error.get("loc", ()))
                if _drop(data, loc) or (len(loc) > 1 and _drop(data, loc[:-1])):
                    problems.append(_describe(error))
                    dropped = True
            if not dropped:
                problems.extend(_describe(e) for e in errors)
                return Settings(), problems
    return Settings(), problems
