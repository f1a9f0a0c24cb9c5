"""Server-initiated work-done progress for long commands, with the client's cancel button.

Used only when the client declared ``window.workDoneProgress``; otherwise every
call is a no-op, so commands read the same either way.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


class Progress:
    """Work-done progress when the client supports it; ``cancelled`` follows its cancel button."""

    def __init__(self, server: LanguageServer, token: str) -> None:
        self.server = server
        self.token = token
        window = getattr(server.client_capabilities, "window", None)
        self.enabled = bool(window and window.work_done_progress)

    async def begin(self, title: str, message: str) -> None:
        if not self.enabled:
            return
        try:
            await self.server.work_done_progress.create_async(self.token)
        except Exception:
            log.warning("the client refused a progress token; continuing without progress")
            self.enabled = False
            return
        self.server.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title=title, message=message, cancellable=True, percentage=0
            ),
        )

    @property
    def cancelled(self) -> bool:
        future = self.server.work_done_progress.tokens.get(self.token)
        return bool(future is not None and future.cancelled())

    def report(self, message: str, percentage: int) -> None:
        if self.enabled:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str) -> None:
        if self.enabled:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )
            self.server.work_done_progress.tokens.pop(self.token, None)
