"""What must never reach the API: excluded paths and text that looks like a secret.

Exclusion globs follow the usual editor syntax: `**/` matches any number of folders, `*` and
`?` stay inside one path segment. A pattern without a slash matches the file name anywhere.
Secret detection is deliberately simple and cheap (private-key blocks, well-known token
shapes); it runs on open and on the inserted text of each edit, never on the whole file per
keystroke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import unquote, urlparse

__all__ = ["is_excluded", "looks_secret", "uri_to_path"]

_SECRET = re.compile(
    r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"
    r"|AKIA[0-9A-Z]{16}"
    r"|ghp_[A-Za-z0-9]{36}"
    r"|xox[bap]-[A-Za-z0-9-]{10,}"
    r"|sk-[A-Za-z0-9]{32,}"
)


def uri_to_path(uri: str) -> str:
    """The path part of a URI (file or untitled), with forward slashes."""
    parsed = urlparse(uri)
    path = unquote(parsed.path or uri)
    return path.replace("\\", "/")


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    """Translate one glob to a regex anchored at a path-segment boundary."""
    if "/" not in pattern:
        pattern = "**/" + pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("(?:^|/)" + "".join(out) + "$")


def is_excluded(uri: str, patterns: Iterable[str]) -> bool:
    """Whether the document at `uri` matches any exclusion glob."""
    path = uri_to_path(uri)
    return any(_compile(pattern).search(path) for pattern in patterns if pattern)


def looks_secret(text: str) -> bool:
    """Whether `text` contains something shaped like a private key or access token."""
    return _SECRET.search(text) is not None
