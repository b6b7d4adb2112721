"""Inline completion: from (document, cursor, trigger) to suggestions, one FIM call at a time.

At most one request is in flight per document: a newer request for the same document cancels
the older one's HTTP call (the older request then answers with no items, and the call is
recorded as superseded). Cancelling the request itself (`$/cancelRequest`) cancels the call
the same way. Every call, whatever its end, is reported to `CallSink.call_finished`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flashpro.completion.context import FimContext, build_context
from flashpro.completion.postprocess import first_line, tidy
from flashpro.config import Settings
from flashpro.documents import Document, Position
from flashpro.providers import CallTrace, DeepSeekProvider, FimRequest, ProviderError
from flashpro.providers.gate import ErrorGate

__all__ = ["CallInfo", "CallSink", "CompletionService", "Suggestion"]

logger = logging.getLogger(__name__)

# How much of the prompt start is kept in memory to explain a later cache-hit drop.
_HEAD_CHARS = 16_384


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Text to insert at (line, column in code points)."""

    text: str
    line: int
    column: int
    request_id: str


@dataclass(slots=True)
class CallInfo:
    """What the ledger needs to know about one finished (or abandoned) model call."""

    request_id: str
    uri: str
    kind: str
    role: str
    model: str
    trace: CallTrace
    status: str  # ok / cancelled / error
    error_kind: str | None = None
    outcome: str | None = None
    shown_chars: int | None = None
    prompt_text: str | None = None  # stored only when the user opted in (logPrompts)
    details: dict[str, object] = field(default_factory=dict)
    prompt_head: str = ""  # kept in memory to explain cache misses; never stored


class CallSink(Protocol):
    """Receives every finished call (the app forwards it to the ledger and the diagnostics)."""

    def call_finished(self, info: CallInfo) -> None: ...

    def provider_failed(self, error: ProviderError, announce: bool) -> None: ...

    def completion_requested(self, uri: str) -> None: ...

    def completion_answered(self, uri: str, request_id: str, shown_chars: int) -> None: ...


class CompletionService:
    """Answers inline completion requests with V4 Flash FIM."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        provider: Callable[[], DeepSeekProvider],
        gate: ErrorGate,
        sink: CallSink,
    ):
        self._settings = settings
        self._provider = provider
        self._gate = gate
        self._sink = sink
        self._inflight: dict[str, asyncio.Task[str]] = {}
        self._superseded: set[asyncio.Task[str]] = set()

    @property
    def in_flight(self) -> int:
        """Number of FIM calls currently waiting on the API."""
        return sum(1 for task in self._inflight.values() if not task.done())

    async def complete(self, doc: Document, line: int, column: int, invoked: bool) -> list[Suggestion]:
        """Suggestions for the cursor at (line, column); [] when none is worth showing."""
        settings = self._settings()
        if not invoked and not settings.completion.automatic:
            return []
        if doc.private:
            logger.debug("no completion for %s: excluded or secret-looking", doc.uri)
            return []
        if len(doc.buffer) > settings.completion.max_file_size:
            logger.info("no completion for %s: larger than completion.maxFileSize", doc.uri)
            return []
        if self._gate.blocked_by() is not None:
            return []

        self._supersede(doc.uri)
        self._sink.completion_requested(doc.uri)
        context = build_context(
            doc.buffer,
            Position(line, column),
            settings.completion.context_tokens,
            settings.completion.suffix_tokens,
        )
        request_id = uuid.uuid4().hex
        task = asyncio.ensure_future(self._call(doc.uri, context, invoked, request_id, settings))
        self._inflight[doc.uri] = task
        try:
            raw = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task in self._superseded and (current is None or not current.cancelling()):
                return []
            raise
        except ProviderError:
            return []
        finally:
            if self._inflight.get(doc.uri) is task:
                del self._inflight[doc.uri]
            self._superseded.discard(task)
        suggestions = self._suggestions(raw, context, line, column, invoked, request_id)
        self._sink.completion_answered(doc.uri, request_id, max((len(s.text) for s in suggestions), default=0))
        return suggestions

    def _supersede(self, uri: str) -> None:
        """Cancel the call still running for `uri`, if any."""
        task = self._inflight.get(uri)
        if task is not None and not task.done():
            self._superseded.add(task)
            task.cancel()

    async def _call(
        self, uri: str, context: FimContext, invoked: bool, request_id: str, settings: Settings
    ) -> str:
        """One FIM call; reports it to the sink however it ends."""
        completion = settings.completion
        stop = ["\n"] if context.line_rest.strip() else []
        request = FimRequest(
            model=settings.models.flash,
            prompt=context.prompt,
            suffix=context.suffix,
            max_tokens=completion.invoked_max_output_tokens if invoked else completion.max_output_tokens,
            stop=stop,
            timeout=completion.timeout,
        )
        trace = CallTrace()
        info = CallInfo(
            request_id=request_id,
            uri=uri,
            kind="fim",
            role="executor",
            model=request.model,
            trace=trace,
            status="ok",
            prompt_text=(context.prompt + "<|hole|>" + context.suffix) if settings.log_prompts else None,
            details={
                "trigger": "invoked" if invoked else "automatic",
                "context_tokens": context.tokens,
                "first_line": context.first_line,
            },
            prompt_head=context.prompt[:_HEAD_CHARS],
        )
        try:
            text = await self._provider().fim(request, trace)
        except asyncio.CancelledError:
            info.status = "cancelled"
            info.outcome = "superseded" if asyncio.current_task() in self._superseded else None
            raise
        except ProviderError as error:
            info.status = "error"
            info.error_kind = error.kind
            self._sink.provider_failed(error, announce=self._gate.observe(error))
            raise
        finally:
            self._sink.call_finished(info)
        self._gate.succeeded()
        return text

    @staticmethod
    def _suggestions(
        raw: str, context: FimContext, line: int, column: int, invoked: bool, request_id: str
    ) -> list[Suggestion]:
        """Post-process raw output into one item (automatic) or up to two (invoked)."""
        text = tidy(raw, context.line_rest, context.suffix)
        if not text:
            return []
        items = [Suggestion(text, line, column, request_id)]
        if invoked:
            short = first_line(text)
            if short.strip() and short != text:
                items.append(Suggestion(short, line, column, request_id))
        return items
