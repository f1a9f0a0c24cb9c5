"""Debugging hints end to end: syntax diagnostics, surprise hints, explain-and-fix, tracebacks.

A real server process with a tiny real model that has memorised ``LOOP_PY``
(see :mod:`.assist_client`): a bug injected into that file is what the model
finds unlikely. What is checked is what a user would notice: the right
diagnostics appear and stay merged, every offered edit keeps the file
parsing, and nothing is applied by the server.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .assist_client import (
    LOOP_PY,
    apply_text_edits,
    assist_server,
    code_actions,
    edits_for,
    execute,
    memorizing_model,
    open_doc,
    python_parses,
    quick_fixes,
    wait_for,
)

URI = "file:///work/loop.py"
BUGGY = LOOP_PY.replace("total = total + i", "total = total - i")
BUG_LINE = BUGGY.split("\n").index("            total = total - i")
BROKEN = BUGGY + "\ndef oops(:\n    pass\n"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return memorizing_model(tmp_path_factory.mktemp("memorizing"))


def by_code(client, uri: str, code: str) -> list[types.Diagnostic]:
    return [d for d in client.diagnostics.get(uri, []) if d.code == code]


def cleared(client, uri: str) -> bool:
    """Diagnostics were published for ``uri`` and the latest set is empty."""
    return uri in client.diagnostics and len(client.diagnostics[uri]) == 0


def insert(client, uri: str, version: int, line: int, col: int, text: str) -> None:
    pos = types.Position(line, col)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangePartial(types.Range(pos, pos), text)],
        )
    )


async def test_syntax_errors_and_surprise_hints_are_published_together(model):
    async with assist_server(model) as client:
        caps = client.init_result.capabilities
        assert caps.code_action_provider.resolve_provider is True
        assert set(caps.code_action_provider.code_action_kinds) == {"quickfix", "refactor.rewrite"}
        assert caps.text_document_sync.save is not None  # didSave runs the surprise hints
        assert {
            "codegen.checkFile",
            "codegen.explainTraceback",
            "codegen.generateDocstrings",
        } <= set(caps.execute_command_provider.commands)
        published: list[tuple[str, int | None]] = []
        original = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def record(params: types.PublishDiagnosticsParams) -> None:
            published.append((params.uri, params.version))
            original(params)

        client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

        open_doc(client, URI, BROKEN)
        (syntax,) = await wait_for(lambda: by_code(client, URI, "syntax"))
        assert syntax.severity == types.DiagnosticSeverity.Error and syntax.source == "codegen"
        assert syntax.range.start.line == BROKEN.split("\n").index("def oops(:")

        # didSave scores the file: the injected bug gets a Hint next to the syntax error
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(URI))
        )
        hints = await wait_for(lambda: by_code(client, URI, "surprise"))
        assert len(hints) <= 5 and len({h.range.start.line for h in hints}) == len(hints)
        (hint,) = [h for h in hints if h.range.start.line == BUG_LINE]
        assert hint.severity == types.DiagnosticSeverity.Hint and hint.source == "codegen"
        assert hint.message == "did you mean `+` instead of `-`?"
        assert hint.range.start == types.Position(BUG_LINE, 26)
        assert by_code(client, URI, "syntax")  # merged, not replaced

        for other in hints:  # every hint's fix keeps the (already broken) file as it was elsewhere
            actions = await code_actions(
                client, URI, other.range.start.line, other.range.start.character, [other]
            )
            (action,) = quick_fixes(actions)
            changed = apply_text_edits(BROKEN, edits_for(action.edit, URI))
            assert python_parses(changed.replace("def oops(:", "def oops():"))
        (fix,) = quick_fixes(await code_actions(client, URI, BUG_LINE, 26, [hint]))
        assert fix.title == "codegen: replace `-` with `+`" and list(fix.diagnostics) == [hint]
        after = apply_text_edits(BROKEN, edits_for(fix.edit, URI))
        assert after == LOOP_PY + "\ndef oops(:\n    pass\n"
        assert client.applied_edits == []  # offered, never applied

        # a burst of typing above the hint: one parse after the pause, the hint moves along
        count = len(published)
        for version in range(2, 8):
            insert(client, URI, version, 0, 0, "\n")
            await asyncio.sleep(0.02)
        await wait_for(
            lambda: BUG_LINE + 6 in {h.range.start.line for h in by_code(client, URI, "surprise")}
        )
        await asyncio.sleep(0.4)
        assert published[count:] == [(URI, 7)]

        # fixing the syntax error clears it after the debounce; the hint stays
        line = BROKEN.split("\n").index("def oops(:") + 6
        insert(client, URI, 8, line, 9, ")")
        await wait_for(lambda: not by_code(client, URI, "syntax"))
        assert by_code(client, URI, "surprise")

        # the command does the same on demand and reports what it did
        reply = await execute(client, "codegen.checkFile", URI)
        assert reply["ok"] and reply["tokens"] > 50
        assert reply["hints"] == len(by_code(client, URI, "surprise")) >= 1
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(URI))
        )
        await wait_for(lambda: cleared(client, URI))


async def test_explain_and_fix_and_tracebacks(model, tmp_path):
    (tmp_path / "pkg").mkdir()
    loop = tmp_path / "pkg" / "loop.py"
    loop.write_text(BUGGY)
    main = tmp_path / "main.py"
    main.write_text(
        "from pkg.loop import count_up\n\n\ndef main():\n    print(count_up(3))\n\n\nmain()\n"
    )
    loop_uri, main_uri = loop.as_uri(), main.as_uri()
    async with assist_server(model, workspace=tmp_path) as client:
        open_doc(client, loop_uri, BUGGY)
        lint = types.Diagnostic(
            range=types.Range(types.Position(BUG_LINE, 12), types.Position(BUG_LINE, 29)),
            message="result is never positive",
            severity=types.DiagnosticSeverity.Warning,
            source="pylint",
        )
        # the editor polling for the lightbulb does not run the model (only the docstring action)
        polled = await code_actions(client, loop_uri, BUG_LINE, 12, [lint], invoked=False)
        assert [a.kind for a in polled] == [types.CodeActionKind.RefactorRewrite]
        actions = await code_actions(client, loop_uri, BUG_LINE, 12, [lint])
        (fix,) = quick_fixes(actions)
        assert fix.title == "codegen: the model expects `+` here, not `-`"
        assert list(fix.diagnostics) == [lint]
        assert apply_text_edits(BUGGY, edits_for(fix.edit, loop_uri)) == LOOP_PY

        # a diagnostic on a line the model has nothing against: any offered rewrite still parses
        other = types.Diagnostic(
            range=types.Range(types.Position(1, 4), types.Position(1, 13)),
            message="unused variable",
            source="flake8",
        )
        for action in quick_fixes(await code_actions(client, loop_uri, 1, 4, [other])):
            assert action.title.startswith("codegen: ") and len(action.title) <= 100
            after = apply_text_edits(BUGGY, edits_for(action.edit, loop_uri))
            assert after != BUGGY and python_parses(after)
            assert after.split("\n")[2:] == BUGGY.split("\n")[2:]  # only that line changed

        traceback = f"""Traceback (most recent call last):
  File "{main}", line 8, in <module>
    main()
  File "{main}", line 5, in main
    print(count_up(3))
          ^^^^^^^^^^^
  File "pkg/loop.py", line {BUG_LINE + 1}, in count_up
    total = total - i
  File "/usr/lib/python3/site-packages/other.py", line 1, in helper
    pass
AssertionError: total went negative
"""
        reply = await execute(client, "codegen.explainTraceback", traceback)
        assert reply["ok"] and reply["exception"] == "AssertionError: total went negative"
        assert [(f["uri"], f["line"]) for f in reply["frames"]] == [
            (main_uri, 7),  # as printed: outermost first
            (main_uri, 4),
            (loop_uri, BUG_LINE),
        ]
        assert reply["frames"][-1]["fix"] and not reply["frames"][0]["fix"]
        raised = await wait_for(lambda: by_code(client, loop_uri, "traceback"))
        assert len(raised) == 1 and raised[0].severity == types.DiagnosticSeverity.Hint
        assert raised[0].message.startswith("AssertionError: total went negative (raised here)")
        assert "expects `+` here" in raised[0].message
        callers = await wait_for(lambda: client.diagnostics.get(main_uri))
        assert len(callers) == 2 and all(d.source == "codegen" for d in callers)
        (fix,) = quick_fixes(await code_actions(client, loop_uri, BUG_LINE, 0, [raised[0]]))
        assert apply_text_edits(BUGGY, edits_for(fix.edit, loop_uri)) == LOOP_PY
        # files on disk are never touched; the edit waits for the user
        assert loop.read_text() == BUGGY and client.applied_edits == []
        # a second traceback replaces the first one's hints
        await execute(client, "codegen.explainTraceback", "ValueError: nothing of ours")
        await wait_for(lambda: cleared(client, main_uri))
