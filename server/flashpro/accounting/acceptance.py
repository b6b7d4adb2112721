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

    def is_open(self, uri: str, request_id: str) -> bool:
        """Whether `request_id` was shown in `uri` and is still unanswered."""
        return request_id in self._open.get(uri, ())

    def answered(self, request_id: str) -> str | None:
        """Mark `request_id` accepted (fully or partly); the URI it was still open in, if any."""
        uri = next((uri for uri, pending in self._open.items() if request_id in pending), None)
        if uri is not None:
            self._open[uri].discard(request_id)
        self._answered[request_id] = None
        self._answered.move_to_end(request_id)
        while len(self._answered) > _MEMORY:
            self._answered.popitem(last=False)
        return uri

    def superseded_by_next(self, uri: str, keep: str | None = None) -> list[str]:
        """A new request for `uri` arrived: the still-open suggestions there were rejected.

        `keep` names a suggestion still being typed through (not rejected).
        """
        pending = self._open.pop(uri, set())
        if keep is not None and keep in pending:
            pending.discard(keep)
            self._open[uri] = {keep}
        return sorted(pending)
