"""Languages, parsing, position conversion, incremental documents, syntax errors."""

from __future__ import annotations

import pytest

from codegen.core.errors import CodegenError
from codegen.core.syntax import (
    SyntaxDocument,
    TextIndex,
    language_for_id,
    language_for_path,
    parse,
    syntax_errors,
)


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("pkg/mod.py", "python"),
        ("stub.pyi", "python"),
        ("a/b.JS", "javascript"),
        ("c.jsx", "javascript"),
        ("d.ts", "typescript"),
        ("e.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("README.md", None),
        ("Makefile", None),
    ],
)
def test_language_for_path(path: str, language: str | None) -> None:
    assert language_for_path(path) == language


@pytest.mark.parametrize(
    ("lsp_id", "language"),
    [
        ("python", "python"),
        ("javascriptreact", "javascript"),
        ("typescriptreact", "tsx"),
        ("go", "go"),
        ("rust", "rust"),
        ("markdown", None),
    ],
)
def test_language_for_id(lsp_id: str, language: str | None) -> None:
    assert language_for_id(lsp_id) == language


@pytest.mark.parametrize(
    ("language", "source", "root"),
    [
        ("python", "x = 1\n", "module"),
        ("javascript", "const x = <div/>;\n", "program"),
        ("typescript", "let x: number = 1;\n", "program"),
        ("tsx", "const x = <div/>;\n", "program"),
        ("go", "package p\n", "source_file"),
        ("rust", "fn main() {}\n", "source_file"),
    ],
)
def test_parse_each_language(language: str, source: str, root: str) -> None:
    tree = parse(source, language)
    assert tree.root_node.type == root
    assert not tree.root_node.has_error


def test_unknown_language_is_a_user_error() -> None:
    with pytest.raises(CodegenError, match="supported"):
        parse("x", "cobol")


def test_text_index_converts_non_ascii_offsets() -> None:
    source = "a = 'é😀'\nb = 2\n"
    idx = TextIndex(source)
    emoji = source.index("😀")
    assert idx.byte_offset(emoji) == 7  # 'a', ' ', '=', ' ', "'" and two bytes of é
    assert idx.char_offset(7) == emoji
    assert idx.char_offset(idx.byte_offset(len(source))) == len(source)
    assert idx.line_col(source.index("b")) == (1, 0)
    assert idx.point(source.index("'", emoji)) == (0, 11)
    assert idx.offset(1, 4) == source.index("2")
    assert idx.offset(0, 99) == source.index("\n")


@pytest.mark.parametrize(
    ("text", "edits"),
    [
        ("x = 1\ny = 'é'\n", [(9, 10, "😀😀"), (0, 0, "def f(:\n"), (0, 8, "")]),
        ("def f():\n    return 1\n", [(20, 21, "'ü'"), (9, 9, "    z = 2\n")]),
        ('fn main() { let s = "日本"; }\n', [(21, 23, "語"), (12, 12, "let t = 1; ")]),
    ],
)
def test_incremental_edits_match_a_fresh_parse(text: str, edits: list) -> None:
    language = "rust" if text.startswith("fn") else "python"
    doc = SyntaxDocument(text, language)
    for start, end, new in edits:
        expected = doc.text[:start] + new + doc.text[end:]
        doc.apply_edit(start, end, new)
        assert doc.text == expected
        assert str(doc.tree.root_node) == str(parse(expected, language).root_node)
        assert doc.tree.root_node.end_byte == len(expected.encode())


def test_apply_edit_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        SyntaxDocument("x", "python").apply_edit(0, 5, "")


def test_valid_code_has_no_syntax_errors() -> None:
    assert syntax_errors("def f(x):\n    return x\n", "python") == []


def test_error_span_after_emoji_uses_str_columns() -> None:
    source = "s = '😀😀'; f(1, 2\n"
    issues = syntax_errors(source, "typescript")
    # Byte columns would be 18..24: each emoji is 4 UTF-8 bytes.
    assert [(i.start_line, i.start_col, i.end_line, i.end_col) for i in issues] == [(0, 10, 0, 16)]
    assert issues[0].message == "syntax error: unexpected 'f(1, 2'"


def test_error_node_columns_are_str_indices() -> None:
    source = "x = 'é😀'\ndef f(:\n    pass\n"
    issues = syntax_errors(source, "python")
    assert len(issues) == 1
    assert (issues[0].start_line, issues[0].start_col) == (1, 6)


def test_error_end_column_on_a_non_ascii_line() -> None:
    source = "ß = 'é😀' + )\n"
    issues = syntax_errors(source, "python")
    assert [(i.start_col, i.end_col) for i in issues] == [(0, len(source) - 1)]


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("javascript", "function f( {\n"),
        ("go", "package p\nfunc f( {\n"),
        ("rust", "fn f( {\n"),
    ],
)
def test_syntax_errors_in_c_like_languages(language: str, source: str) -> None:
    assert syntax_errors(source, language)
