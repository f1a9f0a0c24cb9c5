"""didOpen / didChange / didSave / didClose, fanned out to every feature that listens.

pygls allows one handler per LSP method, and several features care about
document events (syntax diagnostics, hints, ...). The server's one
:class:`DocumentEvents` (``server.events``) holds the listeners; features
subscribe with :meth:`DocumentEvents.subscribe`, and
:mod:`codegen.server.features.document_events` registers each method's
:meth:`DocumentEvents.handler` once. The document store itself is updated
before any listener runs (by :mod:`codegen.server.lsp.protocol`). A failing
listener is logged and the others still run.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

OPEN = types.TEXT_DOCUMENT_DID_OPEN
CHANGE = types.TEXT_DOCUMENT_DID_CHANGE
SAVE = types.TEXT_DOCUMENT_DID_SAVE
CLOSE = types.TEXT_DOCUMENT_DID_CLOSE
METHODS = (OPEN, CHANGE, SAVE, CLOSE)

Listener = Callable[[Any], Any]


class DocumentEvents:
    """The listeners of each document notification, called in subscription order."""

    def __init__(self) -> None:
        self.listeners: dict[str, list[Listener]] = {method: [] for method in METHODS}

    def subscribe(self, method: str, listener: Listener) -> None:
        """Call ``listener(params)`` (sync or async) on every ``method`` notification."""
        if method not in METHODS:
            raise ValueError(f"not a document event: {method}")
        self.listeners[method].append(listener)

    def handler(self, method: str) -> Callable[[Any], Awaitable[None]]:
        """The pygls notification handler that fans ``method`` out to its listeners."""

        async def handle(params: Any) -> None:
            for listener in list(self.listeners[method]):
                try:
                    result = listener(params)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception(
                        "%s listener %s failed", method, getattr(listener, "__name__", "")
                    )

        handle.__name__ = f"on_{method.replace('/', '_')}"
        return handle
