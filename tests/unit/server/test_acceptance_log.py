"""The acceptance log file (rotation, redaction, erase, unwritable paths), the accept-rate
feature, and the retention measure's pure parts."""

from __future__ import annotations

import json

import pytest

from codegen.core.usage_log import SCHEMA, read_records, rotated_files
from codegen.server.acceptance_log import AcceptanceLog, erase
from codegen.server.completion.gating import context_kind, scores_of
from codegen.server.completion.retention import retained_match, shift_line, window
from codegen.server.features.acceptance import code_points, id_of
from codegen.server.options import AcceptanceLogOptions


def make_log(tmp_path, **options) -> AcceptanceLog:
    log = AcceptanceLog()
    log.options = AcceptanceLogOptions(enabled=True, path=str(tmp_path / "a.jsonl"), **options)
    return log


def offer(log: AcceptanceLog, sid: str, text: str = "x = 1", prefix: str = "") -> None:
    log.offered(sid, {"uri": "file:///a.py", "text": text, "prefix": prefix, "suffix": ""})


def test_rows_carry_the_schema_and_the_suggestion(tmp_path):
    log = make_log(tmp_path)
    offer(log, "a")
    assert log.record("shown", "a")["schema"] == SCHEMA
    assert log.record("accepted", "a")["text"] == "x = 1"
    assert log.record("rejected", "a") is None  # decided: forgotten
    assert log.record("shown", "nope") is None
    rows = read_records([log.path])
    assert [r["event"] for r in rows] == ["shown", "accepted"]


def test_rotation_keeps_the_newest_files_and_readers_take_them_all(tmp_path):
    log = make_log(tmp_path, max_bytes=600, keep_files=2)
    for i in range(30):
        offer(log, f"s{i}", text="y" * 50)
        log.record("shown", f"s{i}")
    files = rotated_files(log.path)
    assert [f.name for f in files] == ["a.jsonl.2", "a.jsonl.1", "a.jsonl"]
    assert all(f.stat().st_size <= 600 for f in files)
    ids = [r["id"] for r in read_records([log.path])]
    assert ids == sorted(ids, key=lambda s: int(s[1:])) and ids[-1] == "s29"
    assert len(ids) < 30  # the oldest went with the deleted file
    assert erase(log.path) == files and not any(f.exists() for f in files)


def test_secrets_are_redacted_before_writing(tmp_path):
    log = make_log(tmp_path)
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    offer(log, "a", text=f"aws = '{key}'", prefix=f"KEY = '{key}'\n")
    log.record("shown", "a")
    text = log.path.read_text()
    assert key not in text and "REDACTED" in text
    assert json.loads(text)["text"].startswith("aws = ")


def test_an_unwritable_path_loses_the_row_but_never_raises(tmp_path):
    (tmp_path / "file").write_text("")
    log = AcceptanceLog()
    log.options = AcceptanceLogOptions(enabled=True, path=str(tmp_path / "file" / "a.jsonl"))
    offer(log, "a")
    assert log.record("shown", "a") is None and log.errors == 1


def test_recent_accept_rate_counts_each_decided_suggestion_once(tmp_path):
    log = make_log(tmp_path)
    assert log.recent_accept_rate() == 0.5
    for sid, events in (("a", ["partial", "partial", "accepted"]), ("b", ["rejected"])):
        offer(log, sid)
        for event in events:
            log.record(event, sid)
    assert log.recent_accept_rate() == 0.5
    offer(log, "c")
    log.record("accepted", "c")
    assert log.recent_accept_rate() == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "accepted,haystack,chars",
    [
        ("return a + b", "def f(a, b):\n    return a + b\n", 12),
        ("return a + b", "def f(a, b):\n    return a - b\n", 11),
        ("return a + b", "def f(a, b):\n    pass\n", 0),  # deleted: chance likeness is 0
        ("", "anything", 0),
        ("x", "", 0),
    ],
)
def test_retained_match(accepted, haystack, chars):
    match = retained_match(accepted, haystack)
    assert match.retained_chars == chars
    assert (match.kept != "") == (chars > 0)


def test_shift_line_and_window():
    assert shift_line(10, 2, 2, "a\nb\n") == 12  # two lines added above
    assert shift_line(10, 3, 5, "") == 8  # two lines removed above
    assert shift_line(10, 11, 11, "q\n") == 10  # below: unmoved
    assert shift_line(10, 9, 12, "z") == 9  # around it: pinned to the edit's start
    lines = [f"{i}\n" for i in range(20)]
    assert window(lines, 10, "one line") == "".join(lines[7:14])


def test_event_params_in_every_shape():
    assert id_of({"id": "a"}) == "a"
    assert id_of({"item": {"command": {"arguments": ["b"]}}}) == "b"
    for bad in ({}, {"item": None}, {"item": {"command": {"arguments": [1]}}}, None, 3):
        assert id_of(bad) is None
    assert code_points("a😋b", 3) == 2 and code_points("a😋b", 2) == 1
    assert code_points("abc", 10) == 3


def test_gate_features_helpers():
    assert context_kind("    ", "", False) == "empty_line"
    assert context_kind("x = f(", ")", False) == "mid_line"
    assert context_kind("def f():", "", False) == "after_colon"
    assert context_kind("x = 1", "", False) == "end_of_line"
    assert context_kind("", "", True) == "docstring"
    scores = scores_of([-1.0, -3.0], 0.5)
    assert (scores.mean_logprob, scores.min_logprob, scores.first_margin) == (-2.0, -3.0, 0.5)
    assert scores_of([], None).mean_logprob is None


def test_the_newest_retention_of_a_delay_counts():
    from codegen.core.usage_log import collect

    base = {"schema": "codegen.usage/1", "id": "a", "text": "abcdef", "uri": "file:///a.py"}
    rows = [
        {**base, "ts": 1, "event": "partial", "accepted_chars": 3},
        {**base, "ts": 2, "event": "retained", "after_s": 30.0, "retained_chars": 3,
         "retained_fraction": 1.0, "kept": "abc"},
        {**base, "ts": 3, "event": "accepted"},
        {**base, "ts": 4, "event": "retained", "after_s": 30.0, "retained_chars": 6,
         "retained_fraction": 1.0, "kept": "abcdef"},
    ]  # fmt: skip
    (s,) = collect(rows)
    assert [r.retained_chars for r in s.retention] == [6]
    assert s.accepted and s.partial_chars == 3 and s.taken_chars == 6
