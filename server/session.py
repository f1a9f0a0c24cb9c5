"""The shared state of one server: options, documents, the engine host, the model worker,
stats, the acceptance log, the completer, and the hubs features plug into (document
events, code actions, the diagnostics board).

It imports no feature: features (``features/``) import it, never the reverse.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codegen.core import __version__

from .acceptance_log import AcceptanceLog
from .completion.completer import Completer
from .edits.store import EditStore
from .lsp.code_actions import CodeActionHub
from .lsp.diagnostics import DiagnosticsBoard
from .lsp.documents import DocumentStore
from .lsp.events import DocumentEvents
from .lsp.positions import UTF16
from .lsp.protocol import CodegenProtocol
from .model.host import EngineHost, FakeSettings
from .model.worker import ModelWorker
from .options import Options
from .retention import RetentionChecks
from .stats import Stats

log = logging.getLogger(__name__)


class CodegenServer(LanguageServer):
    """pygls server plus the state every feature shares."""

    protocol: CodegenProtocol

    def __init__(self, defaults: Options, fake: FakeSettings | None = None) -> None:
        super().__init__(
            "codegen-lsp",
            __version__,
            protocol_cls=CodegenProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.defaults = defaults
        self.options = defaults
        self.documents = DocumentStore()
        self.host = EngineHost(fake)
        self.worker = ModelWorker()
        self.stats = Stats()
        self.acceptance = AcceptanceLog()
        self.acceptance.options = defaults.acceptance_log
        self.completer = Completer(self)
        self.retention = RetentionChecks(self)
        self.edits = EditStore(lambda: self.position_encoding)
        self.events = DocumentEvents()
        self.actions = CodeActionHub()
        self.diagnostics = DiagnosticsBoard(self)
        self.enabled = True
        self.pending_warnings: list[str] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def position_encoding(self) -> str:
        try:
            encoding = self.workspace.position_encoding
        except RuntimeError:  # before initialize
            return UTF16
        return str(getattr(encoding, "value", encoding) or UTF16)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the event loop thread (the only one that may write to the client)."""
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(fn, *args)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(kind, f"codegen: {message}"))

    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
            self.protocol.reply_parse_error(error)
            return
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)
