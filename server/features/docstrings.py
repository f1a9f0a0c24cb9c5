"""Docstrings: the "Generate docstring" code action and ``codegen.generateDocstrings``.

- textDocument/codeAction (kind ``refactor.rewrite``): on a function, method or
  class without a docstring at the cursor (Python; JSDoc for JavaScript and
  TypeScript). Listing it costs a tree-sitter query; the model runs only in
  codeAction/resolve, when the user picks it (clients without resolve support
  get the edit computed on an explicit, invoked request).
- workspace/executeCommand ``codegen.generateDocstrings`` (argument: the
  document URI): every definition of the file without one, with work-done
  progress, cancellable (``$/cancelRequest`` or the progress's cancel button).
  Because the user ran the command, its edit is sent with
  ``workspace/applyEdit`` (one undo step in the editor); the command's answer
  says how many docstrings it wrote. Nothing else in this module edits a file.

The writing itself is :mod:`codegen.server.docstrings.writer`.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from ..docstrings.writer import (
    DOC_LANGUAGES,
    DocstringEdit,
    apply_edits,
    needs_docstring,
    plan_docstring,
    write_docstring,
)
from ..lsp.code_actions import DATA_KEY, client_resolves_edits, is_invoked
from ..lsp.commands import command_arg
from ..lsp.guard import guarded
from ..lsp.progress import Progress
from ..model.jobs import ready_engine, run_model_job
from ..parse_check import keeps_parsing
from ..source_text import SourceText

if TYPE_CHECKING:
    from codegen.core.syntax import Definition

    from ..session import CodegenServer

log = logging.getLogger(__name__)

TITLE = "Generate docstring"
COMMAND = "codegen.generateDocstrings"
RESOLVER = "docstring"


def _source(server: CodegenServer, uri: str) -> SourceText | None:
    doc = server.documents.get(uri)
    if doc is None:
        return None
    source = SourceText.from_text(uri, doc.text, doc.language_id, doc.version)
    return source if source.language in DOC_LANGUAGES else None


def definition_needing_docstring(source: SourceText, line: int, col: int) -> Definition | None:
    """The innermost definition around (line, col) if it has no docstring."""
    from codegen.core.syntax import definition_at, find_definitions

    assert source.language is not None
    defn = definition_at(source.text, source.language, line, col)
    if defn is None:
        return None
    return defn if needs_docstring(find_definitions(source.text, source.language), defn) else None


def to_text_edit(source: SourceText, edit: DocstringEdit, encoding: str) -> types.TextEdit:
    return types.TextEdit(
        range=source.range(edit.start, edit.end, encoding),
        new_text=source.to_document(edit.new_text),
    )


async def generate_one(
    server: CodegenServer, source: SourceText, defn: Definition
) -> DocstringEdit | None:
    """The docstring edit for ``defn``, written on the model worker."""
    plan = plan_docstring(source, defn, server.options.docstrings.style)
    if plan is None:
        return None
    engine = ready_engine(server)
    if engine is None or not server.host.may_send(source.uri):
        return None
    opts = server.options

    def work(token: Any) -> DocstringEdit | None:
        return write_docstring(
            engine,
            source,
            plan,
            opts.docstrings.max_new_tokens,
            token,
            opts.completion.max_context_tokens,
        )

    return await run_model_job(server.worker, f"docstring:{source.uri}", work)


def register(server: CodegenServer) -> None:
    async def provide(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        source = _source(server, uri)
        if source is None:
            return []
        doc = server.documents.get(uri)
        assert doc is not None
        line, col = doc.clamp(
            params.range.start.line, params.range.start.character, server.position_encoding
        )
        defn = definition_needing_docstring(source, line, col)
        if defn is None:
            return []
        action = types.CodeAction(
            title=TITLE,
            kind=types.CodeActionKind.RefactorRewrite,
            data={DATA_KEY: RESOLVER, "uri": uri, "line": line, "col": col, "name": defn.name},
        )
        if client_resolves_edits(server):
            return [action]
        if not is_invoked(params):
            return []
        return [await resolve(action)]

    async def resolve(action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = str(data.get("uri", ""))
        source = _source(server, uri)
        if source is None:
            return action
        defn = definition_needing_docstring(
            source, int(data.get("line", 0)), int(data.get("col", 0))
        )
        if defn is None:
            return action
        edit = await generate_one(server, source, defn)
        if edit is None:
            return action
        text_edit = to_text_edit(source, edit, server.position_encoding)
        action.edit = types.WorkspaceEdit(changes={uri: [text_edit]})
        return action

    server.actions.add_provider(provide)
    server.actions.add_resolver(RESOLVER, resolve)

    @server.command(COMMAND)
    @guarded(dict)
    async def generate_docstrings(*args: Any) -> dict[str, Any]:
        uri = command_arg(args, 0, str)
        if uri is None:
            return {"ok": False, "error": "give the document URI"}
        return await generate_file(server, uri)


async def generate_file(server: CodegenServer, uri: str) -> dict[str, Any]:
    """Docstrings for every definition of ``uri`` that lacks one, applied with applyEdit."""
    from codegen.core.syntax import find_definitions

    source = _source(server, uri)
    if source is None:
        return {"ok": False, "error": "not an open Python, JavaScript or TypeScript document"}
    assert source.language is not None
    definitions = find_definitions(source.text, source.language)
    todo = [d for d in definitions if needs_docstring(definitions, d)]
    progress = Progress(server, f"codegen-docstrings-{uuid.uuid4().hex[:8]}")
    await progress.begin("codegen: docstrings", f"{len(todo)} definitions")
    edits: list[DocstringEdit] = []
    cancelled = False
    try:
        for index, defn in enumerate(todo):
            if progress.cancelled:
                cancelled = True
                break
            progress.report(
                f"{defn.name} ({index + 1}/{len(todo)})", index * 100 // max(len(todo), 1)
            )
            edit = await generate_one(server, source, defn)
            if edit is not None:
                edits.append(edit)
    finally:
        progress.end("cancelled" if cancelled else f"{len(edits)} docstrings")
    if cancelled or not edits:
        return {"ok": True, "applied": False, "docstrings": 0, "cancelled": cancelled}
    if not keeps_parsing(source.text, apply_edits(source.text, edits), source.language):
        log.warning("combined docstring edits break %s; not applying them", uri)
        return {"ok": False, "error": "the docstrings would break the file"}
    doc = server.documents.get(uri)
    if doc is None or doc.version != source.version:
        return {"ok": False, "error": "the document changed while docstrings were written"}
    encoding = server.position_encoding
    text_edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        to_text_edit(source, edit, encoding) for edit in edits
    ]
    workspace_edit = types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=source.version
                ),
                edits=text_edits,
            )
        ]
    )
    summary: dict[str, Any] = {"ok": True, "docstrings": len(edits), "cancelled": False}
    if not _client_applies_edits(server):
        # The client cannot be asked to edit: hand the edit back for it to apply.
        return {**summary, "applied": False, "edit": get_converter().unstructure(workspace_edit)}
    result = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=workspace_edit, label="codegen: generate docstrings")
    )
    return {**summary, "applied": bool(result.applied)}


def _client_applies_edits(server: CodegenServer) -> bool:
    workspace = getattr(server.client_capabilities, "workspace", None)
    return bool(workspace and workspace.apply_edit)
