"""Accounting: the ledger wired to the session — outcomes, cache watch, figures to show."""

from __future__ import annotations

from flashpro.accounting.acceptance import AcceptanceTracker
from flashpro.accounting.cachewatch import CacheDrop, CacheWatch
from flashpro.accounting.format import dollars, percent, spend_line, tokens
from flashpro.accounting.service import Accounting
from flashpro.accounting.throttle import Throttle

__all__ = [
    "AcceptanceTracker",
    "Accounting",
    "CacheDrop",
    "CacheWatch",
    "Throttle",
    "dollars",
    "percent",
    "spend_line",
    "tokens",
]
