"""What ``codegen-train gate`` writes: ``gate.json`` (the model the server loads),
``metrics.json`` (every figure), ``report.md`` (the same, to read) and ``tradeoff.png``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codegen.core.gate import Gate

from .data import GateDataError
from .tradeoff import Point

REPORT_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _threshold(value: float | None) -> str:
    return "none: withholds nothing" if value is None else f"{value:.3f}"


def render_report(metrics: dict[str, Any]) -> str:
    cfg, data, held, base = (
        metrics["config"],
        metrics["data"],
        metrics["held_out"],
        metrics["baseline"],
    )
    tr, ho = data["train"], data["held_out"]
    lines = [
        "# Show/no-show gate",
        "",
        f"Logs: {', '.join(cfg['logs'])} ({data['records']} records, "
        f"{data['unreadable_lines']} unreadable lines skipped, "
        f"{data['shown_without_features']} shown suggestions without gate features left out).",
        "",
        "Split by time: the latest suggestions are held out, as the gate will meet them.",
        "",
        "| part | suggestions | accepted and kept | from | to |",
        "|---|---|---|---|---|",
        f"| train | {tr['suggestions']} | {tr['accepted_and_kept']} | {tr['from']} | {tr['to']} |",
        f"| held out | {ho['suggestions']} | {ho['accepted_and_kept']} | {ho['from']} | {ho['to']} |",
        "",
        f"## At the chosen threshold ({held['threshold']:.4f}; target: lose at most "
        f"{_pct(cfg['target_loss'])} of the accepted)",
        "",
        "| rule | rejected withheld | accepted lost | still shown |",
        "|---|---|---|---|",
        f"| gate (held-out AUC {held['auc']:.3f}) | **{_pct(held['withheld_rejected'])}** | "
        f"{_pct(held['lost_accepted'])} | {_pct(held['shown'])} |",
        f"| baseline: mean_logprob alone (threshold {_threshold(base['threshold'])}) | "
        f"{_pct(base['withheld_rejected'])} | {_pct(base['lost_accepted'])} | {_pct(base['shown'])} |",
        "",
        "'Accepted' means taken (whole or in part) and still mostly there at the last",
        "retention check; 'rejected' is every other shown suggestion.",
        "",
        "## Held-out trade-off",
        "",
        "| threshold | rejected withheld | accepted lost | still shown |",
        "|---|---|---|---|",
    ]
    by_threshold = {p["threshold"]: p for p in metrics["curve"]}
    for t in REPORT_THRESHOLDS:
        if (p := by_threshold.get(t)) is not None:
            lines.append(
                f"| {t:.2f} | {_pct(p['withheld_rejected'])} | {_pct(p['lost_accepted'])} | "
                f"{_pct(p['shown'])} |"
            )
    model = metrics["model"]
    lines += [
        "",
        "![trade-off](tradeoff.png)",
        "",
        f"## Model: logistic regression, C = {model['C']}, class weight "
        f"{model['class_weight'] or 'none'}, {model['cv_folds']}-fold CV",
        "",
        "Weights on standardised features (larger magnitude, more say):",
        "",
        "| feature | weight |",
        "|---|---|",
    ]
    weights = sorted(model["weights"].items(), key=lambda kv: -abs(kv[1]))
    lines += [f"| {name} | {w:+.3f} |" for name, w in weights]
    return "\n".join(lines) + "\n"


def plot_tradeoff(
    out: Path, curve: Sequence[Point], baseline: Sequence[Point], chosen: dict, target: float
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot([p.lost_accepted for p in curve], [p.withheld_rejected for p in curve], label="gate")
    ax.plot(
        [p.lost_accepted for p in baseline], [p.withheld_rejected for p in baseline],
        linestyle="--", label="mean_logprob alone",
    )  # fmt: skip
    ax.axvline(target, color="grey", linewidth=0.8, linestyle=":")
    ax.plot([chosen["lost_accepted"]], [chosen["withheld_rejected"]], "o", color="C3",
            label=f"chosen threshold {chosen['threshold']:.3f}")  # fmt: skip
    ax.set_xlabel("accepted suggestions lost (held out)")
    ax.set_ylabel("rejected suggestions withheld (held out)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Show/no-show gate: what it withholds against what it costs")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def write_outputs(
    out: Path,
    gate: Gate,
    metrics: dict[str, Any],
    curve: Sequence[Point],
    baseline: Sequence[Point],
) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GateDataError(f"cannot create the output directory {out}: {err}") from None
    (out / "gate.json").write_text(json.dumps(gate.to_dict(), indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "report.md").write_text(render_report(metrics))
    plot_tradeoff(out / "tradeoff.png", curve, baseline, metrics["held_out"],
                  metrics["config"]["target_loss"])  # fmt: skip
