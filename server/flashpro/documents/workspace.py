"""The workspace a session serves: its root folder, and how files are named relative to it.

File labels ("pkg/mod.py") appear in prompts, documents and reports; they are the path relative
to the first workspace root that contains the file, else its last two path parts (never an
absolute path, which would differ between machines and say more than needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flashpro.documents.privacy import uri_to_path

__all__ = ["Workspace", "relative_label"]


def relative_label(uri: str, roots: Sequence[str]) -> str:
    """`uri`'s path relative to the first of `roots` (paths ending in "/") holding it, else its
    last two path parts."""
    path = uri_to_path(uri)
    for root in roots:
        if path.startswith(root):
            return path[len(root) :]
    return "/".join(path.rsplit("/", 2)[-2:])


class Workspace:
    """The session's workspace root (None before initialize names one)."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root

    @property
    def roots(self) -> list[str]:
        """The roots as path prefixes ending in "/" (empty without a workspace)."""
        return [uri_to_path(self.root).rstrip("/") + "/"] if self.root else []

    def label(self, uri: str) -> str:
        """How prompts and documents name the file at `uri`."""
        return relative_label(uri, self.roots)

    def root_for(self, uri: str) -> Path:
        """Where flashpro writes files for `uri` (designs, notes): the workspace root, else the
        file's own folder."""
        return Path(self.root) if self.root else Path(uri_to_path(uri)).parent
