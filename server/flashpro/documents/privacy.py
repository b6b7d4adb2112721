"""What must never reach the API, as open documents see it: excluded paths and secret text.

A thin layer over :mod:`flashpro.privacy`. Exclusion globs (``flashpro.exclude``) follow the
usual editor syntax, matched with pathspec: ``**/`` matches any number of folders, ``*`` and
``?`` stay inside one path segment, a pattern without a slash matches the file name anywhere.
Secret detection is detect-secrets' rule set plus the shapes it lacks
(:mod:`flashpro.privacy.rules`), memoised per line; a document is private as a whole only when
it holds a private-key block, anything else is redacted from what is sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from flashpro.privacy import CONFIG, exclude_spec, flavor_for, has_private_key, shared_scanner, uri_to_path

__all__ = ["is_excluded", "looks_secret", "uri_to_path"]


def is_excluded(uri: str, patterns: Iterable[str]) -> bool:
    """Whether the document at `uri` matches any exclusion glob."""
    path = uri_to_path(uri).lstrip("/")
    spec = exclude_spec(tuple(pattern for pattern in patterns if pattern))
    return bool(path) and spec.match_file(path)


def looks_secret(text: str, path: str = "") -> bool:
    """Whether `text` holds a private key or a secret value (rules of `path`'s file type)."""
    flavor = flavor_for(path) if path else CONFIG
    return has_private_key(text) or shared_scanner().has_secret(text, flavor)
