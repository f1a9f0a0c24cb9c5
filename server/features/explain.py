"""Explain and fix: quick fixes for any linter's diagnostics, and ``codegen.explainTraceback``.

- textDocument/codeAction: for each diagnostic the client passes in
  ``CodeActionContext.diagnostics`` (any source; not the server's own hints,
  which carry their fixes), the model proposes a replacement for its lines
  (:func:`~codegen.server.hints.explain.propose_fix`); the action's title is
  ``codegen: <one-line explanation>``. The model runs only when the user asks
  for actions (trigger kind Invoked, e.g. Ctrl+. or the lightbulb menu), never
  for the editor's automatic polling; answers are cached per document version.
- workspace/executeCommand ``codegen.explainTraceback`` (argument: the
  traceback text): its frames are mapped to workspace files (absolute paths
  inside a workspace folder, or paths relative to one); each gets a Hint
  diagnostic, and the innermost ones a proposed fix as a quick fix
  (:mod:`.hint_fixes`). A new traceback replaces the previous one's hints.
  The answer: ``{"ok", "exception", "frames": [{"uri", "line" (0-based),
  "function", "fix" (bool)}]}``, frames in the traceback's order (outermost first).

Edits are only ever offered; the user applies them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..hints.explain import ProposedFix, fix_title, one_line, propose_fix
from ..hints.traceback import map_frames, parse_traceback, relocate_line
from ..lsp.code_actions import is_invoked
from ..lsp.commands import command_arg
from ..lsp.diagnostics import SOURCE, TRACEBACK
from ..lsp.guard import guarded
from ..model.jobs import ready_engine, run_model_job
from ..source_text import SourceText, path_to_uri, source_of, uri_to_path
from .hint_fixes import fix_data, fix_of

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)

COMMAND = "codegen.explainTraceback"
MAX_DIAGNOSTICS_PER_REQUEST = 3
MAX_LINES = 12
MAX_FIXED_FRAMES = 2
MAX_FRAMES = 6
CACHE_SIZE = 64


class FixCache:
    """Proposed fixes by (uri, version, lines, message); None answers are kept too."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[Any, ...], ProposedFix | None] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> tuple[bool, ProposedFix | None]:
        if key in self._items:
            self._items.move_to_end(key)
            return True, self._items[key]
        return False, None

    def put(self, key: tuple[Any, ...], fix: ProposedFix | None) -> None:
        self._items[key] = fix
        while len(self._items) > CACHE_SIZE:
            self._items.popitem(last=False)


async def fix_lines(
    server: CodegenServer, source: SourceText, start: int, end: int, message: str
) -> ProposedFix | None:
    """The model's fix for ``source``'s lines ``start..end``, on the model worker."""
    engine = ready_engine(server)
    if engine is None or not server.host.may_send(source.uri):
        return None
    budget = server.options.completion.max_context_tokens
    hints = server.options.hints

    def work(token: Any) -> ProposedFix | None:
        return propose_fix(
            engine,
            source.text,
            source.language,
            start,
            end,
            message,
            token,
            budget,
            hints.z_threshold,
            hints.min_margin,
        )

    return await run_model_job(server.worker, f"fix:{source.uri}", work)


def line_span(source: SourceText, start: int, end: int) -> tuple[int, int]:
    """Whole-line ``str`` offsets of lines ``start..end``."""
    return source.offset(start, 0), source.offset(end, len(source.lines[end]))


def fix_edit(source: SourceText, fix: ProposedFix, encoding: str) -> types.TextEdit:
    lo, hi = line_span(source, fix.start_line, fix.end_line)
    return types.TextEdit(
        source.range(lo, hi, encoding), source.to_document("\n".join(fix.new_lines))
    )


def workspace_folders(server: CodegenServer) -> list[PurePath]:
    folders: list[PurePath] = []
    try:
        workspace = server.workspace
    except RuntimeError:
        return folders
    for folder in workspace.folders.values():
        path = uri_to_path(folder.uri)
        if path is not None:
            folders.append(path)
    root = workspace.root_path
    if root and PurePath(root) not in folders:
        folders.append(PurePath(root))
    return folders


def register(server: CodegenServer) -> None:
    cache = FixCache()
    traceback_uris: set[str] = set()

    async def provide(params: types.CodeActionParams) -> list[types.CodeAction]:
        if not is_invoked(params) or ready_engine(server) is None:
            return []
        uri = params.text_document.uri
        wanted = [d for d in params.context.diagnostics if fix_of(d) is None]
        if not wanted:
            return []
        source = source_of(server, uri)
        if source is None:
            return []
        encoding = server.position_encoding
        actions = []
        for diag in wanted[:MAX_DIAGNOSTICS_PER_REQUEST]:
            start = min(diag.range.start.line, len(source.lines) - 1)
            end = min(max(diag.range.end.line, start), start + MAX_LINES - 1, len(source.lines) - 1)
            if diag.range.end.character == 0 and end > start and diag.range.end.line == end:
                end -= 1  # a range ending at a line's start does not cover that line
            key = (uri, source.version, start, end, diag.message)
            found, fix = cache.get(key)
            if not found:
                fix = await fix_lines(server, source, start, end, diag.message)
                cache.put(key, fix)
            if fix is None:
                continue
            actions.append(
                types.CodeAction(
                    title=fix_title(fix),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    edit=types.WorkspaceEdit(changes={uri: [fix_edit(source, fix, encoding)]}),
                )
            )
        return actions

    server.actions.add_provider(provide)

    @server.command(COMMAND)
    @guarded(dict)
    async def explain_traceback(*args: Any) -> dict[str, Any]:
        text = command_arg(args, 0, str)
        if not text:
            return {"ok": False, "error": "give the traceback text"}
        parsed = parse_traceback(text)
        frames = map_frames(parsed, workspace_folders(server), lambda p: Path(p).is_file())
        for uri in list(traceback_uris):
            server.diagnostics.set(uri, TRACEBACK, [])
        traceback_uris.clear()
        exception = one_line(parsed.exception or "an exception", 160)
        by_uri: dict[str, list[types.Diagnostic]] = {}
        report = []
        for index, mapped in enumerate(frames[:MAX_FRAMES]):
            uri = path_to_uri(Path(mapped.path))
            source = source_of(server, uri)
            if source is None:
                continue
            line = relocate_line(source.lines, mapped.frame.line, mapped.frame.source)
            fix = None
            if index < MAX_FIXED_FRAMES:
                fix = await fix_lines(server, source, line, line, exception)
            diag = traceback_diagnostic(
                source, line, exception, mapped.innermost, fix, server.position_encoding
            )
            by_uri.setdefault(uri, []).append(diag)
            report.append(
                {
                    "uri": uri,
                    "line": line,
                    "function": mapped.frame.function,
                    "fix": fix is not None,
                }
            )
        for uri, diagnostics in by_uri.items():
            server.diagnostics.set(uri, TRACEBACK, diagnostics)
            traceback_uris.add(uri)
        # As the traceback prints them: outermost first (the editors list them innermost first).
        return {"ok": True, "exception": parsed.exception, "frames": report[::-1]}


def traceback_diagnostic(
    source: SourceText,
    line: int,
    exception: str,
    innermost: bool,
    fix: ProposedFix | None,
    encoding: str,
) -> types.Diagnostic:
    lo, hi = line_span(source, line, line)
    where = "raised here" if innermost else "on the way to it"
    message = f"{exception} ({where})"
    data = None
    if fix is not None:
        message += f" — codegen: {fix.explanation}"
        lo, hi = line_span(source, fix.start_line, fix.end_line)
        data = fix_data("\n".join(fix.new_lines), source.text[lo:hi], fix_title(fix))
    return types.Diagnostic(
        range=source.range(lo, hi, encoding),
        message=message,
        severity=types.DiagnosticSeverity.Hint,
        source=SOURCE,
        code="traceback",
        data=data,
    )
