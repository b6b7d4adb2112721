"""Open documents: their buffers, versions, and whether they may be sent to the API.

A document is *excluded* when its path matches `flashpro.exclude`, is ignored by git in the
workspace, or lies in a vendored folder; *secret* when it holds a private-key block (checked
on open, then on the lines each edit touches, so a key typed one character at a time is
seen whole); *binary* when it holds a NUL. Any of these keeps the whole document private.
Secret values elsewhere are redacted from each prompt instead (`flashpro.privacy`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flashpro.documents.buffer import Encoding, Position, TextBuffer, split_lines
from flashpro.documents.privacy import is_excluded
from flashpro.privacy import WorkspaceIgnore, has_private_key, uri_to_path

__all__ = ["Document", "DocumentStore", "TextChange"]


@dataclass(slots=True)
class TextChange:
    """One content change in client units; `start`/`end` None means the whole text."""

    text: str
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


@dataclass(slots=True)
class Document:
    """One open document."""

    uri: str
    language_id: str
    version: int
    buffer: TextBuffer
    excluded: bool = False
    secret: bool = False
    binary: bool = False
    edits: int = field(default=0)

    @property
    def private(self) -> bool:
        """True when no part of this document may be sent to the API."""
        return self.excluded or self.secret or self.binary


class DocumentStore:
    """All open documents, keyed by URI."""

    def __init__(self, encoding: Encoding = "utf-16", exclude: Iterable[str] = ()):
        self.encoding: Encoding = encoding
        self._exclude = tuple(exclude)
        self._ignore = WorkspaceIgnore(None)
        self._docs: dict[str, Document] = {}

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._docs.values()))

    def get(self, uri: str) -> Document | None:
        """The open document at `uri`, if any."""
        return self._docs.get(uri)

    def set_exclude(self, patterns: Iterable[str]) -> None:
        """Apply new exclusion globs to every open document."""
        self._exclude = tuple(patterns)
        for doc in self._docs.values():
            doc.excluded = self.excluded(doc.uri)

    def set_workspace(self, root: str | None) -> None:
        """Honour the `.gitignore` files of the workspace at `root` (a path) from now on."""
        self._ignore = WorkspaceIgnore(root)
        for doc in self._docs.values():
            doc.excluded = self.excluded(doc.uri)

    def excluded(self, uri: str) -> bool:
        """Whether `uri` is excluded by `flashpro.exclude`, git's ignore rules or a vendored folder."""
        if is_excluded(uri, self._exclude):
            return True
        return uri.startswith("file:") and self._ignore.ignored(uri_to_path(uri))

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        """Register a newly opened document."""
        doc = Document(
            uri=uri,
            language_id=language_id,
            version=version,
            buffer=TextBuffer(text, self.encoding),
            excluded=self.excluded(uri),
            secret=has_private_key(text),
            binary="\x00" in text,
        )
        self._docs[uri] = doc
        return doc

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._docs.pop(uri, None)

    def change(self, uri: str, version: int, changes: Iterable[TextChange]) -> Document | None:
        """Apply content changes in order; returns the document, or None if it is not open."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        buffer = doc.buffer
        for change in changes:
            if change.start is None or change.end is None:
                buffer.replace_all(change.text)
                doc.secret = has_private_key(change.text)
                doc.binary = "\x00" in change.text
            else:
                start = buffer.position(*change.start)
                end = buffer.position(*change.end)
                buffer.edit(start, end, change.text)
                first = min(start.line, end.line)
                touched = buffer.lines(first, first + len(split_lines(change.text)))
                doc.secret = doc.secret or has_private_key("".join(touched))
                doc.binary = doc.binary or "\x00" in change.text
        doc.version = version
        doc.edits += 1
        return doc

    @staticmethod
    def clamp(doc: Document, line: int, units: int) -> Position:
        """A client position converted to code points and clamped into the document."""
        return doc.buffer.position(line, units)
