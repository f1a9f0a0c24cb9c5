"""Positions in utf-16/8/32, CRLF and astral characters; incremental edits."""

from __future__ import annotations

import random

import pytest

from codegen.server.lsp.documents import Document
from codegen.server.lsp.positions import (
    UTF8,
    UTF16,
    UTF32,
    column_to_index,
    index_to_column,
    split_lines,
)

EMOJI = "x = '😋' + y"  # the emoji is 2 utf-16 units, 4 utf-8 bytes


def test_split_lines_only_at_lsp_terminators():
    assert split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert split_lines("a\n") == ["a\n", ""]
    assert split_lines("") == [""]
    # form feed and U+2028 are not line breaks in LSP (str.splitlines says they are)
    assert split_lines("a\x0cb\u2028c") == ["a\x0cb\u2028c"]


@pytest.mark.parametrize(
    "encoding,units,index",
    [(UTF16, 7, 6), (UTF8, 9, 6), (UTF32, 6, 6), (UTF16, 6, 5), (UTF16, 5, 5)],
)
def test_column_to_index_with_emoji(encoding, units, index):
    # index 5 is the emoji; 6 is the closing quote
    assert column_to_index(EMOJI, units, encoding) == index


def test_column_inside_surrogate_pair_rounds_down_and_clamps():
    assert column_to_index(EMOJI, 6, UTF16) == 5
    assert column_to_index(EMOJI, 10_000, UTF16) == len(EMOJI)
    assert column_to_index(EMOJI, -3, UTF16) == 0


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
def test_round_trip_columns(encoding):
    for i in range(len(EMOJI) + 1):
        assert column_to_index(EMOJI, index_to_column(EMOJI, i, encoding), encoding) == i


def test_clamp_out_of_range_positions():
    doc = Document.from_text("u", "python", 1, "ab\r\ncd")
    assert doc.clamp(0, 99) == (0, 2)  # never inside the CRLF
    assert doc.clamp(7, 3) == (1, 2)
    assert doc.clamp(-1, 5) == (0, 0)


def test_incremental_edits_with_crlf_and_emoji():
    doc = Document.from_text("u", "python", 1, "a😋b\r\nc\r\n")
    start = doc.clamp(0, 3, UTF16)  # after the emoji
    doc.apply_change(start, start, "X")
    assert doc.text == "a😋Xb\r\nc\r\n"
    # join two lines by deleting a CRLF
    doc.apply_change(doc.clamp(0, 5), doc.clamp(1, 0), "")
    assert doc.text == "a😋Xbc\r\n"
    # inserting "\r" then "\n" at the edge forms one CRLF terminator
    end = doc.clamp(0, 6)
    doc.apply_change(end, end, "\r")
    doc.apply_change(doc.clamp(1, 0), doc.clamp(1, 0), "\n")
    assert doc.lines == split_lines(doc.text)


def test_random_edits_match_a_reference_string():
    rng = random.Random(0)
    text = "def f():\r\n    return '😋'\n\nx = 1\r"
    doc = Document.from_text("u", "python", 1, text)
    pieces = ["", "a", "\n", "\r\n", "\r", "😋", "é", "zz\nq"]
    for _ in range(400):
        a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        new = rng.choice(pieces)

        def pos(offset: int, text: str = text) -> tuple[int, int]:
            lines = split_lines(text)
            for n, line in enumerate(lines):
                if offset <= len(line) and (offset < len(line) or n == len(lines) - 1):
                    return n, offset
                offset -= len(line)
            raise AssertionError

        sa, sb = pos(a), pos(b)
        # Skip offsets between \r and \n: editors never address them.
        if any(text[max(0, o - 1) : o + 1] == "\r\n" for o in (a, b)):
            continue
        doc.apply_change(sa, sb, new)
        text = text[:a] + new + text[b:]
        assert doc.text == text
        assert doc.lines == split_lines(text)
