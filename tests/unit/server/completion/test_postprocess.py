"""Golden cases for every post-processing filter, and for the whole chain."""

from __future__ import annotations

import pytest

from codegen.server.completion.postprocess import (
    FilterContext,
    Suggestion,
    make_stop_fn,
    postprocess,
)
from codegen.server.completion.postprocess.base import detect_indent_unit
from codegen.server.completion.postprocess.cover_auto_closed import cover_auto_closed_pairs
from codegen.server.completion.postprocess.drop_low_quality import drop_low_quality
from codegen.server.completion.postprocess.limit_scope import limit_scope_by_indent
from codegen.server.completion.postprocess.line_endings import use_document_line_endings
from codegen.server.completion.postprocess.match_indentation import match_file_indentation
from codegen.server.completion.postprocess.max_lines import limit_max_lines
from codegen.server.completion.postprocess.remove_suffix_overlap import remove_suffix_overlap
from codegen.server.completion.postprocess.stop_at_blank_lines import stop_at_blank_lines
from codegen.server.completion.postprocess.trim import trim


def run(filter_, text: str, prefix: str = "", suffix: str = "", **kw) -> str | None:
    out = filter_(Suggestion(text), FilterContext(prefix=prefix, suffix=suffix, **kw))
    return None if out is None else out.text


TRIM = [
    ("x + 1   \n\n", "a = ", "", "x + 1"),
    (" 1", "a = ", "", "1"),  # no doubled space after "a = "
    ("\n    return 1\r\n", "def f():", "", "\n    return 1"),
    ("  y", "", "", "  y"),  # blank line prefix: indentation is meaningful
]


@pytest.mark.parametrize("text,prefix,suffix,expected", TRIM)
def test_trim(text, prefix, suffix, expected):
    assert run(trim, text, prefix, suffix) == expected


BLANK = [
    ("a\n\nb", 1, "a\n\nb"),
    ("a\n\n\nb", 1, "a"),
    ("\n\n    x\n\n\n\ny", 1, "\n\n    x"),  # the empty first line is the cursor's line
    ("a\n\n\nb", 2, "a\n\n\nb"),
]


@pytest.mark.parametrize("text,max_blank,expected", BLANK)
def test_stop_at_blank_lines(text, max_blank, expected):
    assert run(stop_at_blank_lines, text, max_blank_lines=max_blank) == expected


SCOPE = [
    # after a block opener: stop when back at the opener's indentation
    ("\n    y = 1\n    return y\nz = 2", "def f():", "", "\n    y = 1\n    return y"),
    # a fresh statement at the cursor's indentation continues the scope
    ("if a:\n        b()\n    c()\nd()", "def f():\n    ", "", "if a:\n        b()\n    c()"),
    # a closing brace that ends the block is kept when the suffix lacks it
    ("\n  go();\n}\nmore();", "if (x) {", "", "\n  go();\n}"),
    # ... and dropped when the code after the cursor already has it
    ("\n  go();\n}", "if (x) {", "\n}", "\n  go();"),
    ("one line", "x = ", "", "one line"),
]


@pytest.mark.parametrize("text,prefix,suffix,expected", SCOPE)
def test_limit_scope_by_indent(text, prefix, suffix, expected):
    assert run(limit_scope_by_indent, text, prefix, suffix) == expected


def test_limit_max_lines():
    assert run(limit_max_lines, "a\nb\nc", mode="multi", max_lines=2) == "a\nb"
    assert run(limit_max_lines, "a\nb", mode="single") == "a"
    assert run(limit_max_lines, "\n    body\nmore", mode="single") == "\n    body"


OVERLAP = [
    # runs into the next line that already exists
    ("x = 1\n    return x", "def f():\n    ", "\n    return x\n", "x = 1"),
    # the whole suggestion is the next line: nothing left
    ("return x", "def f():\n    ", "\n    return x\n", ""),
    # ends with what follows the cursor on its line
    ("1  # note", "a = ", "  # note\n", "1"),
    # closing brackets alone are left to cover_auto_closed
    ("x)", "f(", ")\n", "x)"),
    ("y = 2", "", "\nz = 3", "y = 2"),
]


@pytest.mark.parametrize("text,prefix,suffix,expected", OVERLAP)
def test_remove_suffix_overlap(text, prefix, suffix, expected):
    assert run(remove_suffix_overlap, text, prefix, suffix) == expected


INDENT = [
    # spaces from the model in a tab-indented file
    ("if y:\n        z()\n    w()", "if x:\n\t", "\t", "if y:\n\t\tz()\n\tw()"),
    # tabs from the model in a space-indented file
    ("a\n\tb", "", "  ", "a\n  b"),
    # the cursor already sits at the body indentation: no doubled indent
    ("    return 1", "def f():\n    ", "    ", "return 1"),
    # the cursor is short of the expected indentation: keep the model's
    ("  return 1", "def f():\n  ", "    ", "  return 1"),
]


@pytest.mark.parametrize("text,prefix,unit,expected", INDENT)
def test_match_file_indentation(text, prefix, unit, expected):
    assert run(match_file_indentation, text, prefix, indent_unit=unit) == expected


COVER = [
    ('hi")', 'print("', '")', 2),  # quote and paren both auto-closed
    ("x)", "f(", ")", 1),
    ("bar()", "f(", ")", 0),  # balanced: the suffix ")" still closes f(
    ("x))", "f(g(", ")", 1),
    ("x", "f(", ")", 0),
    ("1, 2]", "[", "]", 1),
    ("\n    a,\n)", "f(", ")", 1),
    ("x)", "f(", "", 0),
]


@pytest.mark.parametrize("text,prefix,suffix,cover", COVER)
def test_cover_auto_closed_pairs(text, prefix, suffix, cover):
    out = cover_auto_closed_pairs(Suggestion(text), FilterContext(prefix=prefix, suffix=suffix))
    assert out.text == text
    assert out.cover == cover


DROP = [
    ("   \n ", None),
    ("x", None),  # tiny
    ("ab", "ab"),
    ("foo()\nfoo()\nfoo()", None),  # the same line three times
    ("abababababab", None),  # one unit over and over
    ("a = 1\nb = 2", "a = 1\nb = 2"),
    ('"""Ing the the the the the the the the the the the the', None),  # mostly a loop
    ("x = [0, 0, 0, 0]", "x = [0, 0, 0, 0]"),  # a short literal run is fine
    ("if x:\n        y = 1\n        z = 2", "if x:\n        y = 1\n        z = 2"),
    ("# " + "=" * 40, "# " + "=" * 40),  # rulers are single-character units
    # degenerate loops (issue 12): token, sub-word, word level, call chains
    ('"""Antry.guard_guard_guard_guard_guard(foliolioliolio.hold.ink_guard_into.', None),
    ('"""Return the the the the the the the the the the the the the.', None),
    ("x = guard_guard_guard", None),
    ("name = foliolioliolio", None),
    # seen at the end of the tour: three copies of a three-letter syllable
    ("qb_guard(foliolioliostlio: str) -> Entry | None:", None),
    ("# the the the", None),
    ("r = obj.foo().foo().foo()", None),
    ("x = a.b.a.b.a.b", None),
    ("x = foo(foo(foo(foo(", None),
    ("a = 1\nb = 2\na = 1\nb = 2\na = 1\nb = 2", None),  # two lines over and over
    # a loop-free start of a line that then degenerates is not shown half-broken
    ("value = compute_total(first_argument, second_argument).foo().foo().foo()", None),
    ("x = 1\n" + "the " * 20, None),  # mostly a loop: dropped whole
    # legitimate repetition
    ("self.x = x", "self.x = x"),
    ("x = 0x0000", "x = 0x0000"),
    ("MASK = 0x0F0F0F0F", "MASK = 0x0F0F0F0F"),
    ('s = "aaaa"', 's = "aaaa"'),
    ("x = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]", "x = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]"),
    ("[None, None, None, None, None]", "[None, None, None, None, None]"),
    ("x = foo.bar.baz", "x = foo.bar.baz"),
    ("node.next.next.next", "node.next.next.next"),
    ("def __init__(self):", "def __init__(self):"),
    ("print('-' * 40)", "print('-' * 40)"),
    ("x = x + 1\nx = x + 1", "x = x + 1\nx = x + 1"),
    (
        "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass",
        "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass",
    ),
    ("Returns\n-------\n====", "Returns\n-------\n===="),
    ("      }\n    }\n  }\n}", "      }\n    }\n  }\n}"),
    ('b"\\xff\\xff\\xff\\xff"', 'b"\\xff\\xff\\xff\\xff"'),
    ("Tuple[int, int, int, int, int]", "Tuple[int, int, int, int, int]"),
    ('"INSERT INTO t VALUES (%s, %s, %s, %s, %s)"', '"INSERT INTO t VALUES (%s, %s, %s, %s, %s)"'),
]


@pytest.mark.parametrize("text,expected", DROP)
def test_drop_low_quality(text, expected):
    assert run(drop_low_quality, text, min_length=2) == expected


def test_a_loop_after_good_lines_is_cut_before_its_line():
    good = "total = 0\nfor item in items:\n    total += item.price"
    assert run(drop_low_quality, good + "\nreport(total.value_value_value)") == good
    assert run(drop_low_quality, "\n    guard_guard_guard_guard()", min_length=2) is None


def test_a_cut_works_out_the_cover_again():
    ctx = FilterContext(prefix="print(", suffix=")\n")
    text = '"the total is", total, "and the mean is", mean,\n    mean.foo().foo().foo())'
    shown = cover_auto_closed_pairs(Suggestion(text), ctx)
    assert shown.cover == 1  # the loop's line closes the auto-closed paren
    assert drop_low_quality(shown, ctx) == Suggestion(
        '"the total is", total, "and the mean is", mean,'
    )


def test_the_chain_drops_the_reported_loops():
    ctx = FilterContext(prefix="def f(x):\n    ", suffix="\n")
    reported = '"""Antry.guard_guard_guard_guard_guard(foliolioliolio.hold.ink_guard_into.'
    assert postprocess(reported, ctx) is None
    assert (
        postprocess('"""Return the the the the the the the the the the the the the.', ctx) is None
    )


def test_line_endings():
    assert run(use_document_line_endings, "a\nb", eol="\r\n") == "a\r\nb"
    assert run(use_document_line_endings, "a\nb", eol="\n") == "a\nb"


def test_detect_indent_unit():
    assert detect_indent_unit(["def f():\n", "\tx = 1\n"]) == "\t"
    assert detect_indent_unit(["a:\n", "  b\n", "    c\n", "  d\n"]) == "  "
    assert detect_indent_unit(["x = 1\n"]) == "    "


def test_chain_fixes_bracket_and_stops_at_scope():
    ctx = FilterContext(prefix="def f(x):\n    print(", suffix=")\n    return x\n")
    out = postprocess('"hi")\n    return x\n', ctx)
    assert out == Suggestion('"hi")', cover=1)


def test_chain_drops_a_pure_duplicate_of_the_next_line():
    ctx = FilterContext(prefix="def f(x):\n    ", suffix="\n    return x\n")
    assert postprocess("return x", ctx) is None


def test_stop_fn_stops_at_end_of_scope_and_single_line():
    ctx = FilterContext(prefix="def f(x):", suffix="\n")
    stop = make_stop_fn(ctx)
    text = "\n    y = x\n    return y\nclass A:\n"
    assert stop(text[:12]) is None
    assert text[: stop(text)] == "\n    y = x\n    return y"
    single = make_stop_fn(FilterContext(prefix="x = ", suffix="", mode="single"))
    assert single("foo(1)\nbar") == 6
