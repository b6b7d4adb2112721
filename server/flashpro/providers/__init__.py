"""Model providers: the DeepSeek client, its requests, streams and error tree."""

from __future__ import annotations

from flashpro.providers.deepseek import DeepSeekProvider, map_error, redact
from flashpro.providers.errors import (
    AuthFailed,
    BadRequest,
    ConnectionFailed,
    InsufficientBalance,
    Internal,
    Malformed,
    MissingKey,
    Overloaded,
    ProviderError,
    RateLimited,
    Stalled,
    Timeout,
    Truncated,
    Unavailable,
)
from flashpro.providers.request import ChatRequest, FimRequest, sendable
from flashpro.providers.trace import CallTrace

__all__ = [
    "AuthFailed",
    "BadRequest",
    "CallTrace",
    "ChatRequest",
    "ConnectionFailed",
    "DeepSeekProvider",
    "FimRequest",
    "InsufficientBalance",
    "Internal",
    "Malformed",
    "MissingKey",
    "Overloaded",
    "ProviderError",
    "RateLimited",
    "Stalled",
    "Timeout",
    "Truncated",
    "Unavailable",
    "map_error",
    "redact",
    "sendable",
]
