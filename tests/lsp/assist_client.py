"""Helpers for the docstring and hint tests: a real server with a tiny real model.

The model is a random tiny Llama (``make_random_model``) trained for a few
seconds until it has memorised ``LOOP_PY``: it then finds a bug injected into
that file the way a real model finds an unlikely token, and elsewhere (FIM
prompts, other files) it writes garbage, which the server must turn into
well-formed edits anyway. The client declares what VS Code and
Neovim declare for these features (codeAction/resolve of ``edit``,
``workspace/applyEdit``, document changes, work-done progress) and records
every ``workspace/applyEdit`` it is sent, answering it without applying anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from codegen.server.lsp.positions import column_to_index, line_content, split_lines

SERVER = [sys.executable, "-m", "codegen.server.cli"]

LOOP_PY = """def count_up(limit):
    total = 0
    for i in range(limit):
        if i <= limit:
            total = total + i
    return total


def scale(values, factor):
    out = []
    for v in values:
        out.append(v * factor)
    return out
"""

ACCOUNT_PY = '''import os


class Account:
    def __init__(self, owner: str, balance: float = 0.0) -> None:
        self.owner = owner
        self.balance = balance

    def withdraw(self, amount):
        """Take money out."""
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount
        return self.balance


def total(accounts: list[Account], *, floor=0) -> float:
    return max(floor, sum(a.balance for a in accounts))

def one(x): return x + 1
'''

_BUILT: dict[str, Path] = {}


def memorizing_model(root: Path, steps: int = 80) -> Path:
    """A random tiny model trained until it has memorised ``LOOP_PY`` (built once per test
    process, ~8 s on two cores)."""
    if "model" in _BUILT:
        return _BUILT["model"]
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codegen.core.builtin.tiny import make_random_model

    base = make_random_model(root / "random", seed=0)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    ids = torch.tensor([tokenizer.encode(LOOP_PY)])
    model.train()
    for _ in range(steps):
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    out = root / "memorizing"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.copy(base / "codegen.json", out / "codegen.json")
    _BUILT["model"] = out
    return out


def capabilities(resolve: bool = True) -> types.ClientCapabilities:
    resolve_support = types.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            configuration=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            workspace_folders=True,
        ),
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=["quickfix", "refactor.rewrite"]
                    )
                ),
                data_support=True,
                resolve_support=resolve_support,
            ),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(data_support=True),
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        ),
    )


@contextlib.asynccontextmanager
async def assist_server(
    model: Path,
    init_options: Any = None,
    resolve: bool = True,
    workspace: Path | None = None,
    args: tuple[str, ...] = (),
) -> AsyncIterator[LanguageClient]:
    """A started server on ``model`` whose model is loaded; the client records applyEdit."""
    command = [*SERVER, "--model", str(model), *args]
    client = await ClientServerConfig(server_command=command).start()
    client.applied_edits = []  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    folders = (
        [types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")]
        if workspace is not None
        else None
    )
    try:
        client.init_result = await client.initialize_session(  # type: ignore[attr-defined]
            types.InitializeParams(
                capabilities=capabilities(resolve),
                initialization_options=init_options,
                workspace_folders=folders,
                root_uri=workspace.as_uri() if workspace is not None else None,
            )
        )
        await wait_ready(client)
        yield client
    finally:
        # Also after a failed assertion: a server never told to exit keeps stop() waiting.
        try:
            await asyncio.wait_for(client.shutdown_session(), 20)
        finally:
            await client.stop()


async def wait_ready(client: LanguageClient, timeout: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )
        if status["state"] == "ready":
            return
        if status["state"] == "failed" or asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"model not ready: {status}")
        await asyncio.sleep(0.05)


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
    )


async def execute(client: LanguageClient, command: str, *args: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(args))
    )


async def code_actions(
    client: LanguageClient,
    uri: str,
    line: int,
    character: int = 0,
    diagnostics: list[types.Diagnostic] | None = None,
    invoked: bool = True,
    end: tuple[int, int] | None = None,
) -> list[types.CodeAction]:
    kind = types.CodeActionTriggerKind.Invoked if invoked else types.CodeActionTriggerKind.Automatic
    position = types.Position(line, character)
    stop = types.Position(*end) if end else position
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(position, stop),
            context=types.CodeActionContext(diagnostics=diagnostics or [], trigger_kind=kind),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def quick_fixes(actions: list[types.CodeAction]) -> list[types.CodeAction]:
    return [a for a in actions if a.kind == types.CodeActionKind.QuickFix]


async def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """``text`` with LSP edits (UTF-16 positions, all relative to ``text``) applied."""
    lines = split_lines(text)

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        head = sum(len(line) for line in lines[: pos.line])
        return head + column_to_index(line_content(lines[pos.line]), pos.character)

    out = text
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        out = out[: offset(edit.range.start)] + edit.new_text + out[offset(edit.range.end) :]
    return out


def edits_for(edit: types.WorkspaceEdit | None, uri: str) -> list[types.TextEdit]:
    """The text edits of ``uri`` in a workspace edit (``changes`` or ``documentChanges``)."""
    if edit is None:
        return []
    found: list[types.TextEdit] = list((edit.changes or {}).get(uri, []))
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri:
            found.extend(e for e in change.edits if isinstance(e, types.TextEdit))
    return found


def python_parses(text: str) -> bool:
    import ast

    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def tree_sitter_clean(text: str, language: str) -> bool:
    from codegen.core.syntax import syntax_errors

    return not syntax_errors(text, language)
