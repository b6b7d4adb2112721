"""Long-running work seen from the editor: `$/progress` with a cancel button, and showing a file.

`Progress` creates a server-initiated work-done progress when the client supports it; its
cancel button cancels the task given to `begin`. `show_document` opens a file flashpro wrote
(a design, a review) with `window/showDocument`, or says where it is when the client cannot.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from lsprotocol import types

from flashpro.lsp.server import FlashproLanguageServer

__all__ = ["Progress", "show_document"]

logger = logging.getLogger(__name__)


async def show_document(ls: FlashproLanguageServer, uri: str, message: str) -> None:
    """Open `uri` in the editor (`window/showDocument`), else say `message`."""
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        try:
            await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
            return
        except Exception as exc:  # noqa: BLE001 - showing is a courtesy; the file is written
            logger.warning("window/showDocument failed: %s", exc)
    ls.show_message("info", message)


class Progress:
    """`$/progress` for one action, when the client supports server-initiated progress."""

    def __init__(self, ls: FlashproLanguageServer, title: str) -> None:
        self._ls = ls
        self._title = title
        self.token: str | None = None

    async def begin(self, task: asyncio.Future[Any]) -> None:
        window = self._ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return
        token = f"flashpro-{uuid.uuid4().hex}"
        try:
            await self._ls.work_done_progress.create_async(token)
        except Exception as exc:  # noqa: BLE001 - no progress UI is not a failure
            logger.info("progress not created: %s", exc)
            return
        self.token = token
        self._ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self._title, cancellable=True, message="waiting for the model"),
        )
        future = self._ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)

    def report(self, tokens: int) -> None:
        """Report the tokens streamed so far."""
        self.say(f"{tokens} tokens")

    def say(self, message: str) -> None:
        """Report a line of progress."""
        if self.token is not None:
            self._ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self.token is not None:
            self._ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self._ls.work_done_progress.tokens.pop(self.token, None)
            self.token = None
