"""Next-edit suggestions in Neovim, end to end: headless Neovim 0.12, the plugin, the real
codegen-lsp. The user renames a parameter in a function's header (typed into the buffer,
so the server sees the edit through didChange); the server suggests the same rename at
the next use, which the plugin shows away from the cursor. The accept key jumps to it,
then applies it and asks for the next one; the dismiss key hides that. The acceptance
log the server writes holds the events.

The model is a parameter of `rename_in_header`: with the fake engine (the reply is the
rewritten region) the suggestions are known exactly; a real model can be put in its place.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from codegen.core.usage_log import read_records

from .conftest import Nvim
from .test_editors_nvim import ready

TEXT = "def area(width, height):\n    check(width)\n    return width * height\n"
# The fake engine's reply: the region (here the whole file) with the rename finished.
RENAMED = "def area(w, height):\n    check(w)\n    return w * height\n"
FAKE_RENAME = "fake:" + RENAMED.replace("\n", "\\n") + "<|endoftext|>"


def next_edit(nvim: Nvim) -> dict[str, Any]:
    """The suggestion on screen: {edit, plan, cursor, marks} (tests/editors/nvim/init.lua)."""
    return nvim.lua_json("codegen_e2e.next_edit()")


def rename_in_header(
    start_nvim, tmp_path: Path, model: str, setup: dict[str, Any] | None = None
) -> tuple[Nvim, Path]:
    """Opens geo.py with the server on `model` (any --model value) and its acceptance log
    on, renames `width` to `w` in the header as a user would (`cw` in normal mode), and
    waits until a next edit is on screen. Returns Neovim and the log's path."""
    code = tmp_path / "geo.py"
    code.write_text(TEXT)
    log = tmp_path / "acceptance.jsonl"
    options = {
        "acceptance_log": {"enabled": True, "path": str(log)},
        "next_edit": {"debounce_ms": 50},
        **(setup or {}),
    }
    nvim = start_nvim(code, model=model, setup=options)
    ready(nvim, timeout=120)
    nvim.send("1G0fwcww<Esc>")
    nvim.wait(
        lambda: nvim.expr("getline(1)") == "def area(w, height):", 5, f"rename: {nvim.buffer()!r}"
    )
    nvim.wait(lambda: next_edit(nvim)["edit"], 60, f"no next edit: {next_edit(nvim)}")
    return nvim, log


def next_edit_rows(log: Path) -> list[dict]:
    return [r for r in read_records([log]) if r.get("kind") == "next_edit"] if log.exists() else []


def test_next_edit_is_shown_away_from_the_cursor_jumped_to_accepted_and_dismissed(
    start_nvim, tmp_path
) -> None:
    """One session (the server's start is most of the time): shown away from the cursor,
    jumped to, applied, the next one dismissed; the keys without a suggestion; on demand;
    a suggestion the user makes by hand is dropped with no event."""
    nvim, log = rename_in_header(start_nvim, tmp_path, FAKE_RENAME)

    def shown_id() -> str | None:
        edit = next_edit(nvim)["edit"]
        return edit["command"]["arguments"][0] if edit else None

    shown = next_edit(nvim)
    # The nearest use after the cursor: "width" in check(width) becomes "w" (idth deleted).
    assert shown["edit"]["range"] == {
        "start": {"line": 1, "character": 11},
        "end": {"line": 1, "character": 15},
    }
    assert shown["edit"]["text"] == ""
    assert shown["cursor"][0] == 0  # the cursor stays in the header
    marks = {(m.get("hl_group"), m["row"], m["col"], m.get("end_col")) for m in shown["marks"]}
    assert ("CodegenNextEditDelete", 1, 11, 15) in marks, shown["marks"]
    assert any(m.get("sign_text") == ">" and m["row"] == 1 for m in shown["marks"]), shown
    assert any("<Tab>: jump to the next edit" in m["virt_text"] for m in shown["marks"])
    first = shown_id()

    nvim.send("<Tab>")  # away from it: jumps
    nvim.wait(lambda: next_edit(nvim)["cursor"] == [1, 11], 5, f"no jump: {next_edit(nvim)}")
    assert nvim.buffer() == TEXT.replace("width", "w", 1).rstrip("\n")
    assert any("<Tab>: apply the next edit" in m["virt_text"] for m in next_edit(nvim)["marks"])

    nvim.send("<Tab>")  # at it: applies it, then the next one comes
    nvim.wait(
        lambda: nvim.expr("getline(2)") == "    check(w)", 5, f"not applied: {nvim.buffer()!r}"
    )
    second = nvim.wait(lambda: (i := shown_id()) not in (None, first) and i, 30, "no next edit")
    assert next_edit(nvim)["edit"]["range"]["start"] == {"line": 2, "character": 12}

    nvim.send("<Esc>")  # dismissed
    nvim.wait(lambda: not next_edit(nvim)["marks"], 5, f"not dismissed: {next_edit(nvim)}")
    # Nothing shown: <Esc> is <Esc>, <Tab> goes forward in the jump list; moving around
    # asks nothing at the version of the dismissal (the same suggestion would come back).
    nvim.send("<Esc>gg<C-o>")
    nvim.wait(lambda: nvim.expr("line('.')") == "2", 5, "no jump back")
    nvim.send("<Tab>")
    nvim.wait(lambda: nvim.expr("line('.')") == "1", 5, "<Tab> did not jump forward")
    time.sleep(0.5)  # the debounce (50 ms) and the fake engine's answer, had it been asked
    assert shown_id() is None and nvim.expr("getline(3)") == "    return width * height"

    nvim.send(":CodegenNextEdit<CR>")  # on demand
    third = nvim.wait(shown_id, 30, "no next edit on demand")
    nvim.send("3G0fwcww<Esc>")  # the user makes the suggested edit by hand
    nvim.wait(lambda: not next_edit(nvim)["marks"], 5, f"still shown: {next_edit(nvim)}")
    assert nvim.buffer() == RENAMED.rstrip("\n")

    def events() -> list[tuple[str, str]]:
        return [(r["event"], r["id"]) for r in next_edit_rows(log)]

    expected = [
        ("shown", first),
        ("accepted", first),
        ("shown", second),
        ("rejected", second),
        ("shown", third),
    ]
    nvim.wait(lambda: events() == expected, 10, f"log: {events()}")
    accepted = next(r for r in next_edit_rows(log) if r["event"] == "accepted")
    assert accepted["replaced"] == "idth" and accepted["text"] == ""
    time.sleep(0.5)  # the edit by hand reports nothing
    assert events() == expected
