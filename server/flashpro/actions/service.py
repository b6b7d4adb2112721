"""Runs code actions: builds the prompt within budget, calls the routed model, validates.

Listing is free: `preview` only counts tokens (exact tokenizer) and prices them. `run` makes
the call(s): JSON answers are validated with pydantic and, when invalid or empty, asked for
once more with the error appended; a second failure ends with a clear message. Every call,
retried, cancelled or failed, reaches the ledger through the sink with its role (executor or
planner). A call cancelled mid-stream is recorded with the tokens already spent, counted with
the exact tokenizer and marked estimated (as cache misses: the upper bound).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_snake

from flashpro.accounting.format import dollars, tokens
from flashpro.actions.catalog import ACTIONS, ActionSpec
from flashpro.actions.context import ActionContext, FileView, LineSpan, build_context, lines_text
from flashpro.actions.prompts import SYSTEM, retry_message, task
from flashpro.actions.schemas import Design, QuickEditAnswer, Review, TestsAnswer
from flashpro.completion import CallInfo
from flashpro.completion.budget import Limits
from flashpro.config import ActionRoute, Settings
from flashpro.documents import Document
from flashpro.ledger import PriceTable
from flashpro.privacy import SentLines, flavor_for, shared_scanner, uri_to_path
from flashpro.providers import CallTrace, ChatRequest, DeepSeekProvider, ProviderError
from flashpro.providers.gate import ErrorGate
from flashpro.tokens import LineCounter, count
from flashpro.usage import Usage

__all__ = ["ActionFailed", "ActionResult", "ActionService", "Preview", "next_off_peak"]

_SCHEMAS: dict[str, type[BaseModel]] = {
    "review": Review,
    "design": Design,
    "quickEdit": QuickEditAnswer,
    "tests": TestsAnswer,
}
_CHAT_TEMPLATE_TOKENS = 8
"""Tokens the chat template adds around two messages (BOS, role markers, think switch)."""
_GUTTER = re.compile(r" *\d+\| ")
"""The line numbers in front of each file line of a prompt (not scanned for secrets)."""


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


def next_off_peak(prices: PriceTable, now: datetime) -> datetime:
    """The first moment at or after `now` (to the minute) outside peak hours."""
    moment = now.replace(second=0, microsecond=0)
    for _ in range(7 * 24 * 4):
        if not prices.is_peak(moment):
            return moment
        moment += timedelta(minutes=15)
        moment = moment.replace(minute=(moment.minute // 15) * 15)
    return moment


def _strip_fences(text: str) -> str:
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        if body.rstrip().endswith("```"):
            body = body.rstrip()[:-3]
    return body.strip()


def _parse(action: str, text: str) -> Any:
    """Validate an answer; raises ValueError with a message fit to send back to the model."""
    if action == "explain":
        if not text.strip():
            raise ValueError("the answer was empty")
        return text.strip()
    body = _strip_fences(text)
    if not body:
        raise ValueError("the answer was empty")
    try:
        raw = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid json ({exc.msg} at character {exc.pos})") from exc
    try:
        return _SCHEMAS[action].model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ValueError(f"json does not match the example ({problems})") from exc


class ActionService:
    """Previews and runs code actions for the core."""

    def __init__(
        self,
        *,
        settings: Callable[[], Settings],
        provider: Callable[[], DeepSeekProvider],
        gate: ErrorGate,
        sink: Any,
        prices: Callable[[], PriceTable],
        limits: Callable[[str, ActionRoute], Limits],
        label: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        root: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._provider = provider
        self._gate = gate
        self._sink = sink
        self._prices = prices
        self._limits = limits
        self._label = label
        self._root = root
        self.clock = clock
        self._previews: dict[tuple[Any, ...], Preview] = {}
        self._views: dict[str, tuple[Document, int, FileView]] = {}
        self._counter = LineCounter()  # line counts survive edits: only changed lines recount
        self._scanner = shared_scanner()

    def forget(self, uri: str) -> None:
        """Drop what was built from earlier texts of `uri` (closed or reopened: versions restart)."""
        self._views.pop(uri, None)
        for key in [key for key in self._previews if key[0] == uri]:
            del self._previews[key]

    def view(self, doc: Document) -> FileView:
        """The document's lines as actions see them, built once per version."""
        cached = self._views.get(doc.uri)
        if cached is not None and cached[0] is doc and cached[1] == doc.version:
            return cached[2]  # the same open document (a reopened one restarts its versions)
        view = FileView.of([doc.buffer.line_content(i) for i in range(doc.buffer.line_count)], self._counter)
        if len(self._views) > 32:
            self._views.clear()
        self._views[doc.uri] = (doc, doc.version, view)
        return view

    def label(self, uri: str) -> str:
        """The file's name as prompts and documents show it (relative to the workspace)."""
        return self._label(uri)

    # -- routing ---------------------------------------------------------------------------
    def route(self, action: str) -> ActionRoute:
        """The configured route of `action`."""
        return getattr(self._settings().actions, to_snake(action))

    def model(self, route: ActionRoute) -> str:
        """The model name a route calls."""
        models = self._settings().models
        return models.pro if route.model == "planner" else models.flash

    def should_defer(self, action: str) -> datetime | None:
        """When planner work is deferred to off-peak and it is peak now: when to start."""
        route = self.route(action)
        if route.model != "planner" or not self._settings().actions.defer_off_peak:
            return None
        now = self.clock()
        if not self._prices().is_peak(now):
            return None
        return next_off_peak(self._prices(), now)

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
        label = self._label(doc.uri)
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
        sent = SentLines(self._root())
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
        label = self._label(doc.uri)
        selection = lines_text(doc, span) if action == "quickEdit" else ""
        tail = task(action, label, span, selection, instruction)
        fixed = count(SYSTEM) + count(tail) + _CHAT_TEMPLATE_TOKENS
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
            doc.version,
            action,
            span,
            route.model_dump_json(),
            id(self._prices()),
            now.strftime("%Y%m%d%H%M"),
        )
        cached = self._previews.get(key)
        if cached is not None:
            return cached
        try:
            prompt = self._prompt(action, doc, span, "", route.context_tokens)[1]
        except ActionFailed:
            prompt = route.context_tokens
        prices = self._prices()
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

    @staticmethod
    def _expected_output(action: str, route: ActionRoute, doc: Document, span: LineSpan) -> int:
        """A rough output size for the cost preview (reasoning included when thinking)."""
        if action == "quickEdit":
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
                f"flashpro: {self._label(doc.uri)} is excluded from the API (flashpro.exclude, or it "
                "looks like a secret or a binary file); nothing was sent"
            )
        route = self.route(action)
        limits = self._limits(doc.uri, route)
        if not limits.invoked:
            raise ActionFailed("flashpro: the spending cap is reached; no calls until it resets")
        if route.model == "planner" and not limits.pro:
            raise ActionFailed(
                f"flashpro: {spec.title} uses V4 Pro, which is off while a spending cap is near "
                f"(set flashpro.actions.{action}.model to executor to run it on V4 Flash)"
            )
        blocked = self._gate.blocked_by()
        if blocked is not None:
            raise ActionFailed(blocked.user_message())
        messages, sent = self.outgoing(action, doc, span, instruction, limits.context_tokens)
        version = doc.version
        error = ""
        for attempt in (1, 2):
            if attempt == 2:
                messages = [*messages, {"role": "user", "content": retry_message(error)}]
            text = await self._call(action, spec, route, doc.uri, messages, limits, attempt, on_tokens, sent)
            try:
                data = _parse(action, text)
            except ValueError as exc:
                error = str(exc)
                if attempt == 1:
                    messages = [*messages[:2], {"role": "assistant", "content": text or "(empty)"}]
                continue
            return ActionResult(action, data, span, version, attempt)
        raise ActionFailed(
            f"flashpro: {spec.title} failed: the model's answer was unusable twice ({error}); "
            "nothing was changed"
        )

    async def _call(
        self,
        action: str,
        spec: ActionSpec,
        route: ActionRoute,
        uri: str,
        messages: list[dict[str, str]],
        limits: Limits,
        attempt: int,
        on_tokens: Callable[[int], None] | None,
        sent: list[dict[str, object]] | None = None,
    ) -> str:
        model = self.model(route)
        request = ChatRequest(
            model=model,
            messages=messages,
            max_tokens=min(route.max_output_tokens, max(limits.max_output_tokens, 16)),
            thinking=route.thinking,
            reasoning_effort=route.reasoning_effort,
            json_output=spec.json_answer,
            timeout=self._settings().request_timeout,
        )
        trace = CallTrace()
        info = CallInfo(
            request_id=uuid.uuid4().hex,
            uri=uri,
            kind="chat",
            role=route.model,
            model=model,
            trace=trace,
            status="ok",
            details={"action": action, "attempt": attempt, "thinking": route.thinking, "sent": sent or []},
            prompt_text=json.dumps(messages) if self._settings().log_prompts else None,
        )
        last_report = [0.0]

        def on_delta(current: CallTrace) -> None:
            now = time.monotonic()
            if on_tokens is not None and now - last_report[0] >= 0.25:
                last_report[0] = now
                on_tokens(count(current.reasoning) + count(current.text))

        try:
            return await self._provider().chat(request, trace, on_delta)
        except asyncio.CancelledError:
            info.status = "cancelled"
            info.details["estimated"] = self._estimate(trace, messages)
            raise
        except ProviderError as error:
            info.status = "error"
            info.error_kind = error.kind
            if trace.parts or trace.reasoning_parts:
                info.details["estimated"] = self._estimate(trace, messages)
            self._gate.observe(error)
            self._sink.provider_failed(error, announce=False)  # logged; the action says it below
            raise ActionFailed(error.user_message()) from error
        finally:
            self._sink.call_finished(info)
            if info.status == "ok":
                self._gate.succeeded()

    @staticmethod
    def _estimate(trace: CallTrace, messages: list[dict[str, str]]) -> bool:
        """Usage for a call that ended before DeepSeek reported it: exact counts, all misses.
        Returns whether it estimated (False when DeepSeek's own usage had arrived)."""
        if trace.usage is not None:
            return False
        prompt = sum(count(m["content"]) for m in messages) + _CHAT_TEMPLATE_TOKENS
        reasoning = count(trace.reasoning)
        trace.usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=reasoning + count(trace.text),
            cache_hit_tokens=0,
            cache_miss_tokens=prompt,
            reasoning_tokens=reasoning,
        )
        return True
