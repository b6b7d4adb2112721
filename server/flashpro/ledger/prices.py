"""The price table: DeepSeek prices as dated data, peak hours, and the cost of one call.

Prices live in ``prices.json`` next to this module (``"version": 1``), never in code: per model
name, a list of entries each effective from a UTC date, with off-peak and peak figures in USD per
1M tokens for cache hits, cache misses and output. Aliases map a name to another for a date range
(``deepseek-v4-flash`` is priced as ``deepseek-flash`` from 2026-09-10). User overrides (a setting)
are merged over the built-in table by :meth:`PriceTable.load`.

Arithmetic is exact (``Decimal``): ``hit x hit price + miss x miss price + completion x output
price``. Reasoning tokens are already part of ``completion_tokens`` and are not added again; cache
hits are not also billed as misses. A model the table does not know costs ``None``, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from flashpro.usage import Usage

__all__ = [
    "PRICE_TABLE_VERSION",
    "Price",
    "PriceTable",
    "as_utc",
    "cost_usd",
    "is_peak",
    "price_for",
]

PRICE_TABLE_VERSION = 1
_PER_TOKENS = Decimal(1_000_000)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FIELDS = ("cache_hit", "cache_miss", "output")


def as_utc(when: datetime) -> datetime:
    """Return ``when`` as an aware UTC datetime; a naive datetime is taken to be UTC already."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Price:
    """What one model costs at one moment: USD per 1M tokens, peak or off-peak already chosen."""

    model: str
    effective_from: datetime
    peak: bool
    cache_hit: Decimal
    cache_miss: Decimal
    output: Decimal

    def cost(self, usage: Usage) -> Decimal:
        """Exact USD cost of ``usage`` at this price."""
        total = (
            usage.cache_hit_tokens * self.cache_hit
            + usage.cache_miss_tokens * self.cache_miss
            + usage.completion_tokens * self.output
        )
        return total / _PER_TOKENS


@dataclass(frozen=True, slots=True)
class _Entry:
    start: datetime
    off_peak: tuple[Decimal, Decimal, Decimal]
    peak: tuple[Decimal, Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class _Alias:
    start: datetime
    end: datetime | None
    target: str


class PriceTable:
    """Dated prices per model, aliases and peak hours; immutable once loaded."""

    def __init__(
        self,
        models: Mapping[str, list[_Entry]],
        aliases: Mapping[str, list[_Alias]],
        peak_weekdays: frozenset[int],
        peak_ranges: tuple[tuple[time, time], ...],
    ) -> None:
        self._models = {
            name: sorted(entries, key=lambda e: e.start) for name, entries in models.items()
        }
        self._aliases = {
            name: sorted(items, key=lambda a: a.start) for name, items in aliases.items()
        }
        self._peak_weekdays = peak_weekdays
        self._peak_ranges = peak_ranges

    @classmethod
    def load(cls, override: str | Path | Mapping[str, Any] | None = None) -> PriceTable:
        """Load the built-in table, merging ``override`` (a JSON file path or a dict) over it.

        The override has the shape of ``prices.json``; every part is optional. A model entry with
        the same ``from`` date as a built-in one replaces it, others are added; likewise aliases;
        ``peak_hours_utc`` replaces the built-in hours. Raises ``ValueError`` on a malformed table.
        """
        base = _read_builtin()
        if override is not None:
            extra = (
                _read_json_file(Path(override)) if isinstance(override, (str, Path)) else override
            )
            base = _merge(base, extra)
        return cls._from_data(base)

    @classmethod
    def _from_data(cls, data: Mapping[str, Any]) -> PriceTable:
        version = data.get("version", PRICE_TABLE_VERSION)
        if version != PRICE_TABLE_VERSION:
            raise ValueError(
                f"price table version {version!r} is not supported (expected {PRICE_TABLE_VERSION})"
            )
        models = {
            str(name): [_parse_entry(name, e) for e in _as_list(v)]
            for name, v in _mapping(data, "models").items()
        }
        aliases = {
            str(name): [_parse_alias(name, a) for a in _as_list(v)]
            for name, v in _mapping(data, "aliases").items()
        }
        weekdays, ranges = _parse_peak_hours(data.get("peak_hours_utc") or {})
        return cls(models, aliases, weekdays, ranges)

    @property
    def models(self) -> list[str]:
        """Names that have prices of their own (aliases not included), sorted."""
        return sorted(self._models)

    def is_peak(self, when: datetime) -> bool:
        """True when ``when`` falls in peak hours (start inclusive, end exclusive, UTC weekdays)."""
        moment = as_utc(when)
        if moment.weekday() not in self._peak_weekdays:
            return False
        clock = moment.time().replace(tzinfo=None)
        return any(start <= clock < end for start, end in self._peak_ranges)

    def resolve(self, model: str, when: datetime) -> str:
        """The name whose prices apply to ``model`` at ``when``, following aliases."""
        moment = as_utc(when)
        name = model
        for _ in range(8):  # alias chains are short; the bound guards against cycles
            alias = self._active_alias(name, moment)
            if alias is None:
                return name
            own = self._entry(name, moment)
            if own is not None and own.start > alias.start:
                return name
            name = alias.target
        return name

    def price_for(self, model: str | None, when: datetime) -> Price | None:
        """The price of ``model`` at ``when``, or None for an unknown model or date."""
        if not model:
            return None
        moment = as_utc(when)
        name = self.resolve(model, moment)
        entry = self._entry(name, moment)
        if entry is None:
            return None
        peak = self.is_peak(moment)
        hit, miss, out = entry.peak if peak else entry.off_peak
        return Price(name, entry.start, peak, hit, miss, out)

    def cost_usd(self, usage: Usage, model: str | None, when: datetime) -> Decimal | None:
        """Exact USD cost of one call, or None when the model (at that date) has no price."""
        price = self.price_for(model, when)
        return None if price is None else price.cost(usage)

    def _active_alias(self, name: str, moment: datetime) -> _Alias | None:
        active = [
            a
            for a in self._aliases.get(name, ())
            if a.start <= moment and (a.end is None or moment < a.end)
        ]
        return active[-1] if active else None

    def _entry(self, name: str, moment: datetime) -> _Entry | None:
        found = None
        for entry in self._models.get(name, ()):
            if entry.start <= moment:
                found = entry
        return found


_DEFAULT: PriceTable | None = None


def _default_table() -> PriceTable:
    global _DEFAULT  # a cache of immutable data loaded from the package, not state
    if _DEFAULT is None:
        _DEFAULT = PriceTable.load()
    return _DEFAULT


def is_peak(when: datetime) -> bool:
    """True when ``when`` is in DeepSeek's peak hours according to the built-in table."""
    return _default_table().is_peak(when)


def price_for(model: str | None, when: datetime) -> Price | None:
    """The built-in table's price of ``model`` at ``when`` (None if unknown)."""
    return _default_table().price_for(model, when)


def cost_usd(usage: Usage, model: str | None, when: datetime) -> Decimal | None:
    """Exact USD cost of one call from the built-in table (None if the model is unknown)."""
    return _default_table().cost_usd(usage, model, when)


# --- parsing -------------------------------------------------------------------------------------


def _read_builtin() -> dict[str, Any]:
    text = resources.files("flashpro.ledger").joinpath("prices.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def _read_json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.expanduser().read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read price overrides from {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"price overrides in {path} must be a JSON object")
    return data


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    if "version" in extra:
        merged["version"] = extra["version"]
    if "peak_hours_utc" in extra:
        merged["peak_hours_utc"] = extra["peak_hours_utc"]
    for section in ("models", "aliases"):
        combined: dict[str, list[Any]] = {
            k: list(_as_list(v)) for k, v in _mapping(base, section).items()
        }
        for name, items in _mapping(extra, section).items():
            current = {str(_field(item, "from", name)): item for item in combined.get(name, [])}
            for item in _as_list(items):
                current[str(_field(item, "from", name, default="0001-01-01"))] = item
            combined[str(name)] = list(current.values())
        merged[section] = combined
    return merged


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"price table: '{key}' must be an object")
    return value


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _field(item: Any, key: str, name: object, default: Any = None) -> Any:
    if not isinstance(item, Mapping):
        raise ValueError(f"price table: entry for {name!r} must be an object")
    value = item.get(key, default)
    if value is None:
        raise ValueError(f"price table: entry for {name!r} lacks '{key}'")
    return value


def _parse_start(value: Any, name: object) -> datetime:
    try:
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=UTC)
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError as exc:
        raise ValueError(f"price table: bad date {value!r} for {name!r}") from exc


def _parse_figures(value: Any, name: object) -> tuple[Decimal, Decimal, Decimal]:
    if not isinstance(value, Mapping):
        raise ValueError(
            f"price table: prices for {name!r} must be an object with {', '.join(_FIELDS)}"
        )
    figures = []
    for key in _FIELDS:
        try:
            figure = Decimal(str(value[key]))
        except (KeyError, InvalidOperation) as exc:
            raise ValueError(f"price table: {name!r} needs a number for '{key}'") from exc
        if figure < 0 or not figure.is_finite():
            raise ValueError(f"price table: {name!r} has an invalid '{key}' price {figure}")
        figures.append(figure)
    return figures[0], figures[1], figures[2]


def _parse_entry(name: object, item: Any) -> _Entry:
    start = _parse_start(_field(item, "from", name, default="0001-01-01"), name)
    off_peak = _parse_figures(_field(item, "off_peak", name), name)
    peak_raw = item.get("peak")
    peak = off_peak if peak_raw is None else _parse_figures(peak_raw, name)
    return _Entry(start, off_peak, peak)


def _parse_alias(name: object, item: Any) -> _Alias:
    start = _parse_start(_field(item, "from", name, default="0001-01-01"), name)
    until = item.get("until")
    end = None if until is None else _parse_start(until, name)
    return _Alias(start, end, str(_field(item, "to", name)))


def _parse_peak_hours(value: Any) -> tuple[frozenset[int], tuple[tuple[time, time], ...]]:
    if not isinstance(value, Mapping):
        raise ValueError("price table: 'peak_hours_utc' must be an object")
    try:
        days = frozenset(_WEEKDAYS.index(str(d).lower()[:3]) for d in value.get("weekdays", ()))
        ranges = tuple(
            (time.fromisoformat(str(start)), _end_of_range(str(end)))
            for start, end in value.get("ranges", ())
        )
    except ValueError as exc:
        raise ValueError(f"price table: bad 'peak_hours_utc': {exc}") from exc
    return days, ranges


def _end_of_range(text: str) -> time:
    # "24:00" means the end of the day; time() cannot hold it.
    return time.max if text in ("24:00", "24:00:00") else time.fromisoformat(text)
