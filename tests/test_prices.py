"""The price table: figures from the DeepSeek docs, peak hours, aliases, overrides, arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from flashpro.ledger import CallRecord, Price, PriceTable, cost_usd, is_peak, price_for
from flashpro.usage import Usage

# 2026-05-04 and 2026-09-14 are Mondays; 2026-09-12 is a Saturday.
MAY_MONDAY = datetime(2026, 5, 4, tzinfo=UTC)
SEP_MONDAY = datetime(2026, 9, 14, tzinfo=UTC)
SEP_SATURDAY = datetime(2026, 9, 12, tzinfo=UTC)

# 10,000 prompt tokens of which 8,000 hit the cache; 500 output tokens.
USAGE = Usage(
    prompt_tokens=10_000, completion_tokens=500, cache_hit_tokens=8_000, cache_miss_tokens=2_000
)


def at(day: datetime, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=second, microsecond=micro)


def _price(table: PriceTable, model: str, when: datetime) -> Price:
    price = table.price_for(model, when)
    assert price is not None
    return price


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def test_builtin_json_is_versioned_and_complete() -> None:
    raw = resources.files("flashpro.ledger").joinpath("prices.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    assert data["version"] == 1
    for name, entries in data["models"].items():
        for entry in entries:
            assert set(entry["off_peak"]) == {"cache_hit", "cache_miss", "output"}, name
            assert set(entry["peak"]) == {"cache_hit", "cache_miss", "output"}, name
    assert set(data["models"]) == {"deepseek-v4-flash", "deepseek-v4-pro", "deepseek-flash"}


def test_flash_off_peak_before_2026_09_10(table: PriceTable) -> None:
    # 8000 x 0.0028 + 2000 x 0.14 + 500 x 0.28 = 442.4 per 1M
    assert table.cost_usd(USAGE, "deepseek-v4-flash", at(MAY_MONDAY, 12)) == Decimal("0.0004424")
    # V4 Flash had no peak pricing: peak hours cost the same.
    assert table.cost_usd(USAGE, "deepseek-v4-flash", at(MAY_MONDAY, 2)) == Decimal("0.0004424")


def test_flash_after_2026_09_10_under_both_names(table: PriceTable) -> None:
    # 8000 x 0.003 + 2000 x 0.15 + 500 x 0.60 = 624 per 1M
    for name in ("deepseek-flash", "deepseek-v4-flash"):
        assert table.cost_usd(USAGE, name, at(SEP_MONDAY, 12)) == Decimal("0.000624")
        # peak: 8000 x 0.006 + 2000 x 0.30 + 500 x 1.20 = 1248 per 1M
        assert table.cost_usd(USAGE, name, at(SEP_MONDAY, 2)) == Decimal("0.001248")
    assert _price(table, "deepseek-v4-flash", at(SEP_MONDAY, 12)).model == "deepseek-flash"


def test_flash_rename_takes_effect_at_midnight_utc(table: PriceTable) -> None:
    before = datetime(2026, 9, 9, 23, 59, 59, tzinfo=UTC)
    after = datetime(2026, 9, 10, 0, 0, tzinfo=UTC)
    assert _price(table, "deepseek-v4-flash", before).output == Decimal("0.28")
    assert _price(table, "deepseek-v4-flash", after).output == Decimal("0.60")
    assert table.price_for("deepseek-flash", before) is None


def test_pro_peak_and_off_peak(table: PriceTable) -> None:
    # launch discount, no peak: 8000 x 0.003625 + 2000 x 0.435 + 500 x 0.87 = 1334 per 1M
    assert table.cost_usd(USAGE, "deepseek-v4-pro", at(MAY_MONDAY, 7, 30)) == Decimal("0.001334")
    # off-peak: 8000 x 0.022 + 2000 x 0.66 + 500 x 1.98 = 2486 per 1M
    assert table.cost_usd(USAGE, "deepseek-v4-pro", at(SEP_MONDAY, 12)) == Decimal("0.002486")
    # peak doubles every figure: 8000 x 0.044 + 2000 x 1.32 + 500 x 3.96 = 4972 per 1M
    assert table.cost_usd(USAGE, "deepseek-v4-pro", at(SEP_MONDAY, 7, 30)) == Decimal("0.004972")
    price = table.price_for("deepseek-v4-pro", at(SEP_MONDAY, 7, 30))
    assert price is not None and price.peak


@pytest.mark.parametrize(
    ("when", "peak"),
    [
        (at(SEP_MONDAY, 0, 59, 59, 999_999), False),
        (at(SEP_MONDAY, 1), True),
        (at(SEP_MONDAY, 3, 59, 59, 999_999), True),
        (at(SEP_MONDAY, 4), False),
        (at(SEP_MONDAY, 5, 59, 59), False),
        (at(SEP_MONDAY, 6), True),
        (at(SEP_MONDAY, 9, 59, 59), True),
        (at(SEP_MONDAY, 10), False),
        (at(SEP_MONDAY, 23, 30), False),
        (at(SEP_MONDAY + timedelta(days=4), 9), True),  # Friday
        (at(SEP_SATURDAY, 2), False),
        (at(SEP_SATURDAY, 7), False),
        (at(SEP_SATURDAY + timedelta(days=1), 8), False),  # Sunday
    ],
)
def test_peak_hour_boundaries(when: datetime, peak: bool) -> None:
    assert is_peak(when) is peak


def test_saturday_is_off_peak_in_the_price(table: PriceTable) -> None:
    assert table.cost_usd(USAGE, "deepseek-v4-pro", at(SEP_SATURDAY, 7, 30)) == Decimal("0.002486")


def test_time_zones_are_converted_and_naive_means_utc() -> None:
    berlin = timezone(timedelta(hours=2))
    assert is_peak(datetime(2026, 9, 14, 3, 30, tzinfo=berlin))  # 01:30 UTC
    assert not is_peak(datetime(2026, 9, 14, 6, 30, tzinfo=berlin))  # 04:30 UTC
    assert is_peak(datetime(2026, 9, 14, 1, 30))


def test_cache_hits_are_not_also_billed_as_misses(table: PriceTable) -> None:
    # All 10,000 prompt tokens hit: 10,000 x 0.003 per 1M and nothing else.
    usage = Usage(prompt_tokens=10_000, cache_hit_tokens=10_000, cache_miss_tokens=0)
    cost = table.cost_usd(usage, "deepseek-flash", at(SEP_MONDAY, 12))
    assert cost == Decimal("0.00003")
    # The known bug: prompt x miss price + hits x hit price, i.e. hits billed twice.
    assert cost != Decimal(10_000) * Decimal("0.15") / 1_000_000 + Decimal("0.00003")


def test_reasoning_tokens_are_not_added_twice(table: PriceTable) -> None:
    plain = Usage(prompt_tokens=100, completion_tokens=500, cache_miss_tokens=100)
    thinking = Usage(
        prompt_tokens=100, completion_tokens=500, cache_miss_tokens=100, reasoning_tokens=400
    )
    when = at(SEP_MONDAY, 12)
    assert table.cost_usd(plain, "deepseek-v4-pro", when) == table.cost_usd(
        thinking, "deepseek-v4-pro", when
    )


def test_unknown_model_or_date_has_no_price(table: PriceTable) -> None:
    when = at(SEP_MONDAY, 12)
    assert table.cost_usd(USAGE, "gpt-5", when) is None
    assert table.cost_usd(USAGE, None, when) is None
    assert table.cost_usd(USAGE, "", when) is None
    assert table.cost_usd(USAGE, "deepseek-v4-pro", datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert cost_usd(USAGE, "unknown", when) is None
    assert price_for("deepseek-flash", when) is not None


def test_retired_aliases(table: PriceTable) -> None:
    june = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert table.cost_usd(USAGE, "deepseek-chat", june) == Decimal("0.0004424")
    assert (
        table.cost_usd(USAGE, "deepseek-reasoner", datetime(2026, 7, 24, 23, tzinfo=UTC))
        is not None
    )
    assert table.cost_usd(USAGE, "deepseek-chat", datetime(2026, 7, 25, tzinfo=UTC)) is None


def test_override_dict_adds_and_replaces() -> None:
    table = PriceTable.load(
        {
            "models": {
                "local-model": {"off_peak": {"cache_hit": 0, "cache_miss": 1, "output": 2}},
                "deepseek-v4-pro": [
                    {
                        "from": "2026-09-10",
                        "off_peak": {"cache_hit": 0.01, "cache_miss": 0.5, "output": 1},
                    }
                ],
            }
        }
    )
    when = at(SEP_MONDAY, 7)
    # 2000 x 1 + 500 x 2 = 3000 per 1M
    assert table.cost_usd(USAGE, "local-model", when) == Decimal("0.003")
    # the replaced entry has no peak figures: peak = off-peak; 80 + 1000 + 500 = 1580 per 1M
    assert table.cost_usd(USAGE, "deepseek-v4-pro", when) == Decimal("0.00158")
    # other built-in entries are untouched
    assert table.cost_usd(USAGE, "deepseek-v4-pro", at(MAY_MONDAY, 12)) == Decimal("0.001334")
    assert table.cost_usd(USAGE, "deepseek-flash", at(SEP_MONDAY, 12)) == Decimal("0.000624")


def test_override_newer_than_an_alias_wins() -> None:
    table = PriceTable.load(
        {
            "models": {
                "deepseek-v4-flash": [
                    {
                        "from": "2027-01-01",
                        "off_peak": {"cache_hit": 0, "cache_miss": 0, "output": 1},
                    }
                ]
            }
        }
    )
    assert _price(table, "deepseek-v4-flash", datetime(2026, 12, 31, tzinfo=UTC)).model == (
        "deepseek-flash"
    )
    assert table.cost_usd(
        USAGE, "deepseek-v4-flash", datetime(2027, 1, 2, 12, tzinfo=UTC)
    ) == Decimal("0.0005")


def test_override_file_and_peak_hours(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {"version": 1, "peak_hours_utc": {"weekdays": ["sat"], "ranges": [["00:00", "24:00"]]}}
        )
    )
    table = PriceTable.load(path)
    assert table.is_peak(at(SEP_SATURDAY, 23, 59))
    assert not table.is_peak(at(SEP_MONDAY, 2))


@pytest.mark.parametrize(
    "override",
    [
        {"version": 2},
        {"models": {"x": {"off_peak": {"cache_hit": 1}}}},
        {"models": {"x": {"off_peak": {"cache_hit": -1, "cache_miss": 1, "output": 1}}}},
        {
            "models": {
                "x": {
                    "from": "yesterday",
                    "off_peak": {"cache_hit": 1, "cache_miss": 1, "output": 1},
                }
            }
        },
        {"models": []},
    ],
)
def test_bad_overrides_raise_value_error(override: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PriceTable.load(override)


def test_unreadable_override_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PriceTable.load(tmp_path / "missing.json")


def test_call_record_prices_by_reported_model_then_requested(table: PriceTable) -> None:
    when = at(SEP_MONDAY, 12)
    common: dict[str, Any] = {
        "request_id": "r",
        "kind": "fim",
        "role": "executor",
        "usage": USAGE,
        "prices": table,
        "time_utc": when,
    }
    reported = CallRecord.from_usage(
        model_requested="deepseek-v4-pro", model_reported="deepseek-flash", **common
    )
    assert reported.cost_usd == pytest.approx(0.000624)
    requested = CallRecord.from_usage(model_requested="deepseek-v4-pro", **common)
    assert requested.cost_usd == pytest.approx(0.002486)
    unknown = CallRecord.from_usage(
        model_requested="deepseek-v4-pro", model_reported="mystery", **common
    )
    assert unknown.cost_usd is None
    assert unknown.prompt_tokens == 10_000 and unknown.output_tokens == 500
