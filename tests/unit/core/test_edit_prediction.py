"""Edit-prediction formats: prompt -> target -> parsed region round trips for every
format, minimal edits, editable regions, and the reversal check."""

from __future__ import annotations

import pytest

from codegen.core.edit_prediction import (
    EDIT_FORMAT_NAMES,
    EditContext,
    EditEvent,
    TextEdit,
    apply_edits,
    editable_region,
    get_edit_format,
    minimal_edits,
    reverses_recent_edit,
)
from codegen.core.errors import ConfigError
from codegen.core.fim import QWEN, TINY

FILE = (
    "def area(width, height):\n"
    "    check(width)\n"
    "    check(height)\n"
    "    return width * height\n"
    "\n"
    "print(area(2, 3))\n"
)
RENAMED = FILE.replace("def area(width, height)", "def area(w, height)")
EVENT = EditEvent("geo.py", "def area(width, height):\n", "def area(w, height):\n", 0)


def context(text: str = RENAMED, line: int = 1) -> EditContext:
    start, end = editable_region(text, line, before=0, after=2)
    return EditContext("geo.py", text, start, end, start + 4, [EVENT], context_lines=1)


@pytest.mark.parametrize("name", EDIT_FORMAT_NAMES)
@pytest.mark.parametrize("fim", [TINY, QWEN], ids=["tiny", "qwen"])
def test_round_trip(name, fim):
    fmt = get_edit_format(name, fim)
    ctx = context()
    new_region = ctx.region.replace("width", "w")
    prompt = fmt.prompt(ctx)
    target = fmt.target(new_region)
    assert fmt.parse(target, ctx) == new_region
    # A generation that stopped on (and cut) the stop string parses the same.
    for stop in fmt.stop_strings:
        cut = target.find(stop)
        if cut >= 0:
            assert fmt.parse(target[:cut] + stop, ctx) == new_region
    assert "check(width)" in prompt and "w, height" in prompt
    assert not any(s in new_region for s in fmt.stop_strings)


def test_zeta_prompt_layout_and_malformed_output():
    fmt = get_edit_format("zeta")
    ctx = context()
    prompt = fmt.prompt(ctx)
    assert prompt.startswith("### Instruction:\n")
    assert 'User edited "geo.py":\n```diff\n@@ -1,1 +1,1 @@\n-def area(width' in prompt
    assert "<|editable_region_start|>\n    <|user_cursor_is_here|>check(width)" in prompt
    assert prompt.endswith("### Response:\n\n```geo.py\n")
    assert fmt.parse("no markers at all", ctx) is None
    assert fmt.parse("<|editable_region_start|>\nunterminated", ctx) is None


def test_events_most_recent_first_and_capped():
    events = [EditEvent("a.py", f"x{i}\n", f"y{i}\n", i) for i in range(5)]
    ctx = EditContext("a.py", "y4\n", 0, 3, 0, events)
    prompt = get_edit_format("codegen").prompt(ctx)
    assert prompt.index("+y4") < prompt.index("+y3") < prompt.index("+y2")
    assert "+y1" not in prompt  # three events at most by default


def test_sweep_shows_original_current_and_updated():
    ctx = EditContext("a.py", "b = 2\n", 0, 6, 0, [EditEvent("a.py", "a = 1\n", "b = 2\n")],
                      original_region="a = 1\n")  # fmt: skip
    prompt = get_edit_format("sweep", QWEN).prompt(ctx)
    assert prompt == (
        "<|file_sep|>a.py.diff\noriginal:\na = 1\nupdated:\nb = 2\n"
        "<|file_sep|>original/a.py\na = 1\n<|file_sep|>current/a.py\nb = 2\n"
        "<|file_sep|>updated/a.py\n"
    )


def test_minimal_edits_are_small_and_apply():
    ctx = context()
    new_region = ctx.region.replace("width", "w")
    edits = minimal_edits(ctx.region, new_region, ctx.region_start)
    assert apply_edits(ctx.text, edits) == ctx.text.replace("check(width)", "check(w)").replace(
        "return width *", "return w *"
    )
    assert all(len(e.text) <= 1 and e.end - e.start <= 5 for e in edits)
    assert minimal_edits("same\n", "same\n") == []
    assert minimal_edits("a\n", "a\nb\n") == [TextEdit(2, 2, "b\n")]


def test_editable_region_clamps_to_the_file():
    assert editable_region("a\nb\nc\n", 0, 2, 1) == (0, 4)
    assert editable_region("a\nb\nc", 2, 1, 5) == (2, 5)
    with pytest.raises(ConfigError):
        EditContext("a.py", "abc", 0, 2, 3)


def test_reversal_detects_undoing_a_recent_edit():
    text = RENAMED
    undo = [TextEdit(9, 10, "width")]  # "w" back to "width" in the header
    assert apply_edits(text, undo).startswith("def area(width, height)")
    assert reverses_recent_edit(undo, text, [EVENT])
    forward = minimal_edits(text, text.replace("check(width)", "check(w)"))
    assert not reverses_recent_edit(forward, text, [EVENT])
    assert not reverses_recent_edit([], text, [EVENT])
