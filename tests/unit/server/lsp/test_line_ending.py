"""One end-of-line rule for the whole server: ``line_ending`` and everything that uses it."""

from __future__ import annotations

import pytest

from codegen.server.lsp.documents import Document
from codegen.server.lsp.positions import line_ending
from codegen.server.source_text import SourceText

CRLF_1000 = "".join(f"value_{i} = {i}\r\n" for i in range(1000))


@pytest.mark.parametrize(
    ("text", "eol"),
    [
        (CRLF_1000, "\r\n"),  # the whole file counts, not a prefix sample
        (CRLF_1000[:-2], "\r\n"),  # no terminator on the last line
        ("a\n" * 300 + "b\r\n" * 301, "\r\n"),  # CRLF dominant only far down the file
        ("a\r\n" * 3 + "b\n" * 4, "\n"),  # mixed: the majority wins
        ("a\r\nb\nc\r\nd\n", "\r\n"),  # tie: the one that occurs first
        ("a\nb\r\nc\nd\r\n", "\n"),
        ("a\rb\nc\r", "\r"),  # lone CR, a terminator LSP knows, counted as one
        ("a\r\r\nb\r", "\r"),  # "\r\r\n" is a lone CR, then a CRLF
        ("x = 1\ny = 2\n", "\n"),
        ("x = 1", "\n"),  # no terminator at all
        ("", "\n"),
    ],
)
def test_line_ending_is_the_dominant_terminator_of_the_whole_text(text, eol):
    assert line_ending(text) == eol
    # the open document and the hint/docstring/fix view agree: one rule
    assert Document.from_text("file:///a.py", "python", 1, text).eol == eol
    assert SourceText.from_text("file:///a.py", text).eol == eol


def test_edits_take_the_documents_line_ending():
    source = SourceText.from_text("file:///a.py", CRLF_1000)
    assert source.text.count("\n") == 1000 and "\r" not in source.text
    assert source.to_document('"""Doc.\n\nMore."""\n') == '"""Doc.\r\n\r\nMore."""\r\n'
    doc = Document.from_text("file:///a.py", "python", 1, CRLF_1000)
    doc.apply_change((500, 0), (500, 0), "x = 0\n" * 2000)  # LF now dominates
    assert doc.eol == "\n"
