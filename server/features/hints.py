"""Surprise hints on save and on ``codegen.checkFile`` (argument: the document URI).

The whole file is scored in one forward pass on the model worker
(``Engine.score``), :func:`~codegen.server.hints.surprise.find_surprise_hints`
picks the lines, and they are published as Hint diagnostics (source
``codegen``) whose quick fix (:mod:`.hint_fixes`) applies the model's
replacement. Options: ``hints.enabled``, ``hints.zThreshold``,
``hints.minMargin``, ``hints.maxPerFile``. A result for a version of the
document that has since changed is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codegen.core.engine import CancelToken, TokenScore

from ..hints.prose import prose_ranges
from ..hints.surprise import SurpriseHint, find_surprise_hints
from ..lsp.commands import command_arg
from ..lsp.diagnostics import HINTS, SOURCE
from ..lsp.events import SAVE
from ..lsp.guard import guarded
from ..model.jobs import ready_engine, run_model_job
from ..options import HintOptions
from ..parse_check import keeps_parsing
from ..source_text import SourceText, source_of
from .hint_fixes import fix_data

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)

COMMAND = "codegen.checkFile"


def analyze(
    source: SourceText, scores: list[TokenScore], options: HintOptions
) -> list[SurpriseHint]:
    """The hints for scored text (pure; tree-sitter decides prose and validity)."""
    return find_surprise_hints(
        source.text,
        scores,
        z_threshold=options.z_threshold,
        min_margin=options.min_margin,
        max_hints=options.max_per_file,
        skip=prose_ranges(source.text, source.language),
        accept=lambda new_text, line: keeps_parsing(
            source.text, new_text, source.language, (line, line)
        ),
    )


def hint_diagnostic(source: SourceText, hint: SurpriseHint, encoding: str) -> types.Diagnostic:
    title = f"codegen: replace `{hint.original}` with `{hint.replacement}`"
    return types.Diagnostic(
        range=source.range(hint.start, hint.end, encoding),
        message=hint.message,
        severity=types.DiagnosticSeverity.Hint,
        source=SOURCE,
        code="surprise",
        data=fix_data(hint.replacement, hint.original, title),
    )


async def check_file(server: CodegenServer, uri: str) -> dict[str, Any]:
    """Score ``uri`` and publish its surprise hints; a summary for the command's answer."""
    engine = ready_engine(server)
    if engine is None:
        return {"ok": False, "error": f"the model is not ready ({server.host.state})"}
    source = source_of(server, uri)
    if source is None:
        return {"ok": False, "error": f"cannot read {uri}"}
    if not server.host.may_send(uri):
        return {"ok": False, "error": "not sent to the model server: a .env or git-ignored file"}

    def score(token: CancelToken) -> list[TokenScore] | None:
        return None if token.cancelled else engine.score(source.text)

    scores = await run_model_job(server.worker, f"hints:{uri}", score)
    if scores is None:
        return {"ok": False, "error": "superseded by a newer check"}
    options = server.options.hints
    hints = await asyncio.to_thread(analyze, source, scores, options)
    doc = server.documents.get(uri)
    if doc is not None and doc.version != source.version:
        return {"ok": False, "error": "the document changed while it was checked"}
    encoding = server.position_encoding
    server.diagnostics.set(uri, HINTS, [hint_diagnostic(source, h, encoding) for h in hints])
    return {"ok": True, "uri": uri, "tokens": len(scores), "hints": len(hints)}


def register(server: CodegenServer) -> None:
    running: set[asyncio.Task[None]] = set()  # strong references until they finish

    async def on_save(params: types.DidSaveTextDocumentParams) -> None:
        if not server.options.hints.enabled or ready_engine(server) is None:
            return
        uri = params.text_document.uri

        async def run() -> None:
            try:
                await check_file(server, uri)
            except Exception:
                log.exception("surprise hints for %s failed", uri)

        task = asyncio.ensure_future(run())
        running.add(task)
        task.add_done_callback(running.discard)

    server.events.subscribe(SAVE, on_save)

    @server.command(COMMAND)
    @guarded(dict)
    async def check_file_command(*args: Any) -> dict[str, Any]:
        uri = command_arg(args, 0, str)
        if uri is None:
            return {"ok": False, "error": "give the document URI"}
        return await check_file(server, uri)
