"""One ``codegen-train gate`` run, top to bottom: read and split the log, fit, score
the held-out part, pick the threshold for the loss target, write the outputs."""

from __future__ import annotations

import dataclasses
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codegen.core.gate import DEFAULTS, as_number

from .data import GateData, load_gate_data
from .fit import fit_gate
from .report import write_outputs
from .tradeoff import Point, at_thresholds, pick_threshold, trade_off

CURVE_THRESHOLDS = tuple(i / 100 for i in range(101))
"""Where metrics.json samples the held-out curve (probability thresholds)."""


def _span(part: Sequence[Any]) -> dict[str, Any]:
    fmt = "%Y-%m-%d %H:%M UTC"
    return {
        "suggestions": len(part),
        "accepted_and_kept": sum(s.label for s in part),
        "from": time.strftime(fmt, time.gmtime(part[0].ts)),
        "to": time.strftime(fmt, time.gmtime(part[-1].ts)),
    }


def _baseline_curve(data: GateData) -> list[Point]:
    """The obvious rule the gate should beat: a threshold on mean_logprob alone."""
    fill = DEFAULTS["mean_logprob"]
    scores = [as_number(s.features.get("mean_logprob"), fill) for s in data.held_out]
    return trade_off(scores, [s.label for s in data.held_out])


def train_gate(
    logs: Sequence[Path],
    out: Path,
    target_loss: float = 0.05,
    held_out: float = 0.25,
    seed: int = 0,
) -> dict[str, Any]:
    """Train on ``logs`` and write ``out/gate.json``, ``metrics.json``, ``report.md`` and
    ``tradeoff.png``; the metrics."""
    import sklearn
    from sklearn.metrics import roc_auc_score

    data = load_gate_data(logs, held_out)
    fitted = fit_gate(data.train, seed)
    scores = [fitted.gate.probability(s.features) for s in data.held_out]
    labels = [s.label for s in data.held_out]
    curve = trade_off(scores, labels)
    chosen = pick_threshold(curve, target_loss)
    baseline = _baseline_curve(data)
    threshold = min(max(chosen.threshold, 0.0), 1.0)
    held = {
        "auc": round(float(roc_auc_score(labels, scores)), 4),
        **dataclasses.replace(chosen, threshold=threshold).as_dict(digits=6),
        "positives": sum(labels),
        "negatives": len(labels) - sum(labels),
    }
    config = {"logs": data.logs, "target_loss": target_loss, "held_out": held_out, "seed": seed}
    info = {"split": "time", "held_out_figures": held, "trained_on": _span(data.train), **config}
    gate = dataclasses.replace(fitted.gate, threshold=threshold, info=info)
    metrics = {
        "config": config,
        "data": {
            "records": data.stats.records,
            "unreadable_lines": data.stats.skipped,
            "shown_without_features": data.without_features,
            "split": "time: the latest share of suggestions is held out",
            "train": _span(data.train),
            "held_out": _span(data.held_out),
        },
        "model": {
            "C": fitted.c,
            "class_weight": fitted.class_weight,
            "cv_folds": fitted.folds,
            "weights": dict(zip(gate.to_dict()["features"], gate.coef, strict=True)),
        },
        "held_out": held,
        "baseline": {"feature": "mean_logprob", **pick_threshold(baseline, target_loss).as_dict()},
        "curve": [p.as_dict() for p in at_thresholds(scores, labels, CURVE_THRESHOLDS)],
        "versions": {"scikit-learn": sklearn.__version__, "python": platform.python_version()},
    }
    write_outputs(out, gate, metrics, curve, baseline)
    return metrics
