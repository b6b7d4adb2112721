"""One ledger row: the :class:`CallRecord` describing a single model call, and its validation.

A row is written for every API call, cancelled and failed ones included. Token columns are
nullable (``None`` where the API never reported usage, e.g. a call cancelled before the last
chunk). Cost is stored as a float in USD (computed exactly with ``Decimal`` first, see
``prices.py``); ``None`` when the model has no known price.

Secrets never reach the database: values that look like API keys are redacted from ``details``,
``error_kind`` and ``prompt_text``, and ``details`` keys named like credentials are dropped.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from flashpro.ledger.prices import PriceTable, as_utc
from flashpro.providers.request import sendable
from flashpro.usage import Usage

__all__ = [
    "OUTCOMES",
    "ROLES",
    "STATUSES",
    "CallRecord",
    "format_utc",
    "new_request_id",
    "redact",
]

STATUSES: Final = frozenset({"ok", "cancelled", "error", "interrupted"})
"""Values of the ``status`` column. A row is written ``interrupted`` when its call starts and
completed when the call ends, so ``interrupted`` stays only on calls whose process died (or that
are still running)."""

OUTCOMES: Final = frozenset(
    {"shown", "accepted", "partially_accepted", "rejected", "superseded", "filtered", "unusable"}
)
"""Values of the ``outcome`` column (``None`` = not shown / not applicable).

``superseded``: the answer never reached the user (a newer request replaced it, or its request
was cancelled and nothing followed it); ``filtered``: post-processing dropped the answer;
``unusable``: a code action's answer failed validation (billed, then thrown away)."""

ROLES: Final = frozenset({"executor", "planner"})
"""Usual values of the ``role`` column (others are accepted and stored as given)."""

_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{16,})")
_BEARER_PATTERN = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9_\-.=]{16,}")
_SECRET_NAMES = re.compile(
    r"(?i)(api[_-]?key|authorization|secret|password|access[_-]?token|^key$)"
)
REDACTED: Final = "[redacted]"


def format_utc(when: datetime) -> str:
    """The ledger's time format: ISO 8601 UTC with microseconds and a ``Z`` (sorts as text)."""
    return as_utc(when).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_request_id() -> str:
    """A fresh request id for calls whose provider gave none."""
    return uuid.uuid4().hex


def redact(value: Any) -> Any:
    """Return ``value`` with API-key-looking strings and credential-named keys removed."""
    if isinstance(value, str):
        return _BEARER_PATTERN.sub(r"\1" + REDACTED, _KEY_PATTERN.sub(REDACTED, value))
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if _SECRET_NAMES.search(str(k)) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One API call as the ledger stores it.

    ``time_utc`` is when the request was sent (it also decides peak or off-peak pricing).
    ``model_reported`` is the name the API answered with; cost is priced by it, falling back to
    ``model_requested``. Latencies are milliseconds. ``prompt_text`` is kept only if the ledger
    was opened with ``store_prompt_text=True`` (a user opt-in).
    """

    request_id: str
    kind: str
    role: str
    model_requested: str
    time_utc: datetime = field(default_factory=_now)
    session_id: str | None = None
    workspace: str | None = None
    file_uri: str | None = None
    model_reported: str | None = None
    prompt_tokens: int | None = None
    cache_hit_tokens: int | None = None
    cache_miss_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    latency_first_ms: float | None = None
    latency_total_ms: float | None = None
    status: str = "ok"
    error_kind: str | None = None
    outcome: str | None = None
    accepted_chars: int | None = None
    shown_chars: int | None = None
    details: Mapping[str, Any] | None = None
    prompt_text: str | None = None
    task_id: str | None = None
    node_id: str | None = None
    attempt: int | None = None

    @classmethod
    def from_usage(
        cls,
        *,
        request_id: str,
        kind: str,
        role: str,
        model_requested: str,
        usage: Usage | None,
        prices: PriceTable | None,
        model_reported: str | None = None,
        time_utc: datetime | None = None,
        **fields: Any,
    ) -> CallRecord:
        """Build a row from a normalised :class:`Usage`, pricing it with ``prices``.

        ``usage=None`` (no usage ever arrived) leaves the token columns and cost NULL. The model
        priced is ``model_reported`` when given, else ``model_requested``; an unknown model (or
        ``prices=None``) leaves cost NULL. ``fields`` are the other :class:`CallRecord` fields.
        """
        when = as_utc(time_utc) if time_utc is not None else _now()
        record = cls(
            request_id=request_id,
            kind=kind,
            role=role,
            model_requested=model_requested,
            model_reported=model_reported,
            time_utc=when,
            **fields,
        )
        if usage is None:
            return record
        record = replace(
            record,
            prompt_tokens=usage.prompt_tokens,
            cache_hit_tokens=usage.cache_hit_tokens,
            cache_miss_tokens=usage.cache_miss_tokens,
            output_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
        )
        return record.priced(prices) if prices is not None else record

    @property
    def priced_model(self) -> str:
        """The model name this call is priced by: the reported one, else the requested one."""
        return self.model_reported or self.model_requested

    @property
    def usage(self) -> Usage | None:
        """The token counts as a :class:`Usage`, or None when the call reported none."""
        if self.prompt_tokens is None and self.output_tokens is None:
            return None
        return Usage(
            prompt_tokens=self.prompt_tokens or 0,
            completion_tokens=self.output_tokens or 0,
            cache_hit_tokens=self.cache_hit_tokens or 0,
            cache_miss_tokens=self.cache_miss_tokens or 0,
            reasoning_tokens=self.reasoning_tokens or 0,
        )

    def priced(self, prices: PriceTable) -> CallRecord:
        """A copy with ``cost_usd`` computed from the token columns (None if unpriceable)."""
        usage = self.usage
        if usage is None:
            return replace(self, cost_usd=None)
        cost = prices.cost_usd(usage, self.priced_model, self.time_utc)
        return replace(self, cost_usd=None if cost is None else float(cost))

    def validate(self) -> None:
        """Raise ``ValueError`` if the row breaks the ledger's rules."""
        if not self.request_id:
            raise ValueError("CallRecord.request_id must not be empty")
        if self.status not in STATUSES:
            raise ValueError(
                f"CallRecord.status must be one of {sorted(STATUSES)}, not {self.status!r}"
            )
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise ValueError(
                f"CallRecord.outcome must be in {sorted(OUTCOMES)} or None, not {self.outcome!r}"
            )
        for name in (
            "prompt_tokens",
            "cache_hit_tokens",
            "cache_miss_tokens",
            "output_tokens",
            "reasoning_tokens",
            "accepted_chars",
            "shown_chars",
        ):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(
                    f"CallRecord.{name} must be a non-negative int or None, not {value!r}"
                )

    def to_row(self, *, keep_prompt_text: bool) -> dict[str, Any]:
        """The SQL parameters of this row, secrets redacted."""
        details = None
        if self.details:
            details = sendable(
                json.dumps(redact(self.details), sort_keys=True, default=str, ensure_ascii=False)
            )
        return {
            "request_id": self.request_id,
            "time_utc": format_utc(self.time_utc),
            "session_id": self.session_id,
            "workspace": self.workspace,
            "file_uri": self.file_uri,
            "kind": self.kind,
            "role": self.role,
            "model_requested": self.model_requested,
            "model_reported": self.model_reported,
            "prompt_tokens": self.prompt_tokens,
            "cache_hit_tokens": self.cache_hit_tokens,
            "cache_miss_tokens": self.cache_miss_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_usd": self.cost_usd,
            "latency_first_ms": _ms(self.latency_first_ms),
            "latency_total_ms": _ms(self.latency_total_ms),
            "status": self.status,
            "error_kind": redact(self.error_kind) if self.error_kind else self.error_kind,
            "outcome": self.outcome,
            "accepted_chars": self.accepted_chars,
            "shown_chars": self.shown_chars,
            "details": details,
            "prompt_text": sendable(redact(self.prompt_text))  # SQLite text is UTF-8: no lone surrogates
            if keep_prompt_text and self.prompt_text
            else None,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "attempt": self.attempt,
        }


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)
