"""Runs code actions: builds the prompt within budget, calls the routed model, validates.

Listing is free: `preview` only counts tokens (exact tokenizer) and prices them. `run` makes
the call(s): JSON answers are validated with pydantic and, when invalid or empty, asked for
once more with the error appended; a second failure ends with a clear message. Every call,
retried, cancelled or failed, goes through the session's `calls.Meter` (which records it) with
its role (executor or planner); an answer that fails validation is recorded as `unusable` (billed
and wasted). A call cancelled mid-stream is recorded with the tokens already spent, counted with
the exact tokenizer and marked estimated (as cache misses: the upper bound).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from pydantic import BaseModel
from pydantic.alias_generators import to_snake

from flashpro.accounting.format import dollars, tokens
from flashpro.actions.catalog import ACTIONS
from flashpro.actions.context import (
    MAX_TOKEN_CHARS,
    ActionContext,
    FileView,
    LineSpan,
    build_context,
    lines_text,
)
from flashpro.actions.prompts import SYSTEM, task
from flashpro.actions.schemas import Design, QuickEditAnswer, Review, TestsAnswer
from flashpro.calls import CallInfo, Meter
from flashpro.calls.structured import CHAT_TEMPLATE_TOKENS, Unusable, ask_structured, parse_json
from flashpro.config import ActionRoute, Settings
from flashpro.documents import Document, Workspace
from flashpro.ledger import PriceTable
from flashpro.privacy import SentLines, flavor_for, shared_scanner, uri_to_path
from flashpro.providers import CallTrace, ChatRequest, ProviderError
from flashpro.tokens import LineCounter, count

__all__ = ["ActionFailed", "ActionResult", "ActionService", "Preview", "next_off_peak"]

_GUTTER = re.compile(r" *\d+\| ")
"""The line numbers in front of each file line of a prompt (not scanned for secrets)."""
_SCHEMAS: dict[str, type[BaseModel]] = {
    "review": Review,
    "design": Design,
    "quickEdit": QuickEditAnswer,
    "tests": TestsAnswer,
}


class ActionFailed(Exception):
    """An action that cannot run or did not produce a usable answer (message for the user)."""


@dataclass(frozen=True, slots=True)
class Preview:
    """What an action would cost, for its title."""

    prompt_tokens: int
    cost_usd: float
    peak: bool
    peak_factor: float

    def suffix(self, role: str) -> str:
        """`V4 Pro · ~3.2k tokens · ~$0.003 · peak ×2`."""
        model = "V4 Pro" if role == "planner" else "V4 Flash"
        text = f"{model} · ~{tokens(self.prompt_tokens)} tokens · ~{dollars(self.cost_usd)}"
        if self.peak and self.peak_factor > 1.01:
            text += f" · peak ×{self.peak_factor:g}"
        return text


@dataclass(slots=True)
class ActionResult:
    """A validated answer: `data` is the pydantic model (or Markdown text for explain)."""

    action: str
    data: Any
    span: LineSpan
    version: int
    calls: int


class _BufferLines(Sequence[str]):
    """A document's lines (without line breaks), read from its buffer on demand."""

    def __init__(self, doc: Document) -> None:
        self._buffer = doc.buffer

    def __len__(self) -> int:
        return self._buffer.line_count

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._buffer.line_content(i) for i in range(*index.indices(len(self)))]
        return self._buffer.line_content(index)  # a list index: IndexError past the end


def _version(doc: Document) -> tuple[int, int, int]:
    """What identifies one text of a document: its buffer (a reopened document gets a new
    one), its version and its edit count (an editor may repeat a version)."""
    return id(doc.buffer), doc.version, doc.edits


def next_off_peak(prices: PriceTable, now: datetime) -> datetime:
    """The first moment at or after `now` (to the minute) outside peak hours."""
    moment = now.replace(second=0, microsecond=0)
    for _ in range(7 * 24 * 4):
        if not prices.is_peak(moment):
            return moment
        moment += timedelta(minutes=15)
        moment = moment.replace(minute=(moment.minute // 15) * 15)
    return moment


def _parse(action: str, text: str) -> Any:
    """Validate an answer; raises ValueError with a message fit to send back to the model."""
    if action == "explain":
        if not text.strip():
            raise ValueError("the answer was empty")
        return text.strip()
    return parse_json(text, _SCHEMAS[action])


class ActionService:
    """Previews and runs code actions for the core."""

    def __init__(
        self,
        meter: Meter,
        workspace: Workspace,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._meter = meter
        self._workspace = workspace
        self.clock = clock
        self._previews: dict[tuple[Any, ...], Preview] = {}
        self._views: dict[str, tuple[object, FileView]] = {}
        self._counter = LineCounter()  # line counts survive edits: only changed lines recount
        self._scanner = shared_scanner()

    def forget(self, uri: str) -> None:
        """Drop what was built from earlier texts of `uri` (closed or reopened: versions restart)."""
        self._views.pop(uri, None)
        for key in [key for key in self._previews if key[0] == uri]:
            del self._previews[key]

    def view(self, doc: Document) -> FileView:
        """The document's lines as actions see them, one view per version of its text.

        The view reads the live buffer (no copy of the file): it is valid while the document
        stays at this version, which holds for the synchronous work that uses it."""
        key = _version(doc)
        cached = self._views.get(doc.uri)
        if cached is not None and cached[0] == key:
            return cached[1]
        view = FileView.of(_BufferLines(doc), self._counter)
        if len(self._views) > 32:
            self._views.clear()
        self._views[doc.uri] = (key, view)
        return view

    @property
    def settings(self) -> Settings:
        """The session's current settings."""
        return self._meter.settings

    def label(self, uri: str) -> str:
        """The file's name as prompts and documents show it (relative to the workspace)."""
        return self._workspace.label(uri)

    # -- routing ---------------------------------------------------------------------------
    def route(self, action: str) -> ActionRoute:
        """The configured route of `action`."""
        return getattr(self._meter.settings.actions, to_snake(action))

    def model(self, route: ActionRoute) -> str:
        """The model name a route calls."""
        return self._meter.model(route.model)

    def should_defer(self, action: str) -> datetime | None:
        """When planner work is deferred to off-peak and it is peak now: when to start."""
        route = self.route(action)
        if route.model != "planner" or not self._meter.settings.actions.defer_off_peak:
            return None
        now = self.clock()
        if not self._meter.prices.is_peak(now):
            return None
        return next_off_peak(self._meter.prices, now)

    # -- prompts ---------------------------------------------------------------------------
    def messages(
        self, action: str, doc: Document, span: LineSpan, instruction: str, context_tokens: int
    ) -> list[dict[str, str]]:
        """The two chat messages for `action` on `span` of `doc`, within `context_tokens`, as they
        are sent: secret values redacted (raises `ActionFailed` when they cannot be)."""
        return self.outgoing(action, doc, span, instruction, context_tokens)[0]

    def outgoing(
        self, action: str, doc: Document, span: LineSpan, instruction: str, context_tokens: int
    ) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
        """The messages as sent (secrets redacted) and the file lines they hold (for the ledger)."""
        label = self.label(doc.uri)
        flavor = flavor_for(uri_to_path(doc.uri))
        if action == "quickEdit" and self._scanner.has_secret(lines_text(doc, span), flavor):
            raise ActionFailed(
                f"flashpro: lines {span.label()} of {label} hold what looks like a secret; Quick edit "
                "would have to send it (or rewrite it as a placeholder), so nothing was sent"
            )
        messages, _, context = self._prompt(action, doc, span, instruction, context_tokens)
        redacted = self._scanner.redact(messages[1]["content"], flavor, gutter=_GUTTER)
        if redacted.blocked:
            raise ActionFailed(f"flashpro: {label} holds a private key; nothing was sent")
        sent = SentLines(self._workspace.root)
        if context.whole_file or context.excerpt is None:
            sent.add(doc.uri, 0, doc.buffer.line_count - 1)
        else:
            sent.add_lines(doc.uri, context.lines)
            sent.add(doc.uri, context.excerpt.start, context.excerpt.end)
        if action == "quickEdit":
            sent.add(doc.uri, span.start, span.end)
        return [messages[0], {"role": "user", "content": redacted.text}], sent.to_json()

    def _prompt(
        self, action: str, doc: Document, span: LineSpan, instruction: str, context_tokens: int
    ) -> tuple[list[dict[str, str]], int, ActionContext]:
        """The messages (before redaction), their exact token count (template included), and
        the file part's context."""
        label = self.label(doc.uri)
        if action == "quickEdit" and self._selection_over(doc, span, context_tokens):
            raise ActionFailed(
                f"flashpro: the selection is too large for {ACTIONS[action].title}'s context budget "
                f"(flashpro.actions.{action}.contextTokens = {context_tokens})"
            )
        selection = lines_text(doc, span) if action == "quickEdit" else ""
        tail = task(action, label, span, selection, instruction)
        fixed = count(SYSTEM) + count(tail) + CHAT_TEMPLATE_TOKENS
        room = context_tokens - fixed - 4
        if room < 64:
            raise ActionFailed(
                f"flashpro: the selection is too large for {ACTIONS[action].title}'s context budget "
                f"(flashpro.actions.{action}.contextTokens = {context_tokens})"
            )
        context = build_context(label, self.view(doc), span, room)
        # The context ends with a line break and the task starts a line with a word, so the
        # user message's count is the sum of both (a pre-tokenizer boundary; tokens.lines).
        tokens = fixed + context.tokens
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": context.text + tail},
        ]
        return messages, tokens, context

    def preview(self, action: str, doc: Document, span: LineSpan) -> Preview:
        """Exact prompt tokens and an estimated cost; no API call. Cached per document version."""
        route = self.route(action)
        now = self.clock()
        key = (
            doc.uri,
            _version(doc),
            action,
            span,
            route.model_dump_json(),
            id(self._meter.prices),
            now.strftime("%Y%m%d%H%M"),
        )
        cached = self._previews.get(key)
        if cached is not None:
            return cached
        try:
            prompt = self._prompt(action, doc, span, "", route.context_tokens)[1]
        except ActionFailed:
            prompt = route.context_tokens
        prices = self._meter.prices
        model = self.model(route)
        price = prices.price_for(model, now)
        expected = self._expected_output(action, route, doc, span)
        cost, peak, factor = 0.0, False, 1.0
        if price is not None:
            cost = float(prompt * price.cache_miss + expected * price.output) / 1_000_000
            peak = price.peak
            if peak:
                calm = prices.price_for(model, next_off_peak(prices, now))
                if calm is not None and calm.cache_miss:
                    factor = round(float(price.cache_miss / calm.cache_miss), 2)
        preview = Preview(prompt, cost, peak, factor)
        if len(self._previews) > 256:
            self._previews.clear()
        self._previews[key] = preview
        return preview

    def _selection_over(self, doc: Document, span: LineSpan, limit: int) -> bool:
        """Whether the text of `span` is over `limit` tokens (reading about `limit` tokens)."""
        chars = 0
        for i in range(span.start, span.end + 1):
            chars += len(doc.buffer.line(i))
            if chars > (limit + 1) * MAX_TOKEN_CHARS:
                return True  # longer than any text of `limit` tokens: no need to count
        lines = (doc.buffer.line(i) for i in range(span.start, span.end + 1))
        return self._counter.count_lines(lines, limit=limit) > limit

    def _expected_output(self, action: str, route: ActionRoute, doc: Document, span: LineSpan) -> int:
        """A rough output size for the cost preview (reasoning included when thinking)."""
        if action == "quickEdit":
            if self._selection_over(doc, span, route.max_output_tokens):
                return route.max_output_tokens
            guess = int(count(lines_text(doc, span)) * 1.2) + 16
        else:
            guess = {"review": 800, "design": 900, "explain": 350, "tests": 900}[action]
        if route.thinking:
            guess += 1500
        return min(guess, route.max_output_tokens)

    # -- running ---------------------------------------------------------------------------
    async def run(
        self,
        action: str,
        doc: Document,
        span: LineSpan,
        instruction: str = "",
        on_tokens: Callable[[int], None] | None = None,
    ) -> ActionResult:
        """Call the routed model for `action`; returns the validated answer or raises
        `ActionFailed` (or `asyncio.CancelledError`, after recording the call)."""
        spec = ACTIONS[action]
        if doc.private:
            raise ActionFailed(
                f"flashpro: {self.label(doc.uri)} is excluded from the API (flashpro.exclude, or it "
                "looks like a secret or a binary file); nothing was sent"
            )
        route = self.route(action)
        limits = self._meter.action_limits(doc.uri, route)
        if not limits.invoked:
            raise ActionFailed("flashpro: the spending cap is reached; no calls until it resets")
        if route.model == "planner" and not limits.pro:
            raise ActionFailed(
                f"flashpro: {spec.title} uses V4 Pro, which is off while a spending cap is near "
                f"(set flashpro.actions.{action}.model to executor to run it on V4 Flash)"
            )
        blocked = self._meter.blocked()
        if blocked is not None:
            raise ActionFailed(blocked.user_message())
        messages, sent = self.outgoing(action, doc, span, instruction, limits.context_tokens)
        version = doc.version
        settings = self._meter.settings
        model = self.model(route)
        last_report = [0.0]

        def call(attempt: int, messages: list[dict[str, str]]) -> tuple[CallInfo, ChatRequest]:
            request = ChatRequest(
                model=model,
                messages=messages,
                max_tokens=min(route.max_output_tokens, max(limits.max_output_tokens, 16)),
                thinking=route.thinking,
                reasoning_effort=route.reasoning_effort,
                json_output=spec.json_answer,
                timeout=settings.request_timeout,
            )
            info = CallInfo(
                request_id=uuid.uuid4().hex,
                uri=doc.uri,
                kind="chat",
                role=route.model,
                model=model,
                details={"action": action, "attempt": attempt, "thinking": route.thinking, "sent": sent},
                prompt_text=json.dumps(messages) if settings.log_prompts else None,
            )
            return info, request

        def on_delta(current: CallTrace) -> None:
            now = time.monotonic()
            if on_tokens is not None and now - last_report[0] >= 0.25:
                last_report[0] = now
                on_tokens(count(current.reasoning) + count(current.text))

        try:
            answer, calls = await ask_structured(
                self._meter,
                messages,
                call=call,
                parse=lambda text: _parse(action, text),
                on_delta=on_delta,
            )
        except ProviderError as error:
            raise ActionFailed(error.user_message()) from error
        except Unusable as error:
            raise ActionFailed(
                f"flashpro: {spec.title} failed: the model's answer was unusable twice ({error}); "
                "nothing was changed"
            ) from error
        return ActionResult(action, answer, span, version, calls)
