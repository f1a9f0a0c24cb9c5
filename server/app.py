"""The server factory: one state object, features registered from a list.

To add a feature, write a module with ``register(server)`` and append it to
:data:`FEATURES`; handlers stay thin and call pure functions.
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

from . import (
    acceptance_log,
    code_actions,
    commands,
    completion_fallback,
    configuration,
    docstrings,
    document_events,
    explain_feature,
    hint_fixes,
    hints_feature,
    inline_completion,
    lifecycle,
    syntax_diagnostics,
)
from .acceptance_log import AcceptanceLog
from .completer import Completer
from .documents import DocumentStore
from .engine_host import EngineHost, FakeSettings
from .model_worker import ModelWorker
from .options import Options
from .positions import UTF16
from .protocol import CodegenProtocol
from .stats import Stats

log = logging.getLogger(__name__)

Feature = Callable[["CodegenServer"], None]

FEATURES: list[Feature] = [
    lifecycle.register,
    configuration.register,
    inline_completion.register,
    completion_fallback.register,
    commands.register,
    acceptance_log.register,
    document_events.register,
    code_actions.register,
    syntax_diagnostics.register,
    hints_feature.register,
    hint_fixes.register,
    explain_feature.register,
    docstrings.register,
]


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


def create_server(
    defaults: Options | None = None, fake: FakeSettings | None = None
) -> CodegenServer:
    """A ready-to-start server with every feature in :data:`FEATURES` registered."""
    server = CodegenServer(defaults or Options(), fake)
    for register in FEATURES:
        register(server)
    return server
