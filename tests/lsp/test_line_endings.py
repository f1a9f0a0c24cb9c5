"""A long CRLF file keeps CRLF: docstring and fix edits use the document's line endings.

A real server process with the tiny model that has memorised ``LOOP_PY`` (see
:mod:`.assist_client`), on a 1,000-line Python file with ``\\r\\n`` endings: the
"Generate docstring" action and the explain-and-fix quick fix must write
``\\r\\n`` in every edit, so that the file, once the edits are applied, has one
kind of line ending (a mixed file shows up as a whole-file diff).
"""

from __future__ import annotations

import re

import pytest
from lsprotocol import types

from codegen.core.syntax import find_definitions

from .assist_client import (
    LOOP_PY,
    apply_text_edits,
    assist_server,
    code_actions,
    edits_for,
    memorizing_model,
    open_doc,
    python_parses,
    quick_fixes,
)

URI = "file:///work/long_crlf.py"
BUGGY = LOOP_PY.replace("total = total + i", "total = total - i")
BUG_LINE = BUGGY.split("\n").index("            total = total - i")
# The buggy copy first (scored as in the other hint tests), then correct copies: 1,000 lines.
_COPIES = LOOP_PY + "\n\n"
LONG = BUGGY + "\n\n" + _COPIES * 80
LONG = "\n".join(LONG.split("\n")[:1000]) + "\n"
CRLF = LONG.replace("\n", "\r\n")
OPTIONS = {"docstrings": {"maxNewTokens": 12}}
NOT_CRLF = re.compile(r"(?<!\r)\n|\r(?!\n)")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return memorizing_model(tmp_path_factory.mktemp("memorizing"))


def only_crlf(text: str) -> bool:
    return NOT_CRLF.search(text) is None


def test_the_document_is_a_long_crlf_file():
    assert CRLF.count("\r\n") == 1000 and only_crlf(CRLF)
    assert python_parses(LONG)


async def test_docstring_and_fix_edits_keep_crlf_in_a_long_file(model):
    async with assist_server(model, init_options=OPTIONS) as client:
        open_doc(client, URI, CRLF)

        # "Generate docstring" on a function far down the file
        lines = LONG.split("\n")
        line = max(i for i, text in enumerate(lines[:800]) if text.startswith("def scale"))
        assert line > 700
        actions = await code_actions(client, URI, line + 1, 4, invoked=False)
        (action,) = [a for a in actions if a.title == "Generate docstring"]
        resolved = await client.code_action_resolve_async(action)
        edits = edits_for(resolved.edit, URI)
        assert edits and any("\r\n" in e.new_text for e in edits)
        assert all(only_crlf(e.new_text) for e in edits), [e.new_text for e in edits]
        after = apply_text_edits(CRLF, edits)
        assert only_crlf(after) and after.count("\r\n") > 1000
        plain = after.replace("\r\n", "\n")
        assert python_parses(plain)
        scales = [d for d in find_definitions(plain, "python") if d.name == "scale"]
        assert sum(d.docstring is not None for d in scales) == 1

        # explain-and-fix on two lines around the injected bug: a two-line replacement
        lint = types.Diagnostic(
            range=types.Range(types.Position(BUG_LINE - 1, 8), types.Position(BUG_LINE, 29)),
            message="result is never positive",
            severity=types.DiagnosticSeverity.Warning,
            source="pylint",
        )
        fixes = quick_fixes(await code_actions(client, URI, BUG_LINE - 1, 8, [lint]))
        assert fixes
        for fix in fixes:
            edits = edits_for(fix.edit, URI)
            assert edits and all(only_crlf(e.new_text) for e in edits), edits
            assert any("\r\n" in e.new_text for e in edits)  # the edit spans a line break
            after = apply_text_edits(CRLF, edits)
            assert only_crlf(after) and after.count("\r\n") == 1000
            assert python_parses(after.replace("\r\n", "\n"))
        (fix,) = fixes
        assert fix.title == "codegen: the model expects `+` here, not `-`"
        fixed = apply_text_edits(CRLF, edits_for(fix.edit, URI))
        assert fixed == CRLF.replace("total = total - i", "total = total + i", 1)
        assert client.applied_edits == []  # offered, never applied
