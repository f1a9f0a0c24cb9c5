"""Writing a docstring into a file: placement, slot filling, and docstring completions.

The engine is a scripted stand-in that writes nasty text (quotes, backslashes,
comment closers): the point is that the result is well-formed whatever the
model writes. Real-model behaviour is tested end to end in tests/lsp.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codegen.core.engine import CancelToken, GenerationConfig, GenerationResult, apply_stop_rules
from codegen.core.fim import TINY
from codegen.core.syntax import find_definitions, syntax_errors
from codegen.server.completion.postprocess import FilterContext
from codegen.server.docstrings.inline import docstring_site, finish_docstring
from codegen.server.docstrings.writer import (
    apply_edits,
    needs_docstring,
    plan_docstring,
    write_docstring,
)
from codegen.server.model.window import fim_window
from codegen.server.source_text import SourceText

CODE = """class Shape:
    def area(self, scale: float = 1.0) -> float:  # the area
        return 0.0 * scale


def helper(x): return x
"""


@dataclass
class ScriptedEngine:
    replies: list[str]
    fim = TINY
    name = "scripted"
    prompts: list[str] = field(default_factory=list)

    def generate(self, prompt: str, config: GenerationConfig, cancel=None) -> GenerationResult:
        self.prompts.append(prompt)
        text, _ = apply_stop_rules(
            self.replies[(len(self.prompts) - 1) % len(self.replies)], config
        )
        return GenerationResult(text, "stop")

    def count_tokens(self, text: str) -> int:
        return len(text) // 3

    def score(self, text: str):
        return []


def write_all(engine, text: str, style: str = "google", uri: str = "file:///a.py") -> str:
    source = SourceText.from_text(uri, text)
    defs = find_definitions(source.text, source.language)
    edits = []
    for defn in defs:
        if needs_docstring(defs, defn):
            edit = write_docstring(engine, source, plan_docstring(source, defn, style))
            assert edit is not None
            edits.append(edit)
    return apply_edits(source.text, edits)


def test_docstrings_go_under_each_header_with_the_body_indentation():
    after = write_all(None, CODE)
    assert (
        after
        == '''class Shape:
    """_summary_"""

    def area(self, scale: float = 1.0) -> float:  # the area
        """_summary_

        Args:
            scale (float): _description_

        Returns:
            float: _description_
        """
        return 0.0 * scale


def helper(x):
    """_summary_

    Args:
        x: _description_

    Returns:
        _description_
    """
    return x
'''
    )


def test_whatever_the_model_writes_the_file_still_parses():
    nasty = ['sum """ of \\', "'''x'''", "\\", 'a "quoted" word"', "*/ done", "\n\n", "ok then"]
    for style in ("google", "numpy", "sphinx"):
        after = write_all(ScriptedEngine(nasty), CODE, style)
        ast.parse(after)
        assert all(d.docstring is not None for d in find_definitions(after, "python"))
    js = "function add(a, b) {\n  return a + b;\n}\n"
    after = write_all(ScriptedEngine(nasty), js, uri="file:///a.js")
    assert not syntax_errors(after, "javascript") and after.count("*/") == 1


def test_slots_are_filled_as_fill_in_the_middle_in_order():
    engine = ScriptedEngine(["Compute the area.", "how much to scale", "the area"])
    source = SourceText.from_text("file:///a.py", CODE)
    area = find_definitions(source.text, "python")[1]
    edit = write_docstring(engine, source, plan_docstring(source, area, "google"))
    assert edit is not None and edit.filled == 3
    assert (
        "Compute the area.\n" in edit.new_text
        and "scale (float): how much to scale" in edit.new_text
    )
    first = engine.prompts[0]
    prefix, suffix, order = TINY.parse_prompt(first)
    assert order == TINY.default_order  # the order the model is served in
    assert prefix.endswith('-> float:  # the area\n        """')
    assert suffix.startswith(
        "\n\n        Args:\n            scale (float): \n"
    )  # later slots empty
    assert "return 0.0 * scale" in suffix
    assert "Compute the area.\n\n        Args:\n            scale (float): " in engine.prompts[1]


def test_a_looping_slot_keeps_its_placeholder():
    the_the = "Return the the the the the the the the the the the the the."
    engine = ScriptedEngine([the_the, "how much to scale", "the guard_guard_guard_guard"])
    source = SourceText.from_text("file:///a.py", CODE)
    area = find_definitions(source.text, "python")[1]
    edit = write_docstring(engine, source, plan_docstring(source, area, "google"))
    assert edit is not None and edit.filled == 1
    assert edit.new_text == (
        '        """_summary_\n\n'
        "        Args:\n            scale (float): how much to scale\n\n"
        "        Returns:\n            float: _description_\n"
        '        """\n'
    )
    assert "the the" not in edit.new_text and "guard" not in edit.new_text


def test_cancelled_writing_returns_nothing():
    token = CancelToken()
    token.cancel()
    source = SourceText.from_text("file:///a.py", CODE)
    plan = plan_docstring(source, find_definitions(source.text, "python")[0], "google")
    assert write_docstring(ScriptedEngine(["x"]), source, plan, cancel=token) is None


def test_fim_window_keeps_the_nearest_lines_within_budget():
    prefix = "".join(f"line {i}\n" for i in range(1000))
    suffix = "".join(f"\nafter {i}" for i in range(1000))
    head, tail = fim_window(prefix, suffix, lambda t: len(t) // 3, max_tokens=300)
    assert prefix.endswith(head) and head.startswith("line ") and len(head) // 3 <= 210
    assert suffix.startswith(tail) and len(tail) // 3 <= 90


FRESH = ["def area(w, h):\n", '    """\n', "    return w * h\n"]


def test_docstring_site_recognises_a_fresh_docstring_under_a_def():
    site = docstring_site(FRESH, 1, 7)
    assert site is not None and (site.quote, site.indent, site.closed) == ('"""', "    ", False)
    closed = ["def area(w, h):\n", '    """"""\n', "    return w * h\n"]
    assert docstring_site(closed, 1, 7).closed
    multi = ["async def f(\n", "    a,\n", "):  # note\n", "    r'''Sum", "\n"]
    assert docstring_site(multi, 3, 11) is not None
    assert docstring_site(["x = 1\n", '    """\n'], 1, 7) is None  # no def above
    assert docstring_site(["def f():\n", "    if x:\n", '        """\n'], 2, 11) is None
    assert docstring_site(["def f():\n", '    """done"""\n'], 1, 7) is None
    assert docstring_site(["def f():\n", '    x = """\n'], 1, 11) is None


def test_docstring_completion_is_shaped_and_closed():
    ctx = FilterContext(prefix='def area(w, h):\n    """', suffix="\n    return w * h\n")
    site = docstring_site(FRESH, 1, 7)
    one = finish_docstring('Area of the box."""\n    return 1', ctx, site)
    assert one.text == 'Area of the box."""'
    many = finish_docstring("Area.\n\nArgs:\n    w: width\\", ctx, site)
    assert many.text == 'Area.\n\n    Args:\n        w: width\n    """'
    closed = docstring_site(["def area(w, h):\n", '    """"""\n'], 1, 7)
    assert finish_docstring("Area.\n\nMore.", ctx, closed).text == "Area.\n\n    More.\n    "
    assert finish_docstring('Say "hi"', ctx, closed).text == 'Say "hi".'
    assert finish_docstring("   \n", ctx, site) is None
    looping = 'Antry.guard_guard_guard_guard_guard(foliolioliolio.hold.ink_guard_into."""'
    assert finish_docstring(looping, ctx, site) is None
    assert finish_docstring("Return the the the the the the the the the the.", ctx, site) is None
