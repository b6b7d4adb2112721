"""Zero-token reuse: answer from a suggestion already shown, or from a response still streaming.

This module owns two local shortcuts that avoid paying for a request:

* :class:`SuggestionCache` -- a bounded LRU of recent suggestions (250 by default, as in
  llama.vim), keyed by (uri, the last ``key_chars`` characters before the cursor, the rest of
  the cursor line). *Type-through*: when the text before the cursor is an older key's text
  plus up to ``look_back`` typed characters that start the suggestion shown for it, the rest
  of that suggestion is the answer. ``look_back + 1`` dictionary probes per lookup, no tokens.
  *Typed past*: when the text typed after a key departs from the suggestion shown for it, the
  user has rejected that suggestion: the entry goes, and the same text is neither stored nor
  shown again for that key (:meth:`SuggestionCache.rejected`), so going back to the place
  (backspace, undo) or asking the model again there does not bring it back.
* :class:`InFlight` -- one FIM response still streaming for a document: the prefix it was
  asked for, the text streamed so far, and an event set when it ends. A newer request whose
  prefix is the old prefix plus text the stream starts with can await it instead of calling.

Prefix texts are the *document's* text before the cursor (not the laid-out prompt), at least
``key_chars + look_back`` characters of it where the document has them: use
:func:`text_before`. Nothing here reads a clock.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from flashpro.documents import Position, TextBuffer

__all__ = [
    "KEY_CHARS",
    "LOOK_BACK",
    "Hit",
    "InFlight",
    "SuggestionCache",
    "text_before",
]

KEY_CHARS = 1024  # characters before the cursor that identify a context
LOOK_BACK = 128  # typed characters a cached or streaming suggestion can be followed through


@dataclass(frozen=True, slots=True)
class Hit:
    """What is left of an earlier suggestion after the characters typed since it was shown."""

    text_remaining: str
    request_id: str
    typed: int = 0  # characters of the suggestion already typed


def text_before(buffer: TextBuffer, cursor: Position, chars: int = KEY_CHARS + LOOK_BACK) -> str:
    """The last `chars` characters of the document before `cursor` (line breaks included)."""
    line = min(max(cursor.line, 0), buffer.line_count - 1)
    pieces = [buffer.line(line)[: max(cursor.column, 0)]]
    size = len(pieces[0])
    while size < chars and line > 0:
        line -= 1
        pieces.append(buffer.line(line))
        size += len(pieces[-1])
    text = "".join(reversed(pieces))
    return text[len(text) - chars :] if len(text) > chars else text


def _typed_after(prefix_text: str, old_tail: str, key_chars: int, look_back: int) -> str | None:
    """The text typed since `old_tail`: prefix_text = <old text ending in old_tail> + typed."""
    end = len(prefix_text)
    for typed in range(min(look_back, end) + 1):
        stop = end - typed
        if prefix_text[max(stop - key_chars, 0) : stop] == old_tail:
            return prefix_text[stop:]
    return None


class SuggestionCache:
    """A bounded LRU of shown suggestions, answering exact and type-through lookups."""

    def __init__(
        self, max_entries: int = 250, key_chars: int = KEY_CHARS, look_back: int = LOOK_BACK
    ):
        if max_entries < 1 or key_chars < 1 or look_back < 0:
            raise ValueError("max_entries and key_chars must be positive, look_back >= 0")
        self._max_entries = max_entries
        self._key_chars = key_chars
        self._look_back = look_back
        self._entries: OrderedDict[tuple[str, str, str], tuple[str, str]] = OrderedDict()
        self._rejected: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(
        self, uri: str, prefix_text: str, line_rest: str, suggestion_text: str, request_id: str
    ) -> None:
        """Store a suggestion shown for (uri, text before the cursor, rest of the line)."""
        if not suggestion_text:
            return
        key = (uri, prefix_text[-self._key_chars :], line_rest)
        if self._rejected.get(key) == suggestion_text:
            return  # typed past once already: not offered again here
        self._entries[key] = (suggestion_text, request_id)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def lookup(self, uri: str, prefix_text: str, line_rest: str) -> Hit | None:
        """The rest of a suggestion whose start the user typed (or the whole, untyped), if any."""
        end = len(prefix_text)
        entries = self._entries
        for typed in range(min(self._look_back, end) + 1):
            stop = end - typed
            key = (uri, prefix_text[max(stop - self._key_chars, 0) : stop], line_rest)
            entry = entries.get(key)
            if entry is None:
                continue
            text, request_id = entry
            typed_text = prefix_text[stop:]
            if len(text) > typed and text.startswith(typed_text):
                entries.move_to_end(key)
                return Hit(text[typed:], request_id, typed)
            if not typed_text.startswith(text):
                self._reject(key, text)  # typed past: what was typed departs from it
        return None

    def rejected(self, uri: str, prefix_text: str, line_rest: str, suggestion_text: str) -> bool:
        """Whether `suggestion_text` was typed past (rejected) at this place before."""
        key = (uri, prefix_text[-self._key_chars :], line_rest)
        return bool(suggestion_text) and self._rejected.get(key) == suggestion_text

    def _reject(self, key: tuple[str, str, str], text: str) -> None:
        del self._entries[key]
        self._rejected[key] = text
        self._rejected.move_to_end(key)
        while len(self._rejected) > self._max_entries:
            self._rejected.popitem(last=False)

    def forget(self, uri: str) -> None:
        """Drop every suggestion of a document (closed, or edited out of recognition)."""
        for key in [key for key in self._entries if key[0] == uri]:
            del self._entries[key]
        for key in [key for key in self._rejected if key[0] == uri]:
            del self._rejected[key]

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()
        self._rejected.clear()


class InFlight:
    """One FIM response still streaming for a document, reusable by later keystrokes."""

    def __init__(
        self,
        uri: str,
        prefix_text: str,
        line_rest: str,
        request_id: str,
        key_chars: int = KEY_CHARS,
        look_back: int = LOOK_BACK,
    ):
        self.uri = uri
        self.line_rest = line_rest
        self.request_id = request_id
        self.text = ""
        self.error: BaseException | None = None
        self._tail = prefix_text[-key_chars:]
        self._key_chars = key_chars
        self._look_back = look_back
        self._done = asyncio.Event()

    @property
    def done(self) -> bool:
        """Whether the stream has ended (finished or failed)."""
        return self._done.is_set()

    def feed(self, chunk: str) -> None:
        """Append streamed text."""
        if not self._done.is_set():
            self.text += chunk

    def finish(self, text: str | None = None) -> None:
        """End the stream (optionally with the final, post-processed text)."""
        if text is not None:
            self.text = text
        self._done.set()

    def fail(self, error: BaseException) -> None:
        """End the stream with an error (cancelled, superseded, provider failure)."""
        self.error = error
        self._done.set()

    def typed(self, prefix_text: str, line_rest: str | None = None) -> str | None:
        """What was typed since the request (prefix = old prefix + typed), else None."""
        if line_rest is not None and line_rest != self.line_rest:
            return None
        return _typed_after(prefix_text, self._tail, self._key_chars, self._look_back)

    def matches(self, prefix_text: str, line_rest: str | None = None) -> bool:
        """Whether the new prefix is the old one plus text the streamed text starts with."""
        if self.error is not None:
            return False
        typed = self.typed(prefix_text, line_rest)
        return typed is not None and self.text.startswith(typed) and len(self.text) > len(typed)

    def may_match(self, prefix_text: str, line_rest: str | None = None) -> bool:
        """Whether a still-running stream can still come to match (typed runs ahead of it)."""
        if self.error is not None:
            return False
        typed = self.typed(prefix_text, line_rest)
        if typed is None:
            return False
        return self.text.startswith(typed) or (not self.done and typed.startswith(self.text))

    def remaining(self, prefix_text: str, line_rest: str | None = None) -> str | None:
        """The streamed text after what was typed, when it matches."""
        typed = self.typed(prefix_text, line_rest)
        if typed is None or self.error is not None or not self.text.startswith(typed):
            return None
        rest = self.text[len(typed) :]
        return rest or None

    async def wait(self) -> str:
        """The full text once the stream ends; re-raises its error."""
        await self._done.wait()
        if self.error is not None:
            raise self.error
        return self.text
