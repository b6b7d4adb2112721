"""Model providers: the DeepSeek client and its error tree."""

from __future__ import annotations

from flashpro.providers.deepseek import (
    CallTrace,
    ChatRequest,
    DeepSeekProvider,
    FimRequest,
    map_error,
    redact,
)
from flashpro.providers.errors import (
    AuthFailed,
    BadRequest,
    InsufficientBalance,
    MissingKey,
    ProviderError,
    RateLimited,
    Timeout,
    Unavailable,
)

__all__ = [
    "AuthFailed",
    "BadRequest",
    "CallTrace",
    "ChatRequest",
    "DeepSeekProvider",
    "FimRequest",
    "InsufficientBalance",
    "MissingKey",
    "ProviderError",
    "RateLimited",
    "Timeout",
    "Unavailable",
    "map_error",
    "redact",
]
