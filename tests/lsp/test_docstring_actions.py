"""Docstrings end to end: the code action, the whole-file command, docstring completions.

A real server process with a tiny real model that writes garbage here (see
:mod:`.assist_client`): every edit must still be a well-formed docstring in
the configured style, and nothing may change unless the user applies an edit
(the client records every workspace/applyEdit it is sent).
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from codegen.core.syntax import find_definitions

from .assist_client import (
    ACCOUNT_PY,
    apply_text_edits,
    assist_server,
    code_actions,
    edits_for,
    execute,
    memorizing_model,
    open_doc,
    python_parses,
    tree_sitter_clean,
    wait_for,
)

PY_URI = "file:///work/account.py"
PY = ACCOUNT_PY
# Short slots keep the tests fast; sampling makes completions vary (greedy output of
# an untrained model repeats one token, which completion post-processing drops).
OPTIONS = {"docstrings": {"maxNewTokens": 12}, "completion": {"temperature": 1.0, "seed": 0}}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return memorizing_model(tmp_path_factory.mktemp("memorizing"))


def docstring_of(text: str, name: str, language: str = "python") -> str | None:
    (defn,) = [d for d in find_definitions(text, language) if d.name == name]
    return defn.docstring.text if defn.docstring else None


def line_of(text: str, needle: str) -> int:
    (line,) = [i for i, content in enumerate(text.split("\n")) if needle in content]
    return line


async def resolved_docstring_edit(client, uri: str, line: int, character: int = 4):
    actions = await code_actions(client, uri, line, character, invoked=False)
    (action,) = [a for a in actions if a.title == "Generate docstring"]
    assert action.kind == types.CodeActionKind.RefactorRewrite
    assert action.edit is None  # listing is cheap; the model runs on resolve
    resolved = await client.code_action_resolve_async(action)
    return edits_for(resolved.edit, uri)


async def inline_at(client, uri: str, line: int, character: int):
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )


async def test_code_action_docstrings_and_docstring_completions(model):
    async with assist_server(model, init_options=OPTIONS) as client:
        open_doc(client, PY_URI, PY)
        # a method that has one already, and a line outside any definition: nothing offered
        inside_withdraw = line_of(PY, "if amount > self.balance")
        assert await code_actions(client, PY_URI, inside_withdraw, 8) == []
        assert await code_actions(client, PY_URI, 0, 0) == []

        inside_init = line_of(PY, "self.owner = owner")
        for style, marker in (
            ("google", "Args:"),
            ("numpy", "Parameters\n"),
            ("sphinx", ":param owner:"),
        ):
            settings = {
                "codegen": {**OPTIONS, "docstrings": {**OPTIONS["docstrings"], "style": style}}
            }
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=settings)
            )
            await asyncio.sleep(0.05)
            after = apply_text_edits(
                PY, await resolved_docstring_edit(client, PY_URI, inside_init, 10)
            )
            assert python_parses(after), after
            assert marker in docstring_of(after, "__init__")
            assert docstring_of(after, "withdraw") == "Take money out."
            opening = after.split("\n")[line_of(after, "def __init__") + 1]
            assert opening.startswith('        """')  # the body's indentation

        # the one-line function: the body moves to its own line under the docstring
        edits = await resolved_docstring_edit(client, PY_URI, line_of(PY, "def one"), 5)
        after = apply_text_edits(PY, edits)
        assert python_parses(after) and docstring_of(after, "one") is not None
        assert "\n    return x + 1\n" in after
        # the class: a docstring, then a blank line before the first method
        edits = await resolved_docstring_edit(client, PY_URI, line_of(PY, "class Account"), 7)
        after = apply_text_edits(PY, edits)
        assert python_parses(after) and docstring_of(after, "Account") is not None
        assert after.split("\n")[line_of(after, "def __init__") - 1] == ""

        # JSDoc for JavaScript and TypeScript
        js = "export function add(a, b = 2) {\n  return a + b;\n}\n"
        ts = "class Shop {\n  price(item: Item, qty = 1): number {\n    return item.cost * qty;\n  }\n}\n"
        open_doc(client, "file:///work/add.js", js, "javascript")
        open_doc(client, "file:///work/shop.ts", ts, "typescript")
        after = apply_text_edits(
            js, await resolved_docstring_edit(client, "file:///work/add.js", 1, 4)
        )
        assert (
            after.startswith("/**\n * ")
            and " * @param a - " in after
            and " * @param [b] - " in after
        )
        assert tree_sitter_clean(after, "javascript") and docstring_of(after, "add", "javascript")
        after = apply_text_edits(
            ts, await resolved_docstring_edit(client, "file:///work/shop.ts", 2, 4)
        )
        assert (
            "  /**\n   * " in after and "   * @param item - " in after and "   * @returns " in after
        )
        assert tree_sitter_clean(after, "typescript")

        # inline completion in a freshly typed """ (with and without auto-closed quotes)
        fresh = 'def area(width, height):\n    """\n    return width * height\n'
        for source, closed in ((fresh, False), (fresh.replace('"""\n', '""""""\n'), True)):
            uri = f"file:///work/area_{closed}.py"
            open_doc(client, uri, source)
            (item,) = (await inline_at(client, uri, 1, 7)).items
            assert item.range.start == types.Position(1, 7)
            lines = source.split("\n")
            lines[1] = lines[1][:7] + item.insert_text + lines[1][7:]
            after = "\n".join(lines)
            assert python_parses(after), after
            assert docstring_of(after, "area")  # the docstring holds the model's text
            assert after.count('"""') == 2 and "\n    return width * height\n" in after
        assert client.applied_edits == []  # offered, never applied


async def test_generate_docstrings_command_progress_apply_and_cancel(model):
    many = "".join(f"def f{i}(a, b, c, d):\n    return a + b + c + d\n\n\n" for i in range(60))
    async with assist_server(model, init_options=OPTIONS) as client:
        open_doc(client, PY_URI, PY)
        reply = await execute(client, "codegen.generateDocstrings", PY_URI)
        assert reply["ok"] and reply["applied"] and reply["docstrings"] == 4
        (params,) = client.applied_edits
        (change,) = params.edit.document_changes
        assert change.text_document.version == 1  # the editor refuses it if the file moved on
        after = apply_text_edits(PY, list(change.edits))
        assert python_parses(after)
        assert all(d.docstring is not None for d in find_definitions(after, "python"))
        assert docstring_of(after, "withdraw") == "Take money out."
        tokens = [t for t in client.progress_reports if str(t).startswith("codegen-docstrings")]
        reports = client.progress_reports[tokens[0]]
        assert reports[0].kind == "begin" and reports[-1].kind == "end"
        assert [r.message for r in reports if r.kind == "report"][-1] == "one (4/4)"

        # the progress's cancel button stops it: nothing is applied
        open_doc(client, "file:///work/many.py", many)
        running = asyncio.ensure_future(
            execute(client, "codegen.generateDocstrings", "file:///work/many.py")
        )
        token = (
            await wait_for(
                lambda: [
                    t
                    for t in client.progress_reports
                    if str(t).startswith("codegen-docstrings") and t not in tokens
                ]
            )
        )[0]
        await wait_for(lambda: client.progress_reports[token])
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        reply = await running
        assert reply["cancelled"] is True and reply["applied"] is False
        assert len(client.applied_edits) == 1
        assert client.progress_reports[token][-1].kind == "end"


async def test_clients_without_resolve_get_the_edit_only_when_they_ask(model):
    async with assist_server(model, init_options=OPTIONS, resolve=False) as client:
        open_doc(client, PY_URI, PY)
        line = line_of(PY, "return max(")
        assert await code_actions(client, PY_URI, line, 4, invoked=False) == []
        (action,) = await code_actions(client, PY_URI, line, 4, invoked=True)
        after = apply_text_edits(PY, edits_for(action.edit, PY_URI))
        assert python_parses(after) and docstring_of(after, "total") is not None
        assert client.applied_edits == []
