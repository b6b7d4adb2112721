"""The provider error tree: every SDK / HTTP failure is mapped here, at one boundary.

    ProviderError                  base; `kind` is stored in the ledger, `hint` shown to the user
    ├── MissingKey                 no API key configured (no request is sent)
    ├── AuthFailed                 401/403: the key is wrong or revoked
    ├── InsufficientBalance        402: top up the DeepSeek account
    ├── RateLimited                429: the account's concurrency limit was hit
    ├── Unavailable                5xx, connection failure, or timeout
    │   └── Timeout                no answer within the configured timeout
    └── BadRequest                 400/404/422: the request or a model name is wrong

`fatal` errors (missing key, auth, balance) stop requests until settings change or a pause
passes, and are shown to the user once; the others are logged and the next request tries again.
"""

from __future__ import annotations

__all__ = [
    "AuthFailed",
    "BadRequest",
    "InsufficientBalance",
    "MissingKey",
    "ProviderError",
    "RateLimited",
    "Timeout",
    "Unavailable",
]


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


class Unavailable(ProviderError):
    kind = "unavailable"
    hint = "DeepSeek is unavailable or overloaded; flashpro will try again on the next request."


class Timeout(Unavailable):
    kind = "timeout"
    hint = "Raise flashpro.completion.timeout or flashpro.requestTimeout if this repeats."


class BadRequest(ProviderError):
    kind = "bad_request"
    hint = "Check the model names in flashpro.models and the other settings."
