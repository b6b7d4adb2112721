"""Inline completion: from (document, cursor, trigger) to suggestions, spending as little as possible.

For each request, in order:

1. **Type-through** — if the user has typed the start of a suggestion shown earlier (or asks
   again at the same place), the rest of it is answered from the local cache: zero tokens.
   Invoked (explicit) requests skip this and ask afresh.
   A suggestion the user typed past (rejected) is not shown again at that place, whether it
   comes from the cache, a followed stream or a fresh call.
2. **Worth asking?** — automatic triggers skip places a suggestion is very unlikely to be
   accepted (`trigger.should_request`), then wait an adaptive debounce (typing rhythm and
   observed latency) counted from the document's last content change; a newer request for the
   document during the wait ends this one.
3. **One call per document** — a newer request cancels the older one's HTTP call (the older
   request answers with no items and its call is recorded as superseded) unless what the user
   typed since matches the text still streaming: then the newer request waits for that stream
   and answers with its rest. A request the editor cancels (`$/cancelRequest`) keeps its stream
   for a 250 ms grace for such a follower, then aborts the HTTP call.
4. **Cache-aware prompt** — `layout.build_layout` with the previous window start of the same
   document as anchor, extra context from other files (`extra.ExtraContext`), the current
   file's outline (`outline.Outlines`; when the prompt holds the file from its first line, only
   the definitions after what prompt and suffix show), and stop sequences chosen for a single-
   or multi-line answer.

Every call goes through the session's `calls.Meter`, which records it however it ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flashpro.calls import CallInfo, Meter
from flashpro.completion.extra import ExtraContext
from flashpro.completion.guard import guard_layout, guard_stops
from flashpro.completion.layout import NO_ANCHOR, Layout, build_layout, shared_counter
from flashpro.completion.outline import Outlines, language_of
from flashpro.completion.postprocess import first_line, tidy
from flashpro.completion.reuse import InFlight, SuggestionCache, text_before
from flashpro.completion.trigger import TypingRhythm, multiline, should_request, stop_sequences
from flashpro.completion.workspace import WorkspaceModules
from flashpro.config import Settings
from flashpro.documents import Document, Position, uri_to_path
from flashpro.privacy import SentLines, shared_scanner
from flashpro.providers import FimRequest, ProviderError

__all__ = ["CompletionEvents", "CompletionService", "Suggestion"]

logger = logging.getLogger(__name__)

# How much of the prompt start is kept in memory to explain a later cache-hit drop.
_HEAD_CHARS = 16_384
# Lines at the top of a file searched for imports (they pick the extra context first).
_IMPORT_LINES = 200
# The current file's outline may take up to this share (1/n) of the prompt's budget.
_OUTLINE_SHARE = 3
# How long a stream whose request the editor cancelled waits for a keystroke that follows it.
_FOLLOW_GRACE_S = 0.25


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Text to insert at (line, column in code points)."""

    text: str
    line: int
    column: int
    request_id: str


class CompletionEvents(Protocol):
    """What the session hears about completions (the acceptance bookkeeping)."""

    def completion_requested(self, uri: str) -> None: ...

    def completion_answered(self, uri: str, request_id: str, shown_chars: int) -> None: ...

    def completion_reused(self, uri: str, request_id: str, shown_chars: int) -> None: ...


class CompletionService:
    """Answers inline completion requests with V4 Flash FIM."""

    def __init__(
        self,
        meter: Meter,
        events: CompletionEvents,
        excluded: Callable[[str], bool] = lambda uri: False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._meter = meter
        self._events = events
        self._excluded = excluded  # files never sent (the document store's rule)
        self._clock = clock
        self._inflight: dict[str, asyncio.Task[str]] = {}
        self._superseded: set[asyncio.Task[str]] = set()
        self._orphaned: set[asyncio.Task[str]] = set()  # the editor cancelled their request
        self._generation: dict[str, int] = {}
        self._layouts: dict[str, Layout] = {}
        self._streams: dict[str, InFlight] = {}
        self._following: dict[str, int] = {}
        self.reuse = SuggestionCache()
        self.rhythm = TypingRhythm()
        self.extra = ExtraContext()
        self._root: str | None = None
        self._scanner = shared_scanner()
        self.outlines = Outlines()

    @property
    def in_flight(self) -> int:
        """Number of FIM calls currently waiting on the API."""
        return sum(1 for task in self._inflight.values() if not task.done())

    # -- document events -------------------------------------------------------------------
    def set_roots(self, roots: list[str]) -> None:
        """Workspace roots: the relative paths that label files in prompts, and where imported
        modules that are not open are read from."""
        modules = WorkspaceModules(roots, excluded=self._excluded)
        self.extra = ExtraContext(roots=roots, modules=modules)
        self._root = roots[0] if roots else None

    def opened(self, doc: Document) -> None:
        """A (re)opened document: nothing learnt from an earlier text of its URI is kept."""
        self.reuse.forget(doc.uri)
        self._layouts.pop(doc.uri, None)
        self.extra.opened(doc)

    def edited(self, doc: Document, lines: list[int]) -> None:
        """Content changed at `lines`: a keystroke for the rhythm, a region for extra context."""
        self.rhythm.keystroke(doc.uri, self._clock())
        self.outlines.edited(doc.uri, lines)
        for line in lines:
            self.extra.edited(doc, line)

    def closed(self, uri: str) -> None:
        self.extra.closed(uri)
        self.outlines.closed(uri)
        self.reuse.forget(uri)
        self.rhythm.forget(uri)
        self._layouts.pop(uri, None)
        self._generation.pop(uri, None)
        self._supersede(uri)

    # -- requests --------------------------------------------------------------------------
    async def complete(self, doc: Document, line: int, column: int, invoked: bool) -> list[Suggestion]:
        """Suggestions for the cursor at (line, column); [] when none is worth showing."""
        settings = self._meter.settings
        if not invoked and not settings.completion.automatic:
            return []
        if doc.private:
            logger.debug("no completion for %s: excluded or secret-looking", doc.uri)
            return []
        if len(doc.buffer) > settings.completion.max_file_size:
            logger.info("no completion for %s: larger than completion.maxFileSize", doc.uri)
            return []
        generation = self._generation.get(doc.uri, 0) + 1
        self._generation[doc.uri] = generation

        cursor = Position(line, column)
        content = doc.buffer.line_content(line)
        line_before, line_rest = content[:column], content[column:]
        prefix = text_before(doc.buffer, cursor)
        # A response still streaming for an earlier keystroke may turn out to be this answer.
        flight = self._streams.get(doc.uri)
        if flight is None or flight.done or invoked or not flight.may_match(prefix, line_rest):
            if flight is not None and not flight.done:
                logger.debug("superseding the call for %s (typed %r, streamed %r)", doc.uri,
                             flight.typed(prefix, line_rest), flight.text[:40])
            flight = None
            self._supersede(doc.uri)
        # An explicit (invoked) request asks for a fresh answer; automatic ones reuse what was shown.
        hit = None if invoked else self.reuse.lookup(doc.uri, prefix, line_rest)
        if hit is not None and hit.text_remaining.strip():
            self._events.completion_reused(doc.uri, hit.request_id, len(hit.text_remaining))
            return [Suggestion(hit.text_remaining, line, column, hit.request_id)]
        if flight is not None:
            after = "".join([content[column:] + "\n", *doc.buffer.lines(line + 1, line + 8)])
            followed = await self._follow(flight, prefix, line_rest, after, line, column)
            if followed is not None:
                return [followed]
            self._supersede(doc.uri)

        if not invoked:
            worth, reason = should_request(line_before, line_rest, doc.language_id)
            if not worth:
                logger.debug("no request at %s:%d:%d (%s)", doc.uri, line, column, reason)
                return []
        if self._meter.blocked() is not None:
            return []
        limits = self._meter.completion_limits(doc.uri, invoked)
        if not (limits.invoked if invoked else limits.automatic):
            return []  # a spending cap holds this trigger back (announced once)
        if not invoked:
            # The debounce runs from the last content change, not from this request's arrival.
            await asyncio.sleep(self.rhythm.wait(doc.uri, self._clock()))
            if self._generation.get(doc.uri) != generation:
                return []  # a newer request for this document took over while we waited

        self._events.completion_requested(doc.uri)
        next_line = doc.buffer.line_content(line + 1) if line + 1 < doc.buffer.line_count else ""
        layout = self._layout(doc, cursor, settings, limits.context_tokens)
        if layout is None:
            return []  # a private key is inside the window: nothing is sent
        stop = stop_sequences(multiline(line_before, line_rest, next_line), next_line)
        stop = guard_stops(stop, doc.uri, self._scanner)  # the next line is one of them
        request_id = uuid.uuid4().hex
        task = asyncio.ensure_future(
            self._call(doc.uri, prefix, layout, stop, invoked, request_id, settings, limits.max_output_tokens)
        )
        self._inflight[doc.uri] = task
        task.add_done_callback(lambda done: self._call_done(doc.uri, done))
        try:
            shown = await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                # The editor cancelled this request: the stream lives on briefly for a follower.
                self._abandon_later(doc.uri, task)
                raise
            return []  # the call itself was cancelled: superseded by a newer request
        except ProviderError:
            return []
        if self.reuse.rejected(doc.uri, prefix, line_rest, shown):
            shown = ""  # the user typed past this very suggestion here before
        suggestions = self._suggestions(shown, line, column, invoked, request_id)
        self._events.completion_answered(doc.uri, request_id, max((len(s.text) for s in suggestions), default=0))
        return suggestions

    def _layout(self, doc: Document, cursor: Position, settings: Settings, budget: int) -> Layout | None:
        """The cache-aware prompt for `cursor`, anchored on this document's previous window, its
        secrets redacted (`guard.guard_layout`); None when it must not be sent."""
        suffix_budget = settings.completion.suffix_tokens
        head = "".join(doc.buffer.lines(0, _IMPORT_LINES))
        extra_budget = max(0, (budget - min(suffix_budget, budget // 2)) // 2 - 64)
        snippets = self.extra.select(doc.uri, head, extra_budget)
        previous = self._layouts.get(doc.uri)
        language = language_of(doc.language_id, uri_to_path(doc.uri))
        cap = (budget - min(suffix_budget, budget // 2)) // _OUTLINE_SHARE

        def outline(after: int | None = None) -> list[str]:
            if language is None:
                return []
            lines, _, _ = self.outlines.outline(
                doc.uri, language, doc.buffer, doc.version, cursor.line, cap, shared_counter(), after
            )
            return lines

        def lay_out(outline: list[str]) -> Layout:
            return build_layout(
                doc.buffer,
                cursor,
                budget,
                suffix_budget,
                snippets,
                anchor=previous.window_start if previous is not None else NO_ANCHOR,
                language_id=doc.language_id,
                label=self.extra.label(doc.uri),
                outline=outline,
            )

        full = outline()
        layout = lay_out(full)
        if full and layout.window_start == 0:
            # The prompt holds the file from its first line to the cursor, the suffix a few lines
            # more: only the definitions after those are missing from it.
            rest = outline(cursor.line + layout.context.suffix.count("\n"))
            layout = lay_out(rest)
        self._layouts[doc.uri] = layout
        return guard_layout(
            layout,
            uri=doc.uri,
            cursor_line=cursor.line,
            snippets=snippets,
            language_id=doc.language_id,
            label=self.extra.label(doc.uri),
            scanner=self._scanner,
            root=self._root,
        )

    async def _follow(
        self, flight: InFlight, prefix: str, line_rest: str, after: str, line: int, column: int
    ) -> Suggestion | None:
        """Wait for a still-streaming response and answer with what the user has not typed yet."""
        uri = flight.uri
        self._following[uri] = self._following.get(uri, 0) + 1
        try:
            await flight.wait()
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                task = self._inflight.get(uri)
                if task is not None:
                    self._abandon_later(uri, task)
                raise
            return None
        except Exception:  # noqa: BLE001 - the stream failed; a fresh request will follow
            return None
        finally:
            self._following[uri] -= 1
        remaining = flight.remaining(prefix, line_rest)
        text = tidy(remaining, line_rest, after) if remaining else ""
        if not text or self.reuse.rejected(uri, prefix, line_rest, text):
            return None
        self._events.completion_reused(uri, flight.request_id, len(text))
        return Suggestion(text, line, column, flight.request_id)

    def _abandon_later(self, uri: str, task: asyncio.Task[str]) -> None:
        """Cancel `task` after a short grace unless a later keystroke is following its stream."""

        def abandon() -> None:
            if not task.done() and self._following.get(uri, 0) == 0:
                task.cancel()

        self._orphaned.add(task)
        asyncio.get_running_loop().call_later(_FOLLOW_GRACE_S, abandon)

    def _call_done(self, uri: str, task: asyncio.Task[str]) -> None:
        if self._inflight.get(uri) is task:
            del self._inflight[uri]
        self._superseded.discard(task)
        self._orphaned.discard(task)

    def _supersede(self, uri: str) -> None:
        """Cancel the call still running for `uri`, if any."""
        task = self._inflight.get(uri)
        if task is not None and not task.done():
            self._superseded.add(task)
            task.cancel()

    async def _call(
        self,
        uri: str,
        prefix: str,
        layout: Layout,
        stop: list[str],
        invoked: bool,
        request_id: str,
        settings: Settings,
        max_tokens: int,
    ) -> str:
        """One metered FIM call; returns the tidied answer."""
        context = layout.context
        request = FimRequest(
            model=settings.models.flash,
            prompt=context.prompt,
            suffix=context.suffix,
            max_tokens=max_tokens,
            stop=stop,
            timeout=settings.completion.timeout,
        )
        info = CallInfo(
            request_id=request_id,
            uri=uri,
            kind="fim",
            role="executor",
            model=request.model,
            prompt_text=(context.prompt + "<|hole|>" + context.suffix) if settings.log_prompts else None,
            details={
                "trigger": "invoked" if invoked else "automatic",
                "context_tokens": context.tokens,
                "head_chars": layout.head_chars,
                "snippets": layout.snippets,
                "sent": SentLines.as_json(layout.sent),
            },
            prompt_head=context.prompt[:_HEAD_CHARS],
            line_at=layout.line_at,
        )
        flight = InFlight(uri, prefix, context.line_rest, request_id)
        self._streams[uri] = flight
        task = asyncio.current_task()

        def on_text(text: str) -> bool:
            flight.feed(text[len(flight.text) :])
            return False

        def on_end(info: CallInfo) -> None:
            if self._streams.get(uri) is flight:
                del self._streams[uri]
            if info.status == "cancelled" and task in self._superseded:
                info.outcome = "superseded"
            elif info.status == "ok" and task in self._orphaned and not self._following.get(uri, 0):
                info.outcome = "superseded"  # its request was cancelled and no keystroke followed it

        try:
            text = await self._meter.fim(info, request, on_text, on_end=on_end)
        except (asyncio.CancelledError, ProviderError) as exc:
            flight.fail(exc)
            raise
        flight.finish(text)
        self.rhythm.observe_latency(info.trace.latency_total_ms / 1000.0)
        shown = tidy(text, context.line_rest, context.suffix)
        self.reuse.remember(uri, prefix, context.line_rest, shown, request_id)
        return shown

    @staticmethod
    def _suggestions(text: str, line: int, column: int, invoked: bool, request_id: str) -> list[Suggestion]:
        """One item (automatic) or up to two (invoked: also the first line alone)."""
        if not text:
            return []
        items = [Suggestion(text, line, column, request_id)]
        if invoked:
            short = first_line(text)
            if short.strip() and short != text:
                items.append(Suggestion(short, line, column, request_id))
        return items

