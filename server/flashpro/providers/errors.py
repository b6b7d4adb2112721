"""The provider error tree: every SDK / HTTP / wire failure is mapped here, at one boundary.

    ProviderError                  base; `kind` is stored in the ledger, `hint` shown to the user
    ├── MissingKey                 no API key configured (no request is sent)
    ├── AuthFailed                 401/403: the key is wrong or revoked
    ├── InsufficientBalance        402: top up the DeepSeek account (pauses calls)
    ├── RateLimited                429: the account's concurrency limit was hit (pauses calls)
    ├── BadRequest                 400/404/422: the request or a model name is wrong
    ├── Internal                   flashpro itself failed while making the call (a bug)
    └── Unavailable                other 5xx, or anything else transient on the way
        ├── Overloaded             503, or `finish_reason: insufficient_system_resource`
        ├── ConnectionFailed       refused, reset, or the connection broke mid-answer
        ├── Malformed              a body or SSE event that is not the JSON DeepSeek sends
        ├── Truncated              a stream that ended without its usage or `data: [DONE]`
        └── Timeout                the call's total deadline passed (keep-alives do not extend it)
            └── Stalled            the answer started, then nothing came for the idle gap

`fatal` errors (missing key, auth, balance) stop requests until settings change or a pause
passes, and are shown to the user once; the others are logged and the next request tries again.
A failed call never yields a partial answer: what streamed before the failure is discarded.
"""

from __future__ import annotations

__all__ = [
    "AuthFailed",
    "BadRequest",
    "ConnectionFailed",
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
]

_RETRY = "Nothing was inserted or changed; the next request tries again."


class ProviderError(Exception):
    """A model call failed; `kind` names the failure, `hint` says what to do next."""

    kind = "error"
    fatal = False
    hint = "See the flashpro log for details."

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after

    def user_message(self) -> str:
        """The single message shown to the user: what happened and what to do."""
        return f"flashpro: {self.message}. {self.hint}"


class MissingKey(ProviderError):
    kind = "missing_key"
    fatal = True
    hint = (
        "Set the DEEPSEEK_API_KEY environment variable or the flashpro.apiKey setting "
        "(VS Code: run 'flashpro: Set DeepSeek API key'), then restart or change settings."
    )


class AuthFailed(ProviderError):
    kind = "auth"
    fatal = True
    hint = (
        "Check the API key (DEEPSEEK_API_KEY or flashpro.apiKey); create one at "
        "platform.deepseek.com if needed. Completions are paused until the key changes."
    )


class InsufficientBalance(ProviderError):
    kind = "insufficient_balance"
    fatal = True
    hint = "Top up the DeepSeek account balance; flashpro retries after a pause."


class RateLimited(ProviderError):
    kind = "rate_limited"
    hint = "DeepSeek limits concurrent requests per account; flashpro backs off briefly."


class BadRequest(ProviderError):
    kind = "bad_request"
    hint = "Check the model names in flashpro.models and the other settings."


class Internal(ProviderError):
    kind = "internal"
    hint = (
        "This is a flashpro bug: please report it with the log of a run with --log-level DEBUG. "
        + _RETRY
    )


class Unavailable(ProviderError):
    kind = "unavailable"
    hint = "DeepSeek is unavailable or overloaded; flashpro will try again on the next request."


class Overloaded(Unavailable):
    kind = "overloaded"
    hint = "DeepSeek is short of capacity right now. " + _RETRY


class ConnectionFailed(Unavailable):
    kind = "connection"
    hint = "Check the network connection and flashpro.baseUrl. " + _RETRY


class Malformed(Unavailable):
    kind = "malformed"
    hint = "If this repeats, check that flashpro.baseUrl points at DeepSeek's API. " + _RETRY


class Truncated(Unavailable):
    kind = "truncated"
    hint = "The partial answer was discarded. " + _RETRY


class Timeout(Unavailable):
    kind = "timeout"
    hint = "Raise flashpro.completion.timeout or flashpro.requestTimeout if this repeats."


class Stalled(Timeout):
    kind = "stalled"
    hint = "The partial answer was discarded. " + _RETRY
