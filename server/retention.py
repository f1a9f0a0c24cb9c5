"""Retention checks: how much of each accepted suggestion is still in the document.

After an accept (whole or partial) the server measures, at each of
``acceptanceLog.retainSeconds``, how much of the accepted text is still where it went in
(:mod:`.completion.retention`) and logs a ``retained`` record. A document closed or
replaced before then is measured at that moment (status ``closed`` / ``changed``), and
so is everything still pending when the server shuts down (``exited``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from lsprotocol import types

from codegen.core.usage_log import RETAINED

from .acceptance_log import AcceptanceLog
from .completion.retention import retained_match, shift_line, window
from .lsp.documents import Document, DocumentStore

log = logging.getLogger(__name__)


class RetentionServer(Protocol):
    documents: DocumentStore
    acceptance: AcceptanceLog
    loop: asyncio.AbstractEventLoop | None


@dataclass
class Watch:
    """One accepted suggestion whose retention is still to be measured."""

    row: dict[str, Any]
    accepted: str
    doc: Document
    line: int
    delays: list[float]
    handles: list[asyncio.TimerHandle] = field(default_factory=list)


class RetentionChecks:
    """Schedules and writes the ``retained`` records of one server."""

    def __init__(self, server: RetentionServer) -> None:
        self.server = server
        self.watches: dict[str, Watch] = {}

    def start(self, row: dict[str, Any], accepted: str) -> None:
        """Follow ``accepted`` (the text taken of ``row``'s suggestion) from now on."""
        server = self.server
        sid = row["id"]
        self.cancel(sid)  # a later (partial) accept replaces an earlier one
        doc = server.documents.get(str(row.get("uri", "")))
        delays = sorted(set(server.acceptance.options.retain_seconds))
        if not accepted or not delays:
            return
        if doc is None:  # accepted in a document the server does not have open
            return
        watch = Watch(dict(row), accepted, doc, int(row.get("line") or 0), delays)
        self.watches[sid] = watch
        loop = server.loop or asyncio.get_running_loop()
        for delay in delays:
            watch.handles.append(loop.call_later(delay, self._due, sid, delay))

    def cancel(self, sid: str) -> None:
        watch = self.watches.pop(sid, None)
        if watch is not None:
            for handle in watch.handles:
                handle.cancel()

    def _due(self, sid: str, delay: float) -> None:
        watch = self.watches.get(sid)
        if watch is None:
            return
        self._measure(watch, delay, "measured")
        watch.delays.remove(delay)
        if not watch.delays:
            self.watches.pop(sid, None)

    def _measure(self, watch: Watch, delay: float, status: str) -> None:
        try:
            match = retained_match(
                watch.accepted, window(watch.doc.lines, watch.line, watch.accepted)
            )
        except Exception:  # a bug here must never take an event with it
            log.exception("retention check failed")
            return
        row = dict(watch.row)
        row.update(
            event=RETAINED,
            ts=time.time(),
            after_s=delay,
            accepted_chars=len(watch.accepted),
            retained_chars=match.retained_chars,
            retained_fraction=round(match.retained_fraction, 4),
            kept=match.kept,
            status=status,
        )
        self.server.acceptance.write(row)

    def flush(self, uri: str | None, status: str) -> None:
        """Measure now every pending check (of ``uri``, or all) and forget them."""
        for sid, watch in list(self.watches.items()):
            if uri is not None and watch.row.get("uri") != uri:
                continue
            for delay in list(watch.delays):
                self._measure(watch, delay, status)
            self.cancel(sid)

    def on_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        watches = [w for w in self.watches.values() if w.row.get("uri") == uri]
        if not watches:
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start.line, change.range.end.line
                for watch in watches:
                    watch.line = shift_line(watch.line, start, end, change.text)
            else:  # the whole text replaced: where the suggestion went is lost
                self.flush(uri, "changed")
                return

    def on_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.flush(params.text_document.uri, "closed")
