"""The checks `flashpro doctor` runs, each a small function that returns one `Check`.

A check says what it found (`detail`) and, when it failed, what to do (`fix`). Settings are the
ones the server would use (`flashpro.config`: environment, then the `--settings` file); the API
is asked once for its models (`GET /models`, short timeout) with the configured key.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flashpro.config import Settings, beta_url
from flashpro.ledger import PriceTable
from flashpro.ledger.schema import MIGRATIONS, schema_version
from flashpro.providers import DeepSeekProvider, ProviderError

__all__ = [
    "Check",
    "check_api",
    "check_base_url",
    "check_key",
    "check_ledger",
    "check_models",
    "check_on_path",
    "check_prices",
    "check_python",
]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's output: `status` is ok, fail or skip."""

    name: str
    status: str
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """Whether the check did not fail (a skipped check does not fail)."""
        return self.status != "fail"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for --json."""
        return asdict(self)


def check_python() -> Check:
    """The interpreter flashpro runs on."""
    version = ".".join(str(n) for n in sys.version_info[:3])
    if sys.version_info >= (3, 11):  # noqa: UP036 - reported, not assumed: a user may run another Python
        return Check("python", "ok", f"Python {version} ({sys.executable})")
    return Check("python", "fail", f"Python {version}", "flashpro needs Python 3.11 or newer")


def check_on_path(executable: str) -> Check:
    """Whether `flashpro` on PATH is this one (editors that start a bare `flashpro` find it)."""
    found = shutil.which("flashpro")
    if found is None:
        return Check(
            "PATH",
            "fail",
            "`flashpro` is not on PATH",
            "install with `pipx install` or `uv tool install` (docs/install.md), or give editors "
            "the absolute path printed below",
        )
    if os.path.abspath(found) != os.path.abspath(executable):
        return Check("PATH", "ok", f"`flashpro` on PATH is {found} (this one is {executable})")
    return Check("PATH", "ok", f"`flashpro` on PATH: {found}")


def check_key(settings: Settings, source: str) -> Check:
    """Whether an API key is configured (never shown)."""
    key = settings.api_key_value
    if key is None:
        return Check(
            "API key",
            "fail",
            "no DeepSeek API key",
            "export DEEPSEEK_API_KEY=sk-... (or `apiKey` in the --settings file / the editor's "
            "flashpro.apiKey); without one, `flashpro demo` runs offline",
        )
    return Check("API key", "ok", f"set ({source}, {len(key)} characters)")


def check_base_url(settings: Settings) -> Check:
    """The base URL, and the FIM (beta) URL derived from it."""
    url = settings.base_url
    parsed = urlparse(url)
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK:
        return Check(
            "base URL",
            "fail",
            f"{url} is plain http: the API key would travel unencrypted",
            "use https:// (DEEPSEEK_BASE_URL or flashpro.baseUrl)",
        )
    return Check("base URL", "ok", f"{url} (FIM: {beta_url(url)}/completions)")


async def _list_models(settings: Settings, timeout: float) -> list[str]:
    provider = DeepSeekProvider(settings.api_key_value, settings.base_url, chat_timeout=timeout)
    try:
        return await asyncio.wait_for(provider.list_models(), timeout)
    finally:
        await provider.aclose()


def check_api(settings: Settings, timeout: float = 5.0) -> tuple[Check, list[str] | None]:
    """`GET /models` with the key: (the check, the model ids offered or None)."""
    if settings.api_key_value is None:
        return Check("API", "skip", "not called: no API key"), None
    started = time.monotonic()
    try:
        models = asyncio.run(_list_models(settings, timeout))
    except ProviderError as error:
        return Check("API", "fail", f"GET {settings.base_url}/models: {error.message}", error.hint), None
    except TimeoutError:
        return Check("API", "fail", f"GET {settings.base_url}/models: no answer in {timeout:g} s",
                     "check the network and DEEPSEEK_BASE_URL"), None
    took = (time.monotonic() - started) * 1000
    return Check("API", "ok", f"GET /models answered in {took:.0f} ms: {len(models)} models"), models


def check_models(settings: Settings, offered: list[str] | None) -> Check:
    """The configured models against those the key may use."""
    configured = {"flash": settings.models.flash, "pro": settings.models.pro}
    names = ", ".join(f"{role} = {name}" for role, name in configured.items())
    if offered is None:
        return Check("models", "skip", f"{names} (not compared: the API was not asked)")
    missing = [f"{name} (flashpro.models.{role})" for role, name in configured.items() if name not in offered]
    if missing:
        return Check(
            "models",
            "fail",
            f"not offered to this key: {', '.join(missing)}; offered: {', '.join(sorted(offered))}",
            "set flashpro.models.flash / flashpro.models.pro to offered names",
        )
    return Check("models", "ok", f"{names}: both offered")


def _per_million(value: Any) -> str:
    return f"${float(value):g}"


def check_prices(settings: Settings, now: datetime | None = None) -> Check:
    """Today's price of each configured model (peak or off-peak now)."""
    moment = now or datetime.now(UTC)
    try:
        table = PriceTable.load(settings.prices)
    except ValueError as exc:
        return Check("prices", "fail", f"flashpro.prices: {exc}", "fix the override (same shape as prices.json)")
    parts, unknown = [], []
    for name in dict.fromkeys((settings.models.flash, settings.models.pro)):
        price = table.price_for(name, moment)
        if price is None:
            unknown.append(name)
            continue
        figures = "/".join(_per_million(v) for v in (price.cache_hit, price.cache_miss, price.output))
        alias = f" as {price.model}" if price.model != name else ""
        parts.append(f"{name}{alias} {figures}")
    when = "peak" if table.is_peak(moment) else "off-peak"
    detail = f"{when} now ({moment:%Y-%m-%d %H:%M} UTC); per 1M tokens hit/miss/output: " + "; ".join(parts)
    if unknown:
        return Check(
            "prices",
            "fail",
            f"no price for {', '.join(unknown)}; " + detail,
            "their calls are recorded without a cost: add them under flashpro.prices",
        )
    return Check("prices", "ok", detail)


def check_ledger(path: Path) -> Check:
    """The ledger file: there and readable (schema version, rows), or creatable; writable."""
    if path.exists():
        if not path.is_file():
            return Check("ledger", "fail", f"{path} is not a file", "set FLASHPRO_LEDGER to a file path")
        try:
            conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                version = schema_version(conn)
                rows = conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return Check(
                "ledger",
                "fail",
                f"{path} cannot be read as a flashpro ledger ({exc})",
                "move the file away (flashpro starts a new ledger) or set FLASHPRO_LEDGER",
            )
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        detail = f"{path}: schema {version} (this flashpro: {len(MIGRATIONS)}), {rows:,} calls"
        if not writable:
            return Check("ledger", "fail", detail + ", not writable", "fix the file's permissions")
        return Check("ledger", "ok", detail)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if os.access(parent, os.W_OK):
        return Check("ledger", "ok", f"{path}: not there yet; created at the first call")
    return Check("ledger", "fail", f"{path} cannot be created ({parent} is not writable)", "set FLASHPRO_LEDGER to a writable path")
