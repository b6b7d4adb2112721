"""Logging set-up shared by every entry point: secrets never reach a log line.

`SecretFilter` rewrites each record's message with anything shaped like an API key (and the
configured key itself) replaced by `sk-***`. pygls logs whole `initialize` params at INFO —
which may carry `initializationOptions.apiKey` — so its logger is held at WARNING unless
debugging, and the filter guards whatever still gets through.
"""

from __future__ import annotations

import logging

from flashpro.providers.deepseek import redact

__all__ = ["SecretFilter", "configure_logging"]


class SecretFilter(logging.Filter):
    """Redact API keys from every record that passes through a handler."""

    def __init__(self) -> None:
        super().__init__()
        self.key: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.key)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


SECRET_FILTER = SecretFilter()


def configure_logging(handler: logging.Handler, level: int) -> None:
    """Attach `handler` (with the secret filter) to the flashpro and pygls loggers."""
    handler.addFilter(SECRET_FILTER)
    for name, name_level in (("flashpro", level), ("pygls", max(level, logging.WARNING))):
        target = logging.getLogger(name)
        target.setLevel(name_level)
        target.addHandler(handler)
        target.propagate = False
