"""Settings: sources, precedence, validation with per-field fallback."""

from __future__ import annotations

from flashpro.config import DEFAULT_EXCLUDE, Settings, beta_url, load_settings, merge_sources


def test_defaults_cover_every_documented_setting() -> None:
    settings = Settings()
    assert settings.models.flash == "deepseek-v4-flash"
    assert settings.models.pro == "deepseek-v4-pro"
    assert settings.completion.automatic is True
    assert settings.base_url == "https://api.deepseek.com"
    assert settings.api_key_value is None
    assert set(DEFAULT_EXCLUDE) <= set(settings.exclude)


def test_env_then_init_options_then_workspace_configuration() -> None:
    env = {"DEEPSEEK_API_KEY": "sk-env", "DEEPSEEK_BASE_URL": "http://127.0.0.1:9", "FLASHPRO_LEDGER": "/tmp/l.db"}
    raw = merge_sources(
        {"flashpro": {"apiKey": "sk-init", "completion": {"maxOutputTokens": 64}}},
        {"completion": {"automatic": False}},
        env=env,
    )
    settings, problems = load_settings(raw)
    assert problems == []
    assert settings.api_key_value == "sk-init"
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.ledger_path == "/tmp/l.db"
    assert settings.completion.max_output_tokens == 64
    assert settings.completion.automatic is False


def test_invalid_values_fall_back_to_defaults_and_are_reported() -> None:
    settings, problems = load_settings(
        {
            "apiKey": "sk-x",
            "baseUrl": "ftp://nope",
            "models": "not an object",
            "completion": {"maxOutputTokens": 99999, "timeout": "soon", "automatic": False},
        }
    )
    assert settings.base_url == "https://api.deepseek.com"
    assert settings.models.flash == "deepseek-v4-flash"
    assert settings.completion.max_output_tokens == 128
    assert settings.completion.timeout == 8.0
    assert settings.completion.automatic is False  # valid neighbours survive
    assert settings.api_key_value == "sk-x"
    joined = "\n".join(problems)
    for name in ("baseUrl", "models", "completion.maxOutputTokens", "completion.timeout"):
        assert f"flashpro.{name}" in joined
    assert "sk-x" not in joined


def test_user_excludes_extend_the_secret_defaults() -> None:
    settings, _ = load_settings({"exclude": ["**/private/**"]})
    assert "**/private/**" in settings.exclude
    assert "**/.env" in settings.exclude


def test_beta_url_is_derived() -> None:
    assert beta_url("https://api.deepseek.com") == "https://api.deepseek.com/beta"
    assert beta_url("https://api.deepseek.com/v1/") == "https://api.deepseek.com/beta"
    assert beta_url("http://127.0.0.1:5/beta") == "http://127.0.0.1:5/beta"


def test_blank_key_counts_as_missing() -> None:
    settings, _ = load_settings({"apiKey": "   "})
    assert settings.api_key_value is None


def test_prices_override_is_a_setting() -> None:
    override = {"models": {"deepseek-flash": [{"from": "2027-01-01", "off_peak": {"cache_hit": 0.001, "cache_miss": 0.1, "output": 0.5}}]}}
    settings, problems = load_settings({"prices": override})
    assert problems == [] and settings.prices == override
