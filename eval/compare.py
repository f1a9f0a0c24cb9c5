"""Compare two eval runs: pass@k side by side, tasks gained and lost, and a bar plot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .problems import ProblemsError, read_jsonl

RATES = ("exact_match", "location_accuracy", "no_edit_rate", "reversal_ratio", "malformed_rate")
"""Rates other runs report beside pass@k (FIM and next-edit runs), in this order."""


@dataclass
class Run:
    name: str
    metrics: dict
    solved: dict[str, bool]
    """Per task: did any sample pass."""


@dataclass
class Comparison:
    a: Run
    b: Run
    rows: list[tuple[str, float | None, float | None]]
    gained: list[str]
    """Tasks solved in B but not in A."""
    lost: list[str]


def load_run(directory: str | Path) -> Run:
    path = Path(directory)
    metrics_file = path / "metrics.json"
    if not metrics_file.is_file():
        raise ProblemsError(f"{path} is not an eval run (no metrics.json); pass an --out dir")
    solved: dict[str, bool] = {}
    for _, row in read_jsonl(path / "results.jsonl"):
        solved[row["task_id"]] = solved.get(row["task_id"], False) or bool(row.get("passed"))
    return Run(path.name or str(path), json.loads(metrics_file.read_text()), solved)


def compare_runs(a: Run, b: Run) -> Comparison:
    """pass@k rows for every k either run reports; gained/lost over tasks both ran."""
    keys = sorted(
        {k for k in (*a.metrics, *b.metrics) if k.startswith("pass@")},
        key=lambda k: int(k.split("@")[1]),
    )
    for key in RATES:
        if key in a.metrics or key in b.metrics:
            keys.append(key)
    rows = [(k, a.metrics.get(k), b.metrics.get(k)) for k in keys]
    common = [t for t in a.solved if t in b.solved]
    gained = [t for t in common if b.solved[t] and not a.solved[t]]
    lost = [t for t in common if a.solved[t] and not b.solved[t]]
    return Comparison(a, b, rows, gained, lost)


def render_table(cmp: Comparison) -> str:
    """A markdown table plus the gained/lost task lists."""
    lines = [f"| metric | {cmp.a.name} | {cmp.b.name} | delta |", "|---|---|---|---|"]
    for key, va, vb in cmp.rows:
        delta = f"{vb - va:+.4f}" if va is not None and vb is not None else ""
        lines.append(f"| {key} | {_fmt(va)} | {_fmt(vb)} | {delta} |")
    lines.append("")
    lines.append(f"Tasks gained ({len(cmp.gained)}): {', '.join(cmp.gained) or '-'}")
    lines.append(f"Tasks lost ({len(cmp.lost)}): {', '.join(cmp.lost) or '-'}")
    return "\n".join(lines)


def plot(cmp: Comparison, out: Path) -> Path:
    """Grouped bars of pass@k for both runs, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in cmp.rows if r[1] is not None and r[2] is not None][:12]
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(rows) + 2), 3.5))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r[1] for r in rows], width=0.4, label=cmp.a.name)
    ax.bar([x + 0.2 for x in xs], [r[2] for r in rows], width=0.4, label=cmp.b.name)
    ax.set_xticks(list(xs), [r[0] for r in rows])
    ax.set_ylim(0, 1)
    ax.set_ylabel("pass rate")
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
