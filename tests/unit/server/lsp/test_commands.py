"""Command arguments: one reader for every workspace/executeCommand handler."""

from __future__ import annotations

from codegen.server.lsp.commands import command_arg, command_args


def test_arguments_are_read_positionally_or_from_one_wrapping_list():
    assert command_arg(("file:///a.py",), 0, str) == "file:///a.py"
    assert command_arg((["file:///a.py"],), 0, str) == "file:///a.py"
    assert command_args(([None, 2],)) == [None, 2]
    assert command_args(()) == []


def test_missing_or_mistyped_arguments_are_none():
    assert command_arg((), 0, str) is None
    assert command_arg((3,), 0, str) is None
    assert command_arg(("x",), 1, str) is None
    assert command_arg((True,), 0, int) is None  # a bool is not a count
    assert command_arg((True,), 0, bool) is True
