"""The token-budget window: one cut for completion, docstring and fix prompts."""

from __future__ import annotations

from codegen.server.completion.context import build_context
from codegen.server.lsp.positions import split_lines
from codegen.server.model.window import fim_window, fit_lines, lines_after, lines_before


def count(text: str) -> int:
    return len(text.split()) + text.count("\n")


def test_lines_before_and_after_split_at_newlines_nearest_first():
    head, pieces = lines_before("a\nbb\n\nccc")
    assert (head, list(pieces)) == ("ccc", ["\n", "bb\n", "a\n"])
    head, pieces = lines_before("a\n")
    assert (head, list(pieces)) == ("", ["a\n"])
    tail, pieces = lines_after("x\ny\n\nz\n")
    assert (tail, list(pieces)) == ("x", ["\ny", "\n", "\nz", "\n"])
    tail, pieces = lines_after("only")
    assert (tail, list(pieces)) == ("only", [])


def test_completion_and_fim_windows_cut_the_same_text_the_same_way():
    text = "".join(f"value_{i} = compute({i})\n" for i in range(3000))
    lines = split_lines(text)
    window = build_context(lines, 1500, 5, count, max_tokens=300, prefix_ratio=0.7)
    cursor = sum(len(line) for line in lines[:1500]) + 5
    prefix, suffix = fim_window(text[:cursor], text[cursor:], count, 300, 0.7)
    assert (prefix, suffix) == (window.prefix, window.suffix)
    assert count(prefix) <= 210 and count(suffix) <= 90
    assert window.first_line == 1500 - prefix.count("\n")


def test_a_huge_line_at_the_hole_is_clipped_to_the_budget():
    line = "x" * 100_000
    lines = split_lines(f"a = 1\n{line}\nb = 2\n")
    window = build_context(lines, 1, 50_000, lambda t: len(t) // 3, max_tokens=300)
    assert window.prefix == "x" * 630 and window.suffix == "x" * 270
    assert window.first_line == 1
    # a tokenizer harsher than the estimate: the head shrinks until it fits
    text, used = fit_lines(line, iter(()), 100, len, before=True)
    assert used == 0 and 0 < len(text) <= 100 and line.endswith(text)


def test_pieces_are_read_lazily():
    read = []

    def pieces():
        for i in range(1_000_000):
            read.append(i)
            yield f"line {i}\n"

    text, used = fit_lines("", pieces(), 30, len, before=True)
    assert used == len(text.splitlines()) and len(text) <= 30
    assert len(read) == 13  # 12 lines fill the 90-character estimate, the 13th is over
