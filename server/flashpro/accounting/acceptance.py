"""What happened to each shown completion: accepted, partially accepted, or rejected.

Editors report acceptance by running the item's `flashpro.accept` command, or with the
Copilot-style notifications `textDocument/didShowCompletion` and
`textDocument/didPartiallyAcceptCompletion`. Nothing reports a rejection, so a shown completion
still unanswered when the next request for the same document arrives, or when the document
closes, counts as rejected. An acceptance that arrives late still wins over that inference.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["AcceptanceTracker"]

_MEMORY = 2048


class AcceptanceTracker:
    """Remembers the open (unanswered) suggestions per document."""

    def __init__(self) -> None:
        self._open: dict[str, set[str]] = {}
        self._answered: OrderedDict[str, None] = OrderedDict()

    def shown(self, uri: str, request_id: str) -> None:
        """A completion from `request_id` was returned to the editor for `uri`."""
        self._open.setdefault(uri, set()).add(request_id)

    def answered(self, request_id: str) -> bool:
        """Mark `request_id` accepted (fully or partly); False if it was already answered."""
        for pending in self._open.values():
            pending.discard(request_id)
        if request_id in self._answered:
            return False
        self._answered[request_id] = None
        while len(self._answered) > _MEMORY:
            self._answered.popitem(last=False)
        return True

    def is_answered(self, request_id: str) -> bool:
        """Whether `request_id` was accepted."""
        return request_id in self._answered

    def superseded_by_next(self, uri: str, keep: str | None = None) -> list[str]:
        """A new request for `uri` arrived: the still-open suggestions there were rejected.

        `keep` names a suggestion still being typed through (not rejected).
        """
        pending = self._open.pop(uri, set())
        if keep is not None and keep in pending:
            pending.discard(keep)
            self._open[uri] = {keep}
        return sorted(pending)
