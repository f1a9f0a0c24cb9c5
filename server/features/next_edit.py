"""textDocument/copilotInlineEdit: next-edit suggestions, in Copilot's language-server shape.

Request params ``{textDocument: {uri, version}, position}``; result ``{edits: [{range,
text, textDocument: {uri, version}, command}]}`` (nearest edit after the cursor first).
A stale version gets ``{edits: []}``; a newer request for the same document supersedes
an older one, and ``$/cancelRequest`` stops the model. ``textDocument/didShowInlineEdit``
``{item}`` logs a shown event; the edit's command ``codegen.acceptInlineEdit [id]``
logs an accept, ``codegen.rejectInlineEdit [id]`` a dismissal. Advertised in
``initialize`` as ``capabilities.experimental.codegen.nextEdit``.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from codegen.core.edit_prediction import get_edit_format
from codegen.core.usage_log import ACCEPTED, REJECTED, SHOWN

from ..edits.next_edit import (
    ACCEPT_COMMAND,
    METHOD,
    REJECT_COMMAND,
    SHOWN_METHOD,
    build_context,
    group_by_line,
    nearest_first,
    position_of,
    predict,
)
from ..edits.store import path_of
from ..lsp.commands import command_arg
from ..lsp.events import CHANGE, CLOSE, OPEN
from ..lsp.guard import guarded
from ..model.jobs import run_model_job
from .acceptance import id_of

if TYPE_CHECKING:
    from ..session import CodegenServer


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def empty() -> dict[str, Any]:
    return {"edits": []}


def register(server: CodegenServer) -> None:
    store = server.edits
    server.events.subscribe(OPEN, store.on_open)
    server.events.subscribe(CHANGE, store.on_change)
    server.events.subscribe(CLOSE, store.on_close)

    @server.feature(METHOD)
    @guarded(empty)
    async def inline_edit(params: Any) -> dict[str, Any]:
        start = time.perf_counter()
        uri = _get(params, "textDocument", "uri")
        version = _get(params, "textDocument", "version")
        line = _get(params, "position", "line")
        character = _get(params, "position", "character")
        if not isinstance(uri, str) or not isinstance(line, int) or not isinstance(character, int):
            return empty()
        opts = server.options.next_edit
        doc = server.documents.get(uri)
        history = store.get(uri)
        engine = server.host.engine
        if (
            not opts.enabled
            or doc is None
            or history is None
            or engine is None
            or not server.host.ready
            or not server.enabled
            or not server.host.may_send(uri)
        ):
            return empty()
        if isinstance(version, int) and version != doc.version:
            server.stats.count("nes.stale")
            return empty()
        line, col = doc.clamp(line, character, server.position_encoding)
        store.visited(uri, line)
        name = "codegen" if opts.format == "auto" else opts.format
        fmt = get_edit_format(name, engine.fim)
        ctx = build_context(
            history,
            path_of(uri),
            line,
            col,
            history.events(path_of(uri), opts.max_events),
            opts.lines_before,
            opts.lines_after,
            opts.context_lines,
        )
        asked = doc.version

        def run(token: Any) -> Any:
            server.stats.count("nes.generations")
            return predict(engine, fmt, ctx, opts.max_new_tokens, token, engine.count_tokens)

        prediction = await run_model_job(server.worker, f"nes:{uri}", run)
        if prediction is None or prediction.reason == "cancelled":
            server.stats.count("nes.superseded")
            return empty()
        server.stats.count(f"nes.{prediction.reason}")
        if doc.version != asked or server.documents.get(uri) is not doc:
            server.stats.count("nes.stale")
            return empty()
        edits = nearest_first(group_by_line(prediction.edits, prediction.text), ctx.cursor)
        encoding = server.position_encoding
        out = []
        for edit in edits:
            sl, sc = position_of(prediction.text, edit.start)
            el, ec = position_of(prediction.text, edit.end)
            sid = uuid.uuid4().hex[:12]
            item = {
                "range": {
                    "start": {"line": sl, "character": doc.to_client_column(sl, sc, encoding)},
                    "end": {"line": el, "character": doc.to_client_column(el, ec, encoding)},
                },
                "text": edit.text,
                "textDocument": {"uri": uri, "version": doc.version},
                "command": {
                    "title": "codegen: next edit accepted",
                    "command": ACCEPT_COMMAND,
                    "arguments": [sid],
                },
            }
            out.append(item)
            server.acceptance.offered(
                sid,
                {
                    "kind": "next_edit",
                    "uri": uri,
                    "path": path_of(uri),
                    "language": doc.language_id,
                    "model": server.host.model_id(),
                    "adapter": server.host.info().get("adapter"),
                    "source": "model",
                    "latency_ms": round((time.perf_counter() - start) * 1000, 2),
                    "text": edit.text,
                    "line": sl,
                    "col": sc,
                    "replaced": prediction.text[edit.start : edit.end],
                    # What a next-edit training example needs (codegen-train data): the
                    # recent edits, the region, and where in it this edit goes.
                    "events": [
                        {"path": e.path, "old": e.old, "new": e.new, "line": e.line}
                        for e in ctx.events
                    ],
                    "region": ctx.region,
                    "region_line": position_of(prediction.text, ctx.region_start)[0],
                    "edit_start": edit.start - ctx.region_start,
                    "edit_end": edit.end - ctx.region_start,
                    "prefix": prediction.text[max(0, edit.start - 1000) : edit.start],
                    "suffix": prediction.text[edit.end : edit.end + 1000],
                },
            )
        return {"edits": out}

    @server.feature(SHOWN_METHOD)
    @guarded()
    def did_show(params: Any) -> None:
        sid = id_of(params)
        if sid is not None:
            server.acceptance.record(SHOWN, sid)

    @server.command(ACCEPT_COMMAND)
    @guarded(lambda: False)
    def accept(*args: Any) -> bool:
        sid = command_arg(args, 0, str)
        return sid is not None and server.acceptance.record(ACCEPTED, sid) is not None

    @server.command(REJECT_COMMAND)
    @guarded(lambda: False)
    def reject(*args: Any) -> bool:
        sid = command_arg(args, 0, str)
        return sid is not None and server.acceptance.record(REJECTED, sid) is not None
