"""Repository FIM exact match: fill the held-out holes of ``codegen-train data``.

The eval split of a data directory holds FIM examples cut from files the adapter
never trained on. For each one the model writes the middle greedily; a sample
passes when it equals the real middle (surrounding whitespace ignored, the same rule as training's metric). This is the
metric that says whether an adapter learned *your* code's idioms; ``compare``
puts base and adapter side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codegen.core.engine import Engine, GenerationConfig, generate_rows
from codegen.core.errors import ConfigError
from codegen.core.fim import get_fim_format, middle_matches

from .generate import DEFAULT_BATCH_SIZE
from .report import versions


def load_fim_rows(data_dir: str | Path, split: str = "eval", limit: int | None = None) -> tuple:
    """``(rows, data_fim_format)``: the FIM rows of one split of a ``codegen-train data`` dir."""
    root = Path(data_dir)
    if not (root / "dataset").is_dir():
        raise ConfigError(f"{root}: not a codegen-train data directory (no dataset/ in it)")
    from datasets import load_from_disk

    stats = json.loads((root / "stats.json").read_text()) if (root / "stats.json").is_file() else {}
    fmt_name = stats.get("config", {}).get("fim_format", "tiny")
    dataset = load_from_disk(str(root / "dataset"))
    if split not in dataset:
        raise ConfigError(f"{root}: the dataset has no {split!r} split")
    rows = [dict(r) for r in dataset[split] if r["task"] == "fim"]
    if not rows:
        raise ConfigError(f"{root}: no FIM examples in the {split!r} split")
    return rows[:limit] if limit else rows, fmt_name


def run_repo_fim(
    engine: Engine, data_dir: str | Path, out_dir: Path, max_new_tokens: int,
    limit: int | None, config: dict[str, Any], batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, Any]:  # fmt: skip
    """Generate every held-out middle (``batch_size`` holes decoding together), write
    results.jsonl / metrics.json / report.md."""
    from tqdm import tqdm

    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1 (got {batch_size})")
    rows, fmt_name = load_fim_rows(data_dir, limit=limit)
    data_fmt = get_fim_format(fmt_name)
    prompts, wants, configs = [], [], []
    for row in rows:
        prefix, suffix, order = data_fmt.parse_prompt(row["prompt"])
        # Rebuild with the model's own format: data cut for one family serves any other.
        prompts.append(engine.fim.build_prompt(prefix, suffix, order))
        want = data_fmt.middle_of(row["completion"])
        wants.append(want)
        budget = min(max_new_tokens, engine.count_tokens(want) + 16)
        configs.append(GenerationConfig(max_new_tokens=budget, stop=engine.fim.stop_strings))
    with tqdm(total=len(rows), desc="fim", unit="hole") as bar:
        gens = generate_rows(
            engine, prompts, configs, batch_size=batch_size, on_result=lambda i, r: bar.update(1)
        )
    results = []
    for i, gen in enumerate(gens):
        passed = middle_matches(gen.text, wants[i])
        results.append({
            "task_id": f"{rows[i]['path']}#{i}", "completion": gen.text, "expected": wants[i],
            "passed": passed, "result": "exact match" if passed else "mismatch",
        })  # fmt: skip
    exact = sum(r["passed"] for r in results) / len(results)
    metrics = {"exact_match": exact, "tasks": len(results), "samples": len(results)}
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    document = {**metrics, "config": config, "versions": versions()}
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n")
    (out_dir / "report.md").write_text(
        f"# Repository FIM exact match\n\n| metric | value |\n|---|---|\n"
        f"| exact_match | {exact:.4f} |\n\n{len(results)} held-out holes from {data_dir}.\n"
    )
    return metrics
