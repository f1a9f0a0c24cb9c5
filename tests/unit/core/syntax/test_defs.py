"""find_definitions, docstrings and enclosing_scope: golden cases per language."""

from __future__ import annotations

from codegen.core.syntax import enclosing_scope, find_definitions

PYTHON = '''import os


class Ledger:
    """A ledger of postings."""

    def post(self, amount: int) -> None:
        """Post an amount in €."""
        self.total += amount

    @staticmethod
    def empty():
        pass


def top(x):
    return x + 1
'''


def test_python_definitions_golden() -> None:
    found = [(d.name, d.kind, d.start_line, d.end_line) for d in find_definitions(PYTHON, "python")]
    assert found == [
        ("Ledger", "class", 3, 12),
        ("post", "method", 6, 8),
        ("empty", "method", 11, 12),
        ("top", "function", 15, 16),
    ]


def test_python_docstring_text_and_span() -> None:
    post = find_definitions(PYTHON, "python")[1]
    assert post.docstring is not None
    assert post.docstring.text == "Post an amount in €."
    assert PYTHON[post.docstring.start : post.docstring.end] == '"""Post an amount in €."""'
    assert post.docstring.start_line == post.docstring.end_line == 7
    # The docstring goes right after the header and the body's indentation.
    assert post.signature_end == (6, len("    def post(self, amount: int) -> None:"))
    assert PYTHON[post.signature_end_offset - 1] == ":"
    assert post.body_start_line == 7
    assert post.body_indent == "        "
    assert find_definitions(PYTHON, "python")[3].docstring is None


def test_python_fstring_is_not_a_docstring() -> None:
    source = 'def f():\n    f"""x {1}"""\n'
    assert find_definitions(source, "python")[0].docstring is None


def test_python_offsets_are_str_indices_after_emoji() -> None:
    source = 's = "😀"\ndef g():\n    """Dé."""\n'
    (g,) = find_definitions(source, "python")
    assert source[g.start : g.start + 5] == "def g"
    assert g.docstring is not None and source[g.docstring.start : g.docstring.end] == '"""Dé."""'


def test_typescript_jsdoc_and_arrow_functions() -> None:
    source = """/** Adds numbers.
 * @param a first
 */
export function add(a: number, b: number): number {
  return a + b;
}
// not a doc comment
const inc = (x: number) => x + 1;
class Cart {
  /** Total price. */
  total() {
    return 0;
  }
}
"""
    defs = {d.name: d for d in find_definitions(source, "typescript")}
    assert sorted(defs) == ["Cart", "add", "inc", "total"]
    add = defs["add"]
    assert add.docstring is not None and add.docstring.text == "Adds numbers.\n@param a first"
    assert source[add.docstring.start : add.docstring.end].startswith("/** Adds")
    assert source[add.signature_end_offset - 1] == "{"
    assert add.body_indent == "  "
    assert defs["inc"].docstring is None and defs["inc"].kind == "function"
    assert defs["total"].kind == "method"
    assert defs["total"].docstring is not None and defs["total"].docstring.text == "Total price."
    assert defs["Cart"].kind == "class"


def test_jsdoc_must_be_immediately_before() -> None:
    source = "/** Far away. */\n\n\nfunction f() {}\n"
    assert find_definitions(source, "javascript")[0].docstring is None


def test_go_comments_and_methods() -> None:
    source = "package p\n\n// F does things.\n// Really.\nfunc F() {\n\treturn\n}\n\ntype S struct {\n\tA int\n}\n\nfunc (s *S) M() {}\n"
    defs = [(d.name, d.kind) for d in find_definitions(source, "go")]
    assert defs == [("F", "function"), ("S", "class"), ("M", "method")]
    f = find_definitions(source, "go")[0]
    assert f.docstring is not None and f.docstring.text == "F does things.\nReally."
    assert f.body_indent == "\t"


def test_rust_doc_comments_skip_attributes() -> None:
    source = "/// Doc one\n/// two\n#[inline]\npub fn f(x: i32) -> i32 {\n    x\n}\nimpl Foo {\n    fn g(&self) {}\n}\n"
    defs = find_definitions(source, "rust")
    assert [(d.name, d.kind) for d in defs] == [
        ("f", "function"),
        ("Foo", "class"),
        ("g", "method"),
    ]
    assert defs[0].docstring is not None and defs[0].docstring.text == "Doc one\ntwo"
    assert (defs[0].docstring.start_line, defs[0].docstring.end_line) == (0, 1)


def test_enclosing_scope_innermost() -> None:
    scope = enclosing_scope(PYTHON, "python", 8, 12)
    assert scope is not None
    assert (scope.kind, scope.name, scope.start_line, scope.end_line) == ("function", "post", 6, 8)
    assert scope.body_indent == "        "
    assert enclosing_scope(PYTHON, "python", 0, 0) is None
    cls = enclosing_scope(PYTHON, "python", 4, 4)
    assert cls is not None and (cls.kind, cls.name) == ("class", "Ledger")


def test_enclosing_scope_on_blank_indented_line_after_python_body() -> None:
    source = "def f():\n    x = 1\n    \n"
    scope = enclosing_scope(source, "python", 2, 4)
    assert scope is not None and scope.name == "f"
    assert enclosing_scope("def f():\n    x = 1\n\n", "python", 2, 0) is None


def test_enclosing_scope_in_javascript() -> None:
    source = "class A {\n  m() {\n    return 1;\n  }\n}\n"
    scope = enclosing_scope(source, "javascript", 2, 6)
    assert scope is not None and (scope.kind, scope.name) == ("function", "m")
