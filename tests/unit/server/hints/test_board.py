"""Diagnostics merged per document, moved by edits; syntax diagnostics; fix payloads."""

from __future__ import annotations

from types import SimpleNamespace

from lsprotocol import types

from codegen.server.features.hint_fixes import fix_action, fix_data, fix_of
from codegen.server.features.syntax_diagnostics import syntax_diagnostics
from codegen.server.lsp.code_actions import kind_allowed
from codegen.server.lsp.diagnostics import HINTS, SYNTAX, DiagnosticsBoard, shift_for_change
from codegen.server.parse_check import edited_lines, keeps_parsing
from codegen.server.source_text import SourceText


def diag(line: int, message: str = "m", end_line: int | None = None) -> types.Diagnostic:
    end = line if end_line is None else end_line
    return types.Diagnostic(types.Range(types.Position(line, 2), types.Position(end, 5)), message)


class RecordingServer(SimpleNamespace):
    def __init__(self) -> None:
        super().__init__(documents=SimpleNamespace(get=lambda uri: None), published=[])

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.published.append([d.message for d in params.diagnostics])


def test_channels_are_merged_and_never_wipe_each_other():
    server = RecordingServer()
    board = DiagnosticsBoard(server)  # type: ignore[arg-type]
    board.set("u", SYNTAX, [diag(1, "syntax")])
    board.set("u", HINTS, [diag(3, "hint")])
    board.set("u", SYNTAX, [])
    assert server.published == [["syntax"], ["syntax", "hint"], ["hint"]]
    board.clear("u")
    assert server.published[-1] == []


def test_edits_move_hints_below_and_drop_hints_on_edited_lines():
    diags = [diag(1, "above"), diag(4, "edited"), diag(8, "below")]
    moved = shift_for_change(diags, 3, 5, "one\ntwo\nthree\nfour\n")  # 3 lines -> 5
    assert [(d.message, d.range.start.line) for d in moved] == [("above", 1), ("below", 10)]
    assert moved[1].range.start.character == 2 and moved[1].range.end.line == 10
    assert [d.range.start.line for d in shift_for_change(diags, 0, 2, "")] == [2, 6]


def test_syntax_errors_become_diagnostics_in_the_client_encoding():
    source = SourceText.from_text("file:///a.py", "s = '😋'\ndef f(:\n    pass\n", "python")
    (error,) = syntax_diagnostics(source, "utf-16")
    assert error.severity == types.DiagnosticSeverity.Error and error.source == "codegen"
    assert error.range.start.line == 1
    emoji = SourceText.from_text("file:///a.py", "x = ('😋' +)\n", "python")
    (utf16,) = syntax_diagnostics(emoji, "utf-16")
    (utf32,) = syntax_diagnostics(emoji, "utf-32")
    assert utf16.range.end.character == utf32.range.end.character + 1
    assert syntax_diagnostics(SourceText.from_text("file:///a.txt", "def f(:"), "utf-16") == []


def test_fix_payload_round_trip_and_stale_text_is_not_offered():
    source = SourceText.from_text("file:///a.py", "if a < b:\r\n    pass\r\n", "python")
    hint = diag(0)
    hint.range = types.Range(types.Position(0, 5), types.Position(0, 6))
    hint.data = fix_data("<=", "<", "codegen: replace `<` with `<=`")
    assert fix_of(hint) is not None and fix_of(diag(0)) is None
    action = fix_action(source, hint, hint.data, "utf-16")
    assert action is not None and action.title == "codegen: replace `<` with `<=`"
    (edit,) = action.edit.changes["file:///a.py"]
    assert edit.new_text == "<=" and edit.range == hint.range
    moved = SourceText.from_text("file:///a.py", "if a == b:\n    pass\n", "python")
    assert fix_action(moved, hint, hint.data, "utf-16") is None


def test_code_action_kinds_are_hierarchical():
    assert kind_allowed("refactor.rewrite", ["refactor"])
    assert kind_allowed("quickfix", None) and kind_allowed("quickfix", [])
    assert not kind_allowed("refactor.rewrite", ["quickfix"])
    assert not kind_allowed("quickfixes", ["quickfix"])


def test_parse_check_refuses_new_errors_even_in_broken_files():
    good = "def f(a):\n    return a\n"
    assert keeps_parsing(good, good.replace("a\n", "b\n"), "python")
    assert not keeps_parsing(good, good.replace("(a)", "(a"), "python")
    broken = good + "def g(:\n    pass\n"
    # same error count, but the edited line now has one of its own
    worse = broken.replace("return a", "return a)")
    assert not keeps_parsing(broken, worse, "python", edited=(1, 1))
    assert keeps_parsing(broken, broken.replace("return a", "return b"), "python", edited=(1, 1))
    assert edited_lines("a\nb\nc", 2, "x\ny") == (1, 2)
