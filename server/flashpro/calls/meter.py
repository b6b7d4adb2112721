"""The one metered model call: provider, error gate, spending limits and the ledger row.

Every model call flashpro makes — FIM completions, code actions, task nodes — goes through
`Meter.fim` or `Meter.chat`, which, in order:

1. writes the call's ledger row *before* the request goes out (status `interrupted`, so a crash
   or a `kill -9` mid-stream leaves a visible row, never a missing one);
2. sends it with the current provider (rebuilt when the key, base URL or timeouts change);
3. on the way out — answered, cancelled or failed — sets the status and error kind, lets the
   caller's `on_end` hook add what it knows (an outcome, an estimate of a cut-off stream), tells
   the error gate what happened, and completes the row;
4. reports the end to the session (`CallEvents`): refresh the spend figures, say once what
   went wrong.

Chat messages pass one last secret scan on the way out (`privacy`: values that look like keys
are redacted; a private key refuses the call before anything is sent), whatever feature built
them. FIM prompts are guarded where they are laid out, with each file's own rules.

`asyncio.CancelledError` always propagates (it is how `$/cancelRequest` closes the HTTP
stream); `ProviderError` propagates after it has been recorded. Before a call, features ask
`blocked()` (a pause after an error) and `completion_limits` / `action_limits` (what the
spending stage allows); the stage is announced once per change through `CallEvents`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from flashpro.calls.budget import BudgetCaps, BudgetPolicy, Limits, Stage, StageTracker
from flashpro.calls.info import CallEvents, CallInfo, CallLedger
from flashpro.config import ActionRoute, Settings
from flashpro.ledger import PriceTable
from flashpro.privacy import CODE, shared_scanner
from flashpro.providers import CallTrace, ChatRequest, DeepSeekProvider, FimRequest, ProviderError
from flashpro.providers.gate import ErrorGate

__all__ = ["Meter", "Refused"]

logger = logging.getLogger(__name__)

EndHook = Callable[[CallInfo], None]


class Refused(ProviderError):
    """The request held a private key: it was not sent (nothing billed, no ledger row)."""

    kind = "refused"
    hint = "Remove the private key from the files the request uses, or exclude them (flashpro.exclude)."


def _scrubbed(request: ChatRequest) -> ChatRequest:
    """`request` with secret-looking values in its messages redacted (Refused for a private key)."""
    scanner, messages, changed = shared_scanner(), [], False
    for message in request.messages:
        redacted = scanner.redact(message["content"], CODE)
        if redacted.blocked:
            raise Refused("the request held a private key; nothing was sent")
        changed = changed or bool(redacted.secrets)
        messages.append({**message, "content": redacted.text} if redacted.secrets else message)
    return dataclasses.replace(request, messages=messages) if changed else request


class Meter:
    """Makes, limits and records every model call of one session."""

    def __init__(
        self,
        ledger: CallLedger,
        events: CallEvents,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._events = events
        self._clock = clock
        self.settings = Settings()
        self.gate = ErrorGate()
        self.provider = DeepSeekProvider(None, self.settings.base_url)
        self._stages = StageTracker(BudgetPolicy(BudgetCaps()))

    # -- settings --------------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        """Apply new settings: a new key, URL or timeout means a new provider and a fresh gate."""
        old, self.settings = self.settings, settings
        changed = (
            old.api_key_value != settings.api_key_value
            or old.base_url != settings.base_url
            or old.request_timeout != settings.request_timeout
        )
        if changed or self.provider.has_key != bool(settings.api_key_value):
            self.provider = DeepSeekProvider(
                settings.api_key_value, settings.base_url, chat_timeout=settings.request_timeout
            )
            self.gate.reset()
        caps = settings.budget
        self._stages.policy = BudgetPolicy(BudgetCaps(caps.day_usd, caps.file_usd, caps.request_tokens))

    @property
    def prices(self) -> PriceTable:
        """The price table calls are priced with (the ledger's)."""
        return self._ledger.prices

    def model(self, role: str) -> str:
        """The configured model name of a role (`planner` is Pro, anything else Flash)."""
        models = self.settings.models
        return models.pro if role == "planner" else models.flash

    # -- before a call ---------------------------------------------------------------------
    def blocked(self) -> ProviderError | None:
        """The error that holds calls back right now (a missing key, a pause), if any."""
        return self.gate.blocked_by()

    @property
    def stage(self) -> Stage:
        """The spending stage last seen."""
        return self._stages.stage

    def completion_limits(self, uri: str, invoked: bool = False) -> Limits:
        """What a completion for `uri` may spend now."""
        completion = self.settings.completion
        output = completion.invoked_max_output_tokens if invoked else completion.max_output_tokens
        return self._stages.policy.limits(self._stage(uri), completion.context_tokens, output)

    def action_limits(self, uri: str, route: ActionRoute) -> Limits:
        """What an action (or task node) on `uri` may spend now: its route, degraded by stage."""
        return self._stages.policy.limits(self._stage(uri), route.context_tokens, route.max_output_tokens)

    def _stage(self, uri: str) -> Stage:
        """The stage for `uri` now; each change is announced once a day."""
        policy = self._stages.policy
        caps = policy.caps
        if caps.day_usd is None and caps.file_usd is None:
            stage, cause = Stage.NORMAL, None
        else:
            day, file = self._ledger.spend_today(uri)
            stage = policy.stage(day, file)
            cause = policy.fraction(day, file)[1]
        message = self._stages.update(self._clock().date().isoformat(), stage, cause)
        if message is not None:
            logger.warning("%s", message)
            self._events.budget_changed(message, uri)
        return stage

    # -- the call --------------------------------------------------------------------------
    async def fim(
        self,
        info: CallInfo,
        request: FimRequest,
        on_text: Callable[[str], bool] | None = None,
        *,
        on_end: EndHook | None = None,
    ) -> str:
        """A streaming FIM call (errors announced once per kind); returns its text."""
        return await self._run(
            info, lambda trace: self.provider.fim(request, trace, on_text), announce=True, on_end=on_end
        )

    async def chat(
        self,
        info: CallInfo,
        request: ChatRequest,
        on_delta: Callable[[CallTrace], None] | None = None,
        *,
        announce: bool = True,
        on_end: EndHook | None = None,
    ) -> str:
        """A streaming chat call; returns its content. With `announce=False` the caller tells
        the user about a failure itself (the call is still logged and recorded)."""
        request = _scrubbed(request)
        return await self._run(
            info, lambda trace: self.provider.chat(request, trace, on_delta), announce=announce, on_end=on_end
        )

    async def _run(
        self,
        info: CallInfo,
        send: Callable[[CallTrace], Awaitable[str]],
        *,
        announce: bool,
        on_end: EndHook | None,
    ) -> str:
        self._ledger.call_started(info)
        failure: ProviderError | None = None
        try:
            return await send(info.trace)
        except asyncio.CancelledError:
            info.status = "cancelled"
            raise
        except ProviderError as error:
            info.status, info.error_kind, failure = "error", error.kind, error
            raise
        finally:
            if on_end is not None:
                on_end(info)
            self._finish(info, failure, announce)

    def _finish(self, info: CallInfo, failure: ProviderError | None, announce: bool) -> None:
        """Complete the ledger row, tell the gate and the session how the call ended."""
        trace, usage = info.trace, info.trace.usage
        logger.info(
            "%s %s %s status=%s%s prompt=%s hit=%s out=%s %.0fms",
            info.kind,
            info.model,
            info.uri,
            info.status,
            f" ({info.error_kind})" if info.error_kind else "",
            usage.prompt_tokens if usage else "-",
            usage.cache_hit_tokens if usage else "-",
            usage.completion_tokens if usage else "-",
            trace.latency_total_ms,
        )
        self._ledger.call_finished(info)
        if failure is not None:
            news = self.gate.observe(failure)
            self._events.provider_failed(failure, announce=announce and news)
        elif info.status == "ok":
            self.gate.succeeded()
        self._events.call_finished(info)

    async def aclose(self) -> None:
        """Release the provider's connections."""
        await self.provider.aclose()
