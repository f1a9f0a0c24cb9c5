"""The JSON-RPC layer: pygls' protocol with the gaps that matter here closed.

- A request whose params do not deserialize gets an ``InvalidParams`` error
  (pygls logs and drops it, leaving the client waiting forever).
- A body that is not JSON gets a ``ParseError`` reply with id null, and one
  that is not a JSON-RPC message an ``InvalidRequest`` reply.
- Document sync goes to the server's own exact document store.
- ``workspace/executeCommand`` runs the command in the request's own task, so
  ``$/cancelRequest`` cancels the command (pygls runs it in a second task that
  a cancel never reaches).
- The initialize result is checked to advertise every capability served.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Generator
from typing import Any, Protocol, cast

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from ..edits.next_edit import CAPABILITY as NEXT_EDIT_CAPABILITY
from . import text_sync
from .documents import DocumentStore

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


@attrs.define
class RejectedMessage:
    """A message that could not be structured; answered with ``error`` if it had an id."""

    id: Any
    code: int
    message: str


def error_reply(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class SyncedServer(Protocol):
    """What document sync needs from the server: its store and the negotiated encoding."""

    @property
    def documents(self) -> DocumentStore: ...

    @property
    def position_encoding(self) -> str: ...


class CodegenProtocol(LanguageServerProtocol):
    @property
    def synced(self) -> SyncedServer:
        """The server, as document sync sees it (its class satisfies :class:`SyncedServer`)."""
        return cast(SyncedServer, self._server)

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as err:
            if "id" in data and "method" in data:
                method = data.get("method")
                cause = err.__cause__ or err
                text = f"invalid params for {method}: {cause}".splitlines()[0]
                return RejectedMessage(data["id"], INVALID_PARAMS, text)
            log.warning("dropping a message that does not deserialize: %s", err)
            return RejectedMessage(None, INVALID_PARAMS, "")

    def handle_message(self, message: Any) -> None:
        if isinstance(message, RejectedMessage):
            if message.message:
                self._send_data(error_reply(message.id, message.code, message.message))
            return
        if not hasattr(message, "jsonrpc"):
            msg_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(message, dict) and "method" in message and "id" not in message:
                log.warning("ignoring a notification without jsonrpc: %r", message)
                return
            self._send_data(error_reply(msg_id, INVALID_REQUEST, "not a JSON-RPC 2.0 message"))
            return
        if message.jsonrpc != self.VERSION and hasattr(message, "id"):
            self._send_data(error_reply(message.id, INVALID_REQUEST, "jsonrpc must be '2.0'"))
            return
        if self._shutdown and hasattr(message, "id") and getattr(message, "method", None):
            if message.method != types.EXIT:
                self._send_data(error_reply(message.id, INVALID_REQUEST, "server is shut down"))
                return
        super().handle_message(message)

    def reply_parse_error(self, err: Exception) -> None:
        self._send_data(error_reply(None, PARSE_ERROR, f"parse error: {err}"))

    # -- document sync: into the server's own store -----------------------
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        text_sync.did_open(self.synced.documents, params)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        server = self.synced
        text_sync.did_change(server.documents, params, server.position_encoding)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        text_sync.did_close(self.synced.documents, params)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    # -- commands: cancellable ----------------------------------------------
    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]
        self, params: types.ExecuteCommandParams
    ) -> Any:
        """Run the command here, in the request's task, with its arguments positionally."""
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams.of(
                ValueError(f"Command name {params.command!r} is not defined")
            )
        result = handler(*(params.arguments or []))
        return await result if inspect.isawaitable(result) else result

    # -- capabilities -----------------------------------------------------
    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result = yield from super().lsp_initialize(params)
        advertise_capabilities(result.capabilities, self.fm.commands.keys())
        return result


def advertise_capabilities(caps: types.ServerCapabilities, commands: Any) -> None:
    """Make sure the initialize result names everything this server serves."""
    if caps.inline_completion_provider is None:
        caps.inline_completion_provider = types.InlineCompletionOptions()
    caps.execute_command_provider = types.ExecuteCommandOptions(commands=sorted(commands))
    sync = caps.text_document_sync
    save = sync.save if isinstance(sync, types.TextDocumentSyncOptions) else None
    caps.text_document_sync = types.TextDocumentSyncOptions(
        open_close=True, change=types.TextDocumentSyncKind.Incremental, save=save
    )
    if caps.position_encoding is None:
        caps.position_encoding = types.PositionEncodingKind.Utf16
    experimental = caps.experimental if isinstance(caps.experimental, dict) else {}
    caps.experimental = {**experimental, "codegen": NEXT_EDIT_CAPABILITY}
