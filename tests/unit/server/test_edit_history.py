"""Edit history: hunks coalesced per document with order and time, the recent-ranges
ring's eviction, the token budget, and turning predictions into grouped edits."""

from __future__ import annotations

from codegen.core.edit_prediction import TextEdit
from codegen.server.edits.history import DocumentHistory, RecentRanges, fit_chunks
from codegen.server.edits.next_edit import group_by_line, nearest_first, offset_of, position_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_typing_coalesces_into_one_hunk_and_a_pause_starts_another():
    clock = Clock()
    h = DocumentHistory("def f(width, h):\n    g(width)\n    k(width)\n", clock)
    h.change(0, 6, 0, 11, "")
    clock.now += 0.2
    h.change(0, 6, 0, 6, "w")
    clock.now += 5
    h.change(1, 6, 1, 11, "w")
    clock.now += 0.5
    h.change(2, 0, 2, 0, "    x = 1\n")  # the next line, soon after: the same hunk
    clock.now += 0.5
    h.change(0, 0, 0, 0, "import os\n")  # above it: a new hunk
    events = [(e.old, e.new, e.line) for e in h.events("a.py")]
    assert events == [
        ("def f(width, h):\n", "def f(w, h):\n", 0),
        ("    g(width)\n", "    g(w)\n    x = 1\n", 1),
        ("", "import os\n", 0),
    ]
    assert h.text == "import os\ndef f(w, h):\n    g(w)\n    x = 1\n    k(width)\n"
    assert [e.new for e in h.events("a.py", limit=1)] == ["import os\n"]


def test_undoing_an_edit_within_the_hunk_leaves_no_event():
    h = DocumentHistory("a = 1\n")
    h.change(0, 4, 0, 5, "2")
    h.change(0, 4, 0, 5, "1")
    assert h.events("a.py") == []


def test_out_of_range_changes_are_clamped_not_raised():
    h = DocumentHistory("a\n")
    h.change(9, 9, 12, 0, "x")
    h.change(0, 50, 0, 70, "!")
    assert h.text.startswith("a!")
    h.replace_all("whole\n")
    assert h.text == "whole\n" and h.events("a.py")[-1].new == "whole\n"


def test_ring_evicts_the_same_place_and_similar_chunks_and_respects_its_size():
    clock = Clock()
    ring = RecentRanges(size=3, lines=4, evict_similarity=0.7, clock=clock)
    lines = [f"value_{i} = compute_{i}()\n" for i in range(40)]
    ring.add("file:///a.py", "a.py", lines, 10)
    ring.add("file:///a.py", "a.py", lines, 11)  # the same place: replaces it
    assert len(ring.chunks) == 1
    ring.add("file:///b.py", "b.py", lines, 11)  # the same text elsewhere: too similar
    assert [c.uri for c in ring.chunks] == ["file:///b.py"]
    for i, uri in enumerate(["c", "d", "e", "f"]):
        ring.add(f"file:///{uri}.py", f"{uri}.py", lines, 5 + 8 * i)
    assert len(ring.chunks) == 3
    assert [c.path for c in ring.others("file:///f.py")] == ["e.py", "d.py"]
    ring.forget("file:///e.py")
    assert [c.path for c in ring.chunks] == ["d.py", "f.py"]


def test_fit_chunks_keeps_the_most_recent_within_budget():
    ring = RecentRanges(size=8, lines=2)
    for i in range(5):
        ring.add(f"file:///{i}.py", f"{i}.py", [f"name_{i} = {i}\n", f"other_{i} = {i}\n"], 0)
    chosen = fit_chunks(ring.others("file:///x.py"), lambda t: len(t) // 4, 30)
    assert [c.path for c in chosen] == ["3.py", "4.py"]  # oldest first, most recent last


def test_edits_grouped_per_line_and_nearest_after_the_cursor_first():
    text = "a = width\nb = width\nc = width\n"
    edits = [TextEdit(5, 9, ""), TextEdit(15, 19, ""), TextEdit(25, 29, "")]
    grouped = group_by_line([TextEdit(4, 5, "w"), TextEdit(5, 9, "")], text)
    assert grouped == [TextEdit(4, 9, "w")]
    order = nearest_first(edits, offset_of(text, 1, 0))
    assert [position_of(text, e.start)[0] for e in order] == [1, 2, 0]
