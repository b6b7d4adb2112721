"""Open documents: incremental text buffers, encodings, and privacy checks."""

from __future__ import annotations

from flashpro.documents.buffer import Encoding, Position, TextBuffer, split_lines
from flashpro.documents.privacy import is_excluded, looks_secret, uri_to_path
from flashpro.documents.store import Document, DocumentStore, TextChange
from flashpro.documents.workspace import Workspace, relative_label

__all__ = [
    "Document",
    "DocumentStore",
    "Encoding",
    "Position",
    "TextBuffer",
    "TextChange",
    "Workspace",
    "is_excluded",
    "looks_secret",
    "relative_label",
    "split_lines",
    "uri_to_path",
]
