"""Open documents: incremental text buffers, encodings, and privacy checks."""

from __future__ import annotations

from flashpro.documents.buffer import Encoding, Position, TextBuffer, split_lines
from flashpro.documents.privacy import is_excluded, looks_secret, uri_to_path
from flashpro.documents.store import Document, DocumentStore, TextChange

__all__ = [
    "Document",
    "DocumentStore",
    "Encoding",
    "Position",
    "TextBuffer",
    "TextChange",
    "is_excluded",
    "looks_secret",
    "split_lines",
    "uri_to_path",
]
