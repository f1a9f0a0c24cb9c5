"""`codegen-train gate` on a synthetic acceptance log with a known accept-and-keep rule.

The acceptance test: at the threshold the trainer picks, the gate withholds at least 30%
of the held-out suggestions the user rejected while losing at most 5% of those they
accepted and kept; the figures are recomputed here from gate.json through the server's
runtime (codegen.core.gate), and checked again on a fresh log from later days.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.core.gate import Gate
from codegen.core.usage_log import collect
from codegen.training.cli import main
from codegen.training.gate.data import split_by_time
from codegen.training.gate.fit import fit_gate
from codegen.training.gate.tradeoff import at_thresholds, pick_threshold, trade_off

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
import synthetic_usage  # noqa: E402

CLI = Path(sys.executable).with_name("codegen-train")
N = 6000
"""Suggestions in the training log: 4,500 to train on, 1,500 held out."""


def shown(records):
    return sorted((s for s in collect(records) if s.shown), key=lambda s: s.ts)


def gate_figures(gate: Gate, suggestions) -> tuple[float, float]:
    """(share of negatives withheld, share of positives lost) by ``gate.allows``."""
    pos = [s for s in suggestions if s.label]
    neg = [s for s in suggestions if not s.label]
    withheld = sum(not gate.allows(s.features) for s in neg) / len(neg)
    lost = sum(not gate.allows(s.features) for s in pos) / len(pos)
    return withheld, lost


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The console script, run once on N synthetic suggestions over five days."""
    root = tmp_path_factory.mktemp("gate")
    log = synthetic_usage.write_log(root / "acceptance.jsonl", synthetic_usage.synthetic_records(N))
    with log.open("a") as fh:
        fh.write('{"torn": \n')
    out = root / "out"
    run = subprocess.run(
        [str(CLI), "gate", "--log", str(log), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return log, out, run.stdout


def test_acceptance_withholds_rejected_and_keeps_accepted(trained):
    log, out, stdout = trained
    metrics = json.loads((out / "metrics.json").read_text())
    held = metrics["held_out"]
    print(
        f"\nheld out: withholds {held['withheld_rejected']:.1%} of rejected, loses "
        f"{held['lost_accepted']:.1%} of accepted (threshold {held['threshold']:.4f}, "
        f"AUC {held['auc']:.3f}); mean_logprob alone: "
        f"{metrics['baseline']['withheld_rejected']:.1%}"
    )
    assert held["withheld_rejected"] >= 0.30
    assert held["lost_accepted"] <= 0.05
    assert held["withheld_rejected"] > metrics["baseline"]["withheld_rejected"]
    assert "threshold=" in stdout and str(out / "gate.json") in stdout

    # The same figures from gate.json through the runtime the server uses.
    gate = Gate.load(out / "gate.json")
    assert gate.threshold == pytest.approx(held["threshold"], abs=1e-6)
    _, held_out = split_by_time(shown(synthetic_usage.synthetic_records(N)), 0.25)
    assert len(held_out) == held["positives"] + held["negatives"] == 1500
    withheld, lost = gate_figures(gate, held_out)
    assert withheld == pytest.approx(held["withheld_rejected"], abs=1e-6)
    assert lost == pytest.approx(held["lost_accepted"], abs=1e-6)


def test_fresh_log_from_later_days(trained):
    """New suggestions the trainer never saw. The threshold sits at the 5% mark of ~500
    held-out positives, so on new data the loss lands within a couple of points of it."""
    gate = Gate.load(trained[1] / "gate.json")
    week_later = synthetic_usage.START_TS + 7 * 86_400
    fresh = shown(synthetic_usage.synthetic_records(4000, seed=1, start_ts=week_later))
    withheld, lost = gate_figures(gate, fresh)
    print(f"\nfresh log: withholds {withheld:.1%} of rejected, loses {lost:.1%} of accepted")
    assert withheld >= 0.30
    assert lost <= 0.075


def test_outputs_report_and_curve(trained):
    _, out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["unreadable_lines"] == 1
    assert metrics["data"]["train"]["suggestions"] == 4500
    assert metrics["data"]["train"]["to"] <= metrics["data"]["held_out"]["from"]
    curve = metrics["curve"]
    assert len(curve) == 101 and curve[0]["withheld_rejected"] == 0.0
    for a, b in zip(curve, curve[1:], strict=False):  # both fractions grow with the threshold
        assert a["withheld_rejected"] <= b["withheld_rejected"]
        assert a["lost_accepted"] <= b["lost_accepted"]
    # the known rule: mean_logprob and first_margin help, length hurts
    weights = metrics["model"]["weights"]
    assert weights["mean_logprob"] > 0.3 and weights["first_margin"] > 0.3
    assert weights["length_chars"] < -0.1
    report = (out / "report.md").read_text()
    assert "## At the chosen threshold" in report and "![trade-off](tradeoff.png)" in report
    assert (out / "tradeoff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runtime_probability_matches_scikit_learn():
    """The folded pure-Python decision equals sklearn's pipeline on the same vectors."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = shown(synthetic_usage.synthetic_records(600, seed=3))
    fitted = fit_gate(train, seed=0)
    x = [fitted.gate.encode(s.features) for s in train]
    y = [s.label for s in train]
    reference = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=fitted.c, class_weight=fitted.class_weight, max_iter=2000),
    ).fit(x, y)
    expected = reference.predict_proba(x)[:, 1]
    ours = [fitted.gate.probability(s.features) for s in train]
    assert ours == pytest.approx(list(expected), abs=1e-6)


def test_trade_off_by_hand():
    scores = [0.1, 0.2, 0.2, 0.4, 0.6, 0.8]
    labels = [False, True, False, False, True, True]
    curve = trade_off(scores, labels)
    assert [(p.withheld_rejected, p.lost_accepted) for p in curve] == [
        (0, 0), (1 / 3, 0), (2 / 3, 1 / 3), (1, 1 / 3), (1, 2 / 3), (1, 1)
    ]  # fmt: skip
    assert curve[0].threshold == -math.inf and curve[-1].threshold == math.inf
    assert [p.threshold for p in curve[1:5]] == pytest.approx([0.15, 0.3, 0.5, 0.7])
    assert pick_threshold(curve, 0.05).threshold == pytest.approx(0.15)
    assert pick_threshold(curve, 0.34).threshold == pytest.approx(0.5)  # most withheld, 1 lost
    grid = at_thresholds(scores, labels, [0.0, 0.2, 0.5])
    assert [(p.withheld_rejected, p.lost_accepted, p.shown) for p in grid] == [
        (0, 0, 1), (pytest.approx(1 / 3), 0, pytest.approx(5 / 6)),
        (1, pytest.approx(1 / 3), pytest.approx(1 / 3)),
    ]  # fmt: skip


def _write(tmp_path, records) -> Path:
    return synthetic_usage.write_log(tmp_path / "log.jsonl", records)


def test_too_little_data_and_one_class_are_one_line_errors(tmp_path, capsys):
    out = str(tmp_path / "out")
    small = _write(tmp_path, synthetic_usage.synthetic_records(30, seed=0))
    assert main(["gate", "--log", str(small), "--out", out]) == 2
    records = [r for r in synthetic_usage.synthetic_records(300) if r["event"] == "shown"]
    one_class = _write(tmp_path, records)  # nothing ever taken
    assert main(["gate", "--log", str(one_class), "--out", out]) == 2
    assert main(["gate", "--log", str(tmp_path / "missing.jsonl"), "--out", out]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("codegen-train: error: ") for line in err)
    assert "30 shown suggestions with gate features" in err[0] and "at least 50" in err[0]
    assert "all 300 shown suggestions were rejected or not kept" in err[1]
    assert "no acceptance log at" in err[2]
    assert not (tmp_path / "out").exists()


def test_a_held_out_part_without_positives_is_an_error(tmp_path, capsys):
    records = synthetic_usage.synthetic_records(400)
    cut = sorted(r["ts"] for r in records if r["event"] == "shown")[300]
    late = {r["id"] for r in records if r["event"] == "shown" and r["ts"] >= cut}
    kept = [r for r in records if r["id"] not in late or r["event"] == "shown"]
    assert main(["gate", "--log", str(_write(tmp_path, kept)), "--out", str(tmp_path / "o")]) == 2
    assert "the held-out part has 0 accepted-and-kept" in capsys.readouterr().err


def test_bad_fractions_are_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["gate", "--log", "x", "--out", str(tmp_path), "--target-loss", "5"])
    assert exit_.value.code == 2
    assert "wants a fraction between 0 and 1" in capsys.readouterr().err
