"""The usage ledger: prices, one SQLite row per model call, aggregates and ``flashpro report``.

- ``prices``: the dated DeepSeek price table (``prices.json``), peak hours, exact call cost.
- ``records``: :class:`CallRecord`, one row, and its validation / secret redaction.
- ``schema``: append-only numbered migrations.
- ``store``: :class:`Ledger`, the non-blocking writer and the read methods.
- ``aggregates``: :class:`Stats`, :class:`Report` and the SQL behind them.
- ``report``: the rich renderer and the ``flashpro report`` command line.

Cost is computed exactly with ``Decimal`` and stored as a float in USD (``cost_usd``).
"""

from __future__ import annotations

from flashpro.ledger.aggregates import GroupStats, Report, Stats
from flashpro.ledger.prices import Price, PriceTable, cost_usd, is_peak, price_for
from flashpro.ledger.records import OUTCOMES, STATUSES, CallRecord, new_request_id
from flashpro.ledger.report import render_report, run_report
from flashpro.ledger.store import LEDGER_ENV, Ledger, LedgerError, default_ledger_path

__all__ = [
    "LEDGER_ENV",
    "OUTCOMES",
    "STATUSES",
    "CallRecord",
    "GroupStats",
    "Ledger",
    "LedgerError",
    "Price",
    "PriceTable",
    "Report",
    "Stats",
    "cost_usd",
    "default_ledger_path",
    "is_peak",
    "new_request_id",
    "price_for",
    "render_report",
    "run_report",
]
