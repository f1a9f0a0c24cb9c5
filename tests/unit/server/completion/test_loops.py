"""The loop detector behind drop_low_quality and docstring slot cleaning, level by level."""

from __future__ import annotations

import pytest

from codegen.server.completion.postprocess.loops import find_loops, loop_share

LOOPS = [
    # (text, level, unit, copies): the first loop found
    ("guard_guard_guard", "segment", "guard", 3),
    ("GuardGuardGuard", "segment", "guard", 3),
    ("foliolioliolio", "subword", "oli", 4),
    ("abababab", "subword", "ab", 4),
    ("foliolioliostlio", "subword", "oli", 3),
    ("the the the", "word", "the", 3),
    ("The the the", "word", "The", 3),
    ("foo(foo(foo(foo(", "token", "foo (", 4),
    ("x.foo().foo().foo()", "chain", "foo()", 3),
    ("a.b.a.b.a.b", "chain", "a.b", 3),
    ("node.next.next.next.next", "token", ". next", 4),
    ("foo()\nfoo()\nfoo()", "line", "foo()", 3),
    ("x = 1\ny = 2\nx = 1\ny = 2\nx = 1\ny = 2", "line", "x = 1\ny = 2", 3),
    ("    'a',\n" * 6, "line", "'a',", 6),
]


@pytest.mark.parametrize("text,level,unit,copies", LOOPS)
def test_each_level_finds_its_loop(text, level, unit, copies):
    loop = find_loops(text)[0]
    assert (loop.level, loop.unit, loop.copies) == (level, unit, copies)


def test_the_reported_strings_are_loops():
    inline = '"""Antry.guard_guard_guard_guard_guard(foliolioliolio.hold.ink_guard_into.'
    assert {(loop.level, loop.unit) for loop in find_loops(inline)} == {
        ("segment", "guard"),
        ("subword", "guard_"),
        ("subword", "oli"),
    }
    slot = "Return the the the the the the the the the the the the the."
    [loop] = find_loops(slot)
    assert (loop.level, loop.copies) == ("word", 13)
    assert slot[loop.start : loop.end] == " ".join(["the"] * 13)
    assert loop_share(slot) > 0.8


NOT_LOOPS = [
    "self.x = x",
    "x = x + 1\nx = x + 1",
    "# " + "=" * 40,
    "Parameters\n----------",
    "x = 0x0000",
    "MASK = 0x0F0F0F0F",
    's = "aaaa"',
    "s = 'ZZZZZZZZ'",
    "ababab",  # three copies inside a word
    "guard_guard",
    "the the",
    "x_x_x",
    "x = [0, 0, 0, 0]",
    "[None, None, None, None, None]",
    "x = [\n    0,\n    0,\n    0,\n]",
    "    'a',\n    'a',\n    'a',",  # list items need more copies
    "foo.bar.baz",
    "node.next.next.next",
    "t.unsqueeze(0).unsqueeze(0).unsqueeze(0)",
    "def __init__(self):",
    "print('-' * 40)",
    "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass",
    "      }\n    }\n  }\n}",
    "        )\n    )\n)",
    "    end\n  end\nend",
    'b"\\xff\\xff\\xff\\xff"',
    '"\\n\\n\\n\\n"',
    'print("%s %s %s %s" % row)',
    "Tuple[int, int, int, int, int]",
    '"INSERT INTO t VALUES (%s, %s, %s, %s, %s)"',
    "x = 1; x = 1; x = 1; x = 1",  # no word of two letters: too little to tell
]


@pytest.mark.parametrize("text", NOT_LOOPS)
def test_legitimate_repetition_is_not_a_loop(text):
    assert find_loops(text) == []
