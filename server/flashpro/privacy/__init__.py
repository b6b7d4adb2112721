"""What must never reach the API: secret-looking text (redacted or refused) and excluded files.

- ``rules``: the rule set (detect-secrets' plugins plus the shapes it lacks) for one line.
- ``scanner``: the memoised per-line scanner and redaction of outgoing text.
- ``paths``: `flashpro.exclude` globs, `.gitignore` and vendored folders (pathspec).
- ``sent``: which files and line ranges a call sent, for the ledger.
"""

from __future__ import annotations

from flashpro.privacy.paths import VENDORED, WorkspaceIgnore, exclude_spec, uri_to_path
from flashpro.privacy.rules import CODE, CONFIG, Finding, flavor_for, has_private_key, load_rules, scan_line
from flashpro.privacy.scanner import REDACTED, Redacted, SecretScanner, shared_scanner
from flashpro.privacy.sent import SentLines, file_label

__all__ = [
    "CODE",
    "CONFIG",
    "REDACTED",
    "VENDORED",
    "Finding",
    "Redacted",
    "SecretScanner",
    "SentLines",
    "WorkspaceIgnore",
    "exclude_spec",
    "file_label",
    "flavor_for",
    "has_private_key",
    "load_rules",
    "scan_line",
    "shared_scanner",
    "uri_to_path",
]
