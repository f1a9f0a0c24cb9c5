"""Start the real ``codegen-lsp`` process for end-to-end tests (pytest-lsp)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "codegen.server.cli"]


def capabilities(
    encodings: list[str] | None = None, progress: bool = True
) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=encodings)
        if encodings
        else None,
        window=types.WindowClientCapabilities(work_done_progress=progress),
        workspace=types.WorkspaceClientCapabilities(configuration=True),
    )


async def wait_ready(client: LanguageClient, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``codegen.status`` until the model is loaded (or failed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )
        if status["state"] in ("ready", "failed"):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"model not ready: {status}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_server(
    *args: str,
    init_options: Any = None,
    encodings: list[str] | None = None,
    ready: bool = True,
    progress: bool = True,
) -> AsyncIterator[tuple[LanguageClient, types.InitializeResult]]:
    """A started, initialized server process; shut down cleanly afterwards."""
    client = await ClientServerConfig(server_command=[*SERVER, *args]).start()
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(encodings, progress),
                initialization_options=init_options,
            )
        )
        if ready:
            await wait_ready(client)
        yield client, result
        await client.shutdown_session()
    finally:
        # After a failed assertion nobody sent exit: end the process ourselves.
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()
        await client.stop()


def open_doc(
    client: LanguageClient, uri: str, text: str, language: str = "python", version: int = 1
) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, version, text))
    )


def insert(client: LanguageClient, uri: str, version: int, line: int, char: int, text: str) -> None:
    """A ``didChange`` inserting ``text`` at (line, char), the document now at ``version``."""
    pos = types.Position(line, char)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangePartial(types.Range(pos, pos), text)],
        )
    )


async def inline(
    client: LanguageClient,
    uri: str,
    line: int,
    character: int,
    invoked: bool = True,
) -> types.InlineCompletionList | None:
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=kind),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )
