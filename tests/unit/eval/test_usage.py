"""`codegen-eval usage` on a small hand-made acceptance log whose figures are checked by hand."""

from __future__ import annotations

import json

import pytest

from codegen.eval.cli import main
from codegen.eval.usage import percentile, pick_bucket, usage_metrics

T0 = 1_767_000_000.0  # 2025-12-29 09:20:00 UTC


def event(sid, event, ts, text, language="python", adapter=None, latency=100.0, **extra):
    row = {
        "schema": "codegen.usage/1", "ts": T0 + ts, "event": event, "id": sid,
        "uri": f"file:///p/m.{'py' if language == 'python' else 'go'}", "language": language,
        "model": "builtin:tiny", "adapter": adapter, "source": "model", "text": text,
        "features": {"mean_logprob": -0.5},
    }  # fmt: skip
    if latency is not None:
        row["latency_ms"] = latency
    return {**row, **extra}


def retained(sid, ts, text, after, chars, **kw):
    return event(sid, "retained", ts, text, after_s=after, retained_chars=chars,
                 retained_fraction=chars / len(text), kept=text[:chars], status="measured",
                 **kw)  # fmt: skip


S1, S2, S3 = "abcdefghij", "0123456789ABCDEFGHIJ", "xyz"
S4, S5, S6 = "hello world!", "abcd", "zzzzz"
GO = {"language": "go", "adapter": "team-a"}
HOUR = 3600
ROWS = [
    # 09:20 hour: s1 accepted whole, s2 taken in two partial steps (5 then 8 chars), s3 rejected
    event("s1", "shown", 0, S1),
    event("s1", "accepted", 1, S1),
    retained("s1", 31, S1, 30.0, 10),
    retained("s1", 121, S1, 120.0, 8),
    event("s2", "shown", 10, S2, latency=200.0),
    event("s2", "partial", 12, S2, latency=200.0, accepted_chars=5),
    event("s2", "partial", 13, S2, latency=200.0, accepted_chars=8),
    retained("s2", 43, S2, 30.0, 8, latency=200.0),
    retained("s2", 133, S2, 120.0, 4, latency=200.0),
    event("s3", "shown", 20, S3, adapter="team-a", latency=300.0),
    event("s3", "rejected", 21, S3, adapter="team-a", latency=300.0),
    # 10:20 hour: s4 accepted (log ends before 120 s), s5 partly taken, never measured,
    # no latency; s6 shown and typed over
    event("s4", "shown", HOUR + 5, S4, latency=400.0, **GO),
    event("s4", "accepted", HOUR + 6, S4, latency=400.0, **GO),
    retained("s4", HOUR + 36, S4, 30.0, 6, latency=400.0, **GO),
    event("s5", "shown", HOUR + 50, S5, latency=None, **GO),
    event("s5", "partial", HOUR + 51, S5, latency=None, accepted_chars=2, **GO),
    event("s6", "shown", HOUR + 60, S6, language="go", latency=500.0),
    # a retention record for a suggestion whose shown event is not in the log
    retained("s7", HOUR + 70, S6, 30.0, 5),
]


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "acceptance.jsonl"
    lines = [json.dumps(r) for r in ROWS]
    lines.insert(3, "{torn line")
    lines.insert(7, json.dumps({"something": "else"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_overall_figures(log):
    m = usage_metrics([log])
    assert (m["records"], m["unreadable_lines"], m["suggestions"], m["not_shown"]) == (18, 2, 7, 1)
    f = m["overall"]
    assert (f["shown"], f["accepted"], f["partial"], f["taken"]) == (6, 2, 2, 4)
    assert f["accept_rate"] == pytest.approx(4 / 6, abs=1e-4)
    assert f["partial_chars"] == {"count": 2, "median": 5, "mean": 5}  # s2 took 8, s5 took 2
    assert f["accepted_chars"] == 10 + 8 + 12 + 2
    assert f["retained"]["30s"] == {  # s1, s2, s4: 10 + 8 + 6 of 10 + 8 + 12
        "measured": 3, "accepted_chars": 30, "retained_chars": 24, "ratio": 0.8,
    }  # fmt: skip
    assert f["retained"]["120s"] == {  # s1, s2: 8 + 4 of 10 + 8
        "measured": 2, "accepted_chars": 18, "retained_chars": 12, "ratio": 0.6667,
    }  # fmt: skip
    # latencies 100..500 (s5 has none): p95 = 400 + 0.8 * (500 - 400)
    assert f["latency_ms"] == {"count": 5, "p50": 300.0, "p95": 480.0}


def test_groups_by_language_adapter_and_hour(log):
    m = usage_metrics([log])
    py, go = m["by_language"]["python"], m["by_language"]["go"]
    assert (py["shown"], py["taken"], go["shown"], go["taken"]) == (3, 2, 3, 2)
    assert py["latency_ms"] == {"count": 3, "p50": 200.0, "p95": 290.0}
    assert go["latency_ms"] == {"count": 2, "p50": 450.0, "p95": 495.0}
    assert go["retained"]["30s"]["ratio"] == 0.5 and go["retained"]["120s"]["ratio"] is None
    base, team = m["by_adapter"]["(base model)"], m["by_adapter"]["team-a"]
    assert (base["shown"], base["taken"], team["shown"], team["taken"]) == (3, 2, 3, 2)
    assert team["partial_chars"] == {"count": 1, "median": 2, "mean": 2}
    assert m["bucket"] == "hour"  # the log spans an hour
    assert list(m["over_time"]) == ["2025-12-29 09:00", "2025-12-29 10:00"]
    assert [b["accept_rate"] for b in m["over_time"].values()] == [0.6667, 0.6667]
    assert [b["latency_ms"]["p50"] for b in m["over_time"].values()] == [200.0, 450.0]


def test_percentile_and_buckets():
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5

    class At:
        def __init__(self, ts):
            self.ts = ts

    assert pick_bucket([At(0), At(86_400)]) == "hour"
    assert pick_bucket([At(0), At(3 * 86_400)]) == "day"
    assert pick_bucket([At(0), At(90 * 86_400)]) == "week"
    assert pick_bucket([At(0), At(90 * 86_400)], "day") == "day"


def test_cli_writes_report_metrics_and_plot(log, tmp_path, capsys):
    out = tmp_path / "usage"
    assert main(["usage", str(log), "--out", str(out), "--bucket", "day"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall"]["taken"] == 4 and list(metrics["over_time"]) == ["2025-12-29"]
    report = (out / "report.md").read_text()
    assert (
        "| all | 6 | 4 | 66.7% | 2 / 5 / 5 | 32 | 24 (80.0%) | 12 (66.7%) | 300 / 480 |" in report
    )
    assert "| go | 3 | 2 | 66.7% | 1 / 2 / 2 | 14 | 6 (50.0%) | - | 450 / 495 |" in report
    assert "## Over time (per day, UTC)" in report and "![usage](usage.png)" in report
    assert (out / "usage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert "accept rate 66.7% (4/6 shown)" in captured.out
    assert "2 unreadable lines skipped" in captured.err


def test_empty_and_missing_logs_are_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('not json\n\n{"x": 1}\n')
    assert main(["usage", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert main(["usage", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("codegen-eval: error: ") for line in err)
    assert "no shown suggestions" in err[0] and "0 records, 2 unreadable lines" in err[0]
    assert "no acceptance log at" in err[1]
    assert not (tmp_path / "o").exists()
