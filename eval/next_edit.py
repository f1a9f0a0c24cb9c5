"""Next-edit prediction on the held-out commits of ``codegen-train data --tasks next-edit``.

``DIR/next_edit.jsonl`` holds each next-edit case of the data: the editable region as it
was, the recent edits before it, and the region as the developer left it next (the
commit's next hunk applied, or the accepted suggestion of an acceptance log). For every
case of the chosen split the model rewrites the region greedily, in the ``codegen``
format on the model's own FIM sentinels (the prompt the server sends with the same
region sizes), through the engine's batched generation. The continuation is read as the
server reads it: a continuation that never ends (the token budget ran out) or that does
not parse is *malformed*, and the rewritten region becomes the smallest edits
(:func:`~codegen.core.edit_prediction.minimal_edits`).

Per case, and as shares of all cases:

- ``exact_match``: the rewritten region equals the target region, character for
  character (equivalently: the predicted edits are the target's edits);
- ``location_accuracy``: the predicted edits touch the lines of the region that the
  target's edits touch, and no others (the suggestion is at the right place, right or
  wrong; a model that rewrites the whole region is not);
- ``no_edit_rate``: the model left the region as it was;
- ``reversal_ratio``: the predicted edits undo one of the recent edits
  (:func:`~codegen.core.edit_prediction.reverses_recent_edit`; the server drops such a
  prediction, so a high ratio is wasted suggestions);
- ``malformed_rate``.

``results.jsonl`` has one row per case (``task_id``, ``completion`` = the raw
continuation, ``expected``, ``passed`` = exact match, ``result``), so ``codegen-eval
compare`` puts two runs (base and adapter) side by side.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codegen.core.edit_prediction import (
    EditContext,
    EditEvent,
    EditFormat,
    TextEdit,
    get_edit_format,
    minimal_edits,
    reverses_recent_edit,
)
from codegen.core.engine import Engine, GenerationConfig, GenerationResult, generate_rows
from codegen.core.errors import ConfigError

from .generate import DEFAULT_BATCH_SIZE
from .report import versions

CASES_FILE = "next_edit.jsonl"
RATES = ("exact_match", "location_accuracy", "no_edit_rate", "reversal_ratio", "malformed_rate")


def load_cases(
    data_dir: str | Path, split: str = "eval", limit: int | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(cases of split, the data's next-edit configuration)`` of a data directory."""
    root = Path(data_dir)
    path = root / CASES_FILE
    if not path.is_file():
        raise ConfigError(
            f"{root}: no {CASES_FILE}; build the data with codegen-train data --tasks next-edit"
        )
    cases = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ConfigError(f"{path}:{n}: not JSON; rebuild the data") from None
            if row.get("split") == split:
                cases.append(row)
    if not cases:
        raise ConfigError(f"{path}: no next-edit cases in the {split!r} split")
    stats = root / "stats.json"
    config = json.loads(stats.read_text()).get("config", {}) if stats.is_file() else {}
    return (cases[:limit] if limit else cases), dict(config.get("next_edit") or {})


def case_context(case: dict[str, Any]) -> EditContext:
    """The case's region (as the whole text: all the ``codegen`` format shows) and events."""
    region = str(case["region"])
    events = [
        EditEvent(str(e["path"]), str(e["old"]), str(e["new"]), int(e.get("line") or 0))
        for e in case.get("events") or []
    ]
    cursor = min(max(int(case.get("cursor") or 0), 0), len(region))
    return EditContext(str(case["prompt_path"]), region, 0, len(region), cursor, events)


def read_prediction(result: GenerationResult, fmt: EditFormat, ctx: EditContext) -> str | None:
    """The rewritten region, or None when malformed (read as the server reads it)."""
    if result.finish_reason == "length":
        return None
    return fmt.parse(result.text + fmt.stop_strings[0], ctx)


def touched_lines(region: str, edits: Sequence[TextEdit]) -> set[int]:
    """Lines of ``region`` that ``edits`` replace (an insertion: the line it goes before)."""
    lines: set[int] = set()
    for edit in edits:
        first = region.count("\n", 0, edit.start)
        last = region.count("\n", 0, max(edit.start, edit.end - 1))
        lines.update(range(first, last + 1))
    return lines


def score_case(ctx: EditContext, target: str, predicted: str | None) -> dict[str, Any]:
    """One case's verdict: ``result`` (``exact match``, ``right place``, ``wrong place``,
    ``no edit``, ``malformed``), ``passed``, ``location``, ``reversal``, ``edits``."""
    region = ctx.region
    verdict: dict[str, Any] = {"passed": False, "location": False, "reversal": False}
    if predicted is None:
        return {**verdict, "result": "malformed", "edits": []}
    edits = minimal_edits(region, predicted)
    shown = [{"start": e.start, "end": e.end, "text": e.text} for e in edits]
    if not edits:
        return {**verdict, "result": "no edit", "edits": shown}
    wanted = touched_lines(region, minimal_edits(region, target))
    location = touched_lines(region, edits) == wanted
    exact = predicted == target
    result = "exact match" if exact else ("right place" if location else "wrong place")
    reversal = reverses_recent_edit(edits, region, ctx.events)
    return {"passed": exact, "location": location, "reversal": reversal, "result": result,
            "edits": shown}  # fmt: skip


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The shares of :data:`RATES` over ``rows`` (0.0 for no rows)."""
    n = len(rows) or 1
    return {
        "exact_match": sum(r["passed"] for r in rows) / n,
        "location_accuracy": sum(r["location"] for r in rows) / n,
        "no_edit_rate": sum(r["result"] == "no edit" for r in rows) / n,
        "reversal_ratio": sum(r["reversal"] for r in rows) / n,
        "malformed_rate": sum(r["result"] == "malformed" for r in rows) / n,
    }


def run_next_edit(
    engine: Engine, data_dir: str | Path, out_dir: Path, max_new_tokens: int,
    limit: int | None, config: dict[str, Any], batch_size: int = DEFAULT_BATCH_SIZE,
    split: str = "eval",
) -> dict[str, Any]:  # fmt: skip
    """Predict every case of ``split``, score it, and write results.jsonl, metrics.json
    and report.md to ``out_dir``."""
    from tqdm import tqdm

    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1 (got {batch_size})")
    cases, data_config = load_cases(data_dir, split, limit)
    base = get_edit_format("codegen", engine.fim)
    fmt = EditFormat(base.name, base.fim, int(data_config.get("max_events", base.max_events)))
    contexts = [case_context(case) for case in cases]
    prompts = [fmt.prompt(ctx) for ctx in contexts]
    configs = [
        GenerationConfig(  # the server's budget: the whole region and an edit's worth more
            max_new_tokens=max(max_new_tokens, engine.count_tokens(ctx.region) + 32),
            temperature=0.0,
            stop=fmt.stop_strings,
        )
        for ctx in contexts
    ]
    with tqdm(total=len(cases), desc="next-edit", unit="case") as bar:
        gens = generate_rows(
            engine, prompts, configs, batch_size=batch_size, on_result=lambda i, r: bar.update(1)
        )
    results = []
    for case, ctx, gen in zip(cases, contexts, gens, strict=True):
        predicted = read_prediction(gen, fmt, ctx)
        verdict = score_case(ctx, str(case["target"]), predicted)
        results.append({
            "task_id": case["id"], "completion": gen.text, "expected": case["target"],
            "predicted": predicted, **verdict, "kind": case.get("kind"),
            "held_out_by": case.get("held_out_by"), "path": case.get("path"),
        })  # fmt: skip
    metrics: dict[str, Any] = {**summarize(results), "tasks": len(results), "samples": len(results)}
    metrics["results"] = dict(sorted(Counter(r["result"] for r in results).items()))
    metrics["by_kind"] = _breakdown(results, "kind")
    metrics["by_held_out"] = _breakdown(results, "held_out_by")
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    document = {**metrics, "config": {**config, "split": split, "next_edit": data_config},
                "versions": versions()}  # fmt: skip
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n")
    (out_dir / "report.md").write_text(_report(metrics, data_dir, split, data_config))
    return metrics


def _breakdown(rows: Sequence[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[str(row.get(key) or "-")].append(row)
    return {
        name: {"cases": len(group), **summarize(group)} for name, group in sorted(groups.items())
    }


def _report(metrics: dict[str, Any], data_dir: str | Path, split: str, data: dict) -> str:
    lines = [
        "# Next-edit prediction",
        "",
        f"{metrics['tasks']} {split} cases from {data_dir} (editable region: "
        f"{data.get('lines_before', '?')} lines above the cursor, "
        f"{data.get('lines_after', '?')} below; {data.get('max_events', '?')} recent edits).",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {name} | {metrics[name]:.4f} |" for name in RATES),
        "",
        "Results: " + ", ".join(f"{n} {k}" for k, n in metrics["results"].items()),
        "",
    ]
    for key, title in (("by_kind", "kind"), ("by_held_out", "held out by")):
        lines += [f"| {title} | cases | " + " | ".join(RATES) + " |",
                  "|---|---|" + "---|" * len(RATES)]  # fmt: skip
        for name, group in metrics[key].items():
            values = " | ".join(f"{group[r]:.4f}" for r in RATES)
            lines.append(f"| {name} | {group['cases']} | {values} |")
        lines.append("")
    return "\n".join(lines)
