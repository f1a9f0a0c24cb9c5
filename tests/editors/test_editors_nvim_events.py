"""The Neovim plugin's acceptance events: what it reports about each suggestion.

First against the in-process fake server of nvim/fake_server.lua, which answers three
items and records every event, so that the exact sequence can be checked: shown once per
item put on screen (cycling included), partial accepts with growing UTF-16 lengths of
the same item, the accept command when the last part goes in, dismissals. Then against
the real codegen-lsp with its acceptance log on: the log it writes, retention included.
"""

from __future__ import annotations

import json

import pytest

from codegen.core.usage_log import collect, read_records

from .test_editors_nvim import ready

ITEMS = ["naïve = '😀' + value", "second()", "third()"]


def shown(sid: str) -> tuple:
    return ("textDocument/didShowCompletion", sid)


def rejected(sid: str) -> tuple:
    return ("codegen/didRejectCompletion", sid)


def partial(sid: str, units: int) -> tuple:
    return ("textDocument/didPartiallyAcceptCompletion", sid, units)


def accepted(sid: str) -> tuple:
    return ("codegen.acceptCompletion", sid)


def summary(event: dict) -> tuple:
    """An event as (method, suggestion id[, acceptedLength])."""
    method, params = event["method"], event["params"]
    if method == "codegen.acceptCompletion":
        return (method, params[0])
    if method == "codegen/didRejectCompletion":
        return (method, params["id"])
    sid = params["item"]["command"]["arguments"][0]
    if method == "textDocument/didPartiallyAcceptCompletion":
        return (method, sid, params["acceptedLength"])
    return (method, sid)


@pytest.mark.parametrize("inline", ["native", "fallback"])
def test_events_for_cycling_partial_accepts_and_dismissals(start_nvim, tmp_path, inline) -> None:
    code = tmp_path / "events.py"
    code.write_text("x = 1\n\n\n")
    nvim = start_nvim(code, inline=inline, fake_items=ITEMS)
    ready(nvim)

    def ghost_is(expected: str, what: str) -> None:
        nvim.wait(lambda: nvim.ghost() == expected, 10, f"{what}: ghost {nvim.ghost()!r}")

    def line_is(expected: str, what: str) -> None:
        nvim.wait(lambda: nvim.expr("getline(3)") == expected, 5, f"{what}: {nvim.buffer()!r}")

    # Every item of the answer, shown in turn; going round again reports nothing new.
    nvim.send("3GA")
    ghost_is(ITEMS[0], "first item")
    nvim.send("<M-]>")
    ghost_is(ITEMS[1], "next")
    nvim.send("<M-]>")
    ghost_is(ITEMS[2], "next again")
    nvim.send("<M-]>")
    ghost_is(ITEMS[0], "wrapped around")
    nvim.send("<M-[>")
    ghost_is(ITEMS[2], "previous")
    nvim.send("<C-]>")
    ghost_is("", "dismissed")

    # Partial accepts of one item: its rest stays on screen, lengths grow (UTF-16 units:
    # "ï" is one, "😀" two), and the last part reports the accept.
    nvim.send("<Esc>A")
    ghost_is(ITEMS[0], "a new answer")
    nvim.send("<M-Right>")
    line_is("naïve", "accept word")
    ghost_is(" = '😀' + value", "the rest of the item")
    nvim.send("<M-Right>")
    line_is("naïve =", "second word")
    ghost_is(" '😀' + value", "the rest after two words")
    nvim.send("<M-Right>")
    line_is("naïve = '", "third word")
    nvim.send("<M-Right>")
    line_is("naïve = '😀", "fourth word")
    ghost_is("' + value", "the rest after four words")
    nvim.send("<M-C-Right>")
    line_is(ITEMS[0], "accept line")

    # Tab accepts whole; leaving insert mode and moving away dismiss.
    ghost_is(ITEMS[0], "the answer after the accept")
    nvim.send("<Tab>")
    line_is(ITEMS[0] * 2, "Tab")
    ghost_is(ITEMS[0], "the answer after Tab")
    nvim.send("<Esc>")
    ghost_is("", "left insert mode")
    nvim.send("A")
    ghost_is(ITEMS[0], "asked again")
    nvim.send("<Left>")

    def events() -> list[tuple]:
        return [summary(e) for e in json.loads(nvim.expr("v:lua.codegen_e2e.fake_events()"))]

    nvim.wait(lambda: rejected("a5-1") in events(), 5, f"no dismissal on moving: {events()}")
    got = events()
    got = got[: got.index(rejected("a5-1")) + 1]
    # The three dismissed items, in any order.
    assert sorted(got[3:6]) == sorted(rejected(f"a1-{i}") for i in (1, 2, 3)), got
    assert got[:3] + got[6:] == [
        *(shown(f"a1-{i}") for i in (1, 2, 3)),
        shown("a2-1"),
        partial("a2-1", 5),
        partial("a2-1", 7),
        partial("a2-1", 9),
        partial("a2-1", 11),
        accepted("a2-1"),
        shown("a3-1"),
        accepted("a3-1"),
        shown("a4-1"),
        rejected("a4-1"),
        shown("a5-1"),
        rejected("a5-1"),
    ], got
    # The events carry the item as the server sent it, also for the rest of a partly accepted one.
    raw = json.loads(nvim.expr("v:lua.codegen_e2e.fake_events()"))
    partials = [e for e in raw if e["method"] == "textDocument/didPartiallyAcceptCompletion"]
    assert {e["params"]["item"]["insertText"] for e in partials} == {ITEMS[0]}


@pytest.mark.parametrize("inline", ["native", "fallback"])
def test_the_text_an_item_covers_is_replaced_once_all_of_it_is_in(
    start_nvim, tmp_path, inline
) -> None:
    """An item whose range covers the ")" after the cursor: a partial accept inserts before
    it, the accept of the rest replaces it."""
    code = tmp_path / "cover.py"
    code.write_text("print()\n")
    nvim = start_nvim(code, inline=inline, fake_items=[{"text": "x, y)", "cover": 1}])
    ready(nvim)
    nvim.send("1G$i")
    nvim.wait(lambda: nvim.ghost() == "x, y)", 10, f"no suggestion: {nvim.ghost()!r}")
    nvim.send("<M-Right>")
    nvim.wait(lambda: nvim.ghost() == ", y)", 10, f"no rest: {nvim.ghost()!r}")
    assert nvim.expr("getline(1)") == "print(x)"
    nvim.send("<Tab>")
    nvim.wait(lambda: nvim.expr("getline(1)") == "print(x, y)", 5, nvim.buffer())
    events = [summary(e) for e in json.loads(nvim.expr("v:lua.codegen_e2e.fake_events()"))]
    assert events[:3] == [shown("a1-1"), partial("a1-1", 1), accepted("a1-1")], events


TEXT = "result = compute(alpha, beta)"


def test_acceptance_log_of_a_session_with_the_real_server(start_nvim, tmp_path) -> None:
    """Accepts (whole, in parts, partly), dismissals and a deleted accept, in the log the
    real server writes; each spot is more than 3 lines (the retention window) from the
    others, as the fake engine suggests the same text everywhere. The default mode
    (native); both modes send the same events (the test above)."""
    log = tmp_path / "acceptance.jsonl"
    code = tmp_path / "loop.py"
    code.write_text("# the loop\n" + "\n" * 45)
    settings = {"enabled": True, "path": str(log), "retainSeconds": [1.5, 3.0]}
    nvim = start_nvim(code, model=f"fake:{TEXT}", setup={"acceptance_log": settings})
    ready(nvim)

    def line(n: int) -> str:
        return nvim.expr(f"getline({n})")

    def at(n: int) -> None:
        """Starts inserting on the (empty) line `n` and waits for the suggestion."""
        nvim.send(f"<Esc>{n}GA")
        nvim.wait(lambda: nvim.ghost() == TEXT, 15, f"no suggestion on line {n}: {nvim.ghost()!r}")

    def until(n: int, expected: str) -> None:
        nvim.wait(lambda: line(n) == expected, 5, f"line {n}: {line(n)!r}, not {expected!r}")

    at(3)  # accepted whole, kept
    nvim.send("<Tab>")
    until(3, TEXT)
    at(11)  # accepted in parts: word, word, rest of the line; kept
    nvim.send("<M-Right>")
    until(11, "result")
    nvim.wait(lambda: nvim.ghost() == " = compute(alpha, beta)", 10, "no rest shown")
    nvim.send("<M-Right>")
    until(11, "result =")
    nvim.send("<M-C-Right>")
    until(11, TEXT)
    at(19)  # one word taken, the rest left
    nvim.send("<M-Right>")
    until(19, "result")
    at(27)  # dismissed
    nvim.send("<C-]>")
    nvim.wait(lambda: nvim.ghost() == "", 5, "<C-]> did not dismiss")
    at(31)  # dismissed by leaving insert mode
    nvim.send("<Esc>")
    at(39)  # accepted, then the line deleted
    nvim.send("<Tab>")
    until(39, TEXT)
    nvim.send("<Esc>dd")
    until(39, "")
    nvim.send("<Esc>")

    def retained_rows() -> int:
        if not log.exists():
            return 0
        return sum(json.loads(row)["event"] == "retained" for row in log.read_text().splitlines())

    nvim.wait(lambda: retained_rows() >= 8, 20, f"retention not measured: {retained_rows()} rows")
    rows = read_records([log])
    assert {"shown", "accepted", "partial", "rejected", "retained"} <= {r["event"] for r in rows}
    # The suggestions the session acted on were offered at column 0 of those lines (the
    # ones offered after an accept, at the end of a line, were dismissed or ignored).
    spot = {s.line: s for s in collect(rows) if s.col == 0}
    whole, parts, word, dismissed, left, deleted = (spot[n] for n in (2, 10, 18, 26, 30, 38))
    assert all(s.shown for s in spot.values())
    assert whole.accepted and not whole.rejected and whole.partial_chars == 0
    assert [r.retained_chars for r in whole.retention] == [len(TEXT)] * 2
    assert parts.accepted and parts.partial_chars == len("result =")
    # Each accept (partial ones too) starts the checks again; all of what was taken is kept.
    assert parts.final_retention.retained_chars == len(TEXT)
    assert {r.retained_chars for r in parts.retention} <= {
        len("result"),
        len("result ="),
        len(TEXT),
    }
    assert word.partial_chars == len("result") and not word.accepted and not word.rejected
    assert [r.retained_chars for r in word.retention] == [len("result")] * 2
    assert dismissed.rejected and left.rejected
    assert not dismissed.taken and not dismissed.retention and not left.taken
    assert deleted.accepted and deleted.final_retention.retained_chars == 0
    assert not deleted.label and whole.label and parts.label and word.label
    assert {r.status for s in (whole, parts, word, deleted) for r in s.retention} == {"measured"}
