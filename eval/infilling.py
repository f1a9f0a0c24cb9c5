"""HumanEval-infilling benchmarks, executed, and HumanEval-FIM exact match.

The human-eval-infilling files (single-line, multi-line and random-span; InCoder and
Bavarian et al. 2022) cut a hole in HumanEval's canonical solutions. Each row has
``task_id``, ``entry_point``, ``prompt`` (code before the hole), ``suffix`` (code
after it), ``canonical_solution`` (the middle) and ``test``. The model sees
``engine.fim.build_prompt(prompt, suffix)`` and writes the middle; generation stops
at the FIM end token or EOS; a :mod:`~codegen.eval.truncation` rule (default
``reference``) cuts it; ``prompt + middle + suffix`` is scored by executing the test,
exactly as human-eval-infilling's harness builds the program.

Scoring reuses :func:`codegen.eval.scoring.score_samples`: each row becomes a
:class:`~codegen.eval.problems.Problem` with an empty prompt whose canonical solution
is the whole program. Rows cut from the same HumanEval problem share one program, so
their test inputs are recorded once (5,815 multi-line rows, 164 recordings).

HumanEval-FIM exact match (:func:`fim_exact_match`) is the single-line metric of the
Qwen2.5-Coder report, reported beside pass@1 whenever every middle of the set is one
line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from codegen.core.engine import Engine

from .generate import GenerationPlan, Profile, generate_missing
from .infill import InfillTask
from .problems import Problem, ProblemsError, Sample, read_jsonl
from .report import compute_metrics, write_run
from .runs import engine_info, progress_bar, sandbox_record
from .sandbox.pool import SandboxPool
from .scoring import ScoredSample, TaskPlan, plan_tasks, score_samples, trusted_program
from .truncation import Truncation, cut_at_end_marker

FIELDS = ("task_id", "entry_point", "prompt", "suffix", "canonical_solution", "test")


@dataclass(frozen=True)
class InfillingSet:
    """The rows of one infilling file that a run uses."""

    name: str
    """e.g. ``HumanEval-SingleLineInfilling`` (from the task ids), else the file name."""
    path: Path
    tasks: list[InfillTask]
    rows_in_file: int

    @property
    def single_line(self) -> bool:
        """Every middle is one line: HumanEval-FIM exact match applies."""
        return bool(self.tasks) and all(t.middle.strip("\n").count("\n") == 0 for t in self.tasks)

    def describe(self) -> str:
        used = len(self.tasks)
        part = "all" if used == self.rows_in_file else f"{used} of"
        return f"{self.name} ({part} {self.rows_in_file} rows of {self.path.name})"


def is_infilling_file(spec: str | Path) -> bool:
    """Whether ``spec`` is a JSONL(.gz) whose first row has a ``suffix`` field."""
    path = Path(spec)
    if not path.is_file():
        return False
    for _, row in read_jsonl(path):
        return "suffix" in row
    return False


def benchmark_name(task_id: str, path: Path) -> str:
    """``SingleLineInfilling/HumanEval/0/L0`` -> ``HumanEval-SingleLineInfilling``."""
    parts = task_id.split("/")
    if len(parts) >= 3 and parts[0].endswith("Infilling"):
        return f"{parts[1]}-{parts[0]}"
    return path.name.removesuffix(".gz").removesuffix(".jsonl")


def load_infilling(spec: str | Path, limit: int | None = None, stride: int = 1) -> InfillingSet:
    """The rows of an infilling file: every ``stride``-th row from the first, then the
    first ``limit`` of those (both deterministic)."""
    path = Path(spec)
    if not path.is_file():
        raise ProblemsError(f"problem file {spec} not found")
    if stride < 1 or (limit is not None and limit < 1):
        raise ProblemsError("--stride and --limit must be at least 1")
    rows = []
    for line_no, row in read_jsonl(path):
        missing = [f for f in FIELDS if not isinstance(row.get(f), str)]
        if missing:
            raise ProblemsError(
                f"{path}:{line_no}: infilling row has no {missing[0]!r} text field "
                "(expected human-eval-infilling's task_id, prompt, suffix, "
                "canonical_solution, test, entry_point)"
            )
        rows.append(row)
    if not rows:
        raise ProblemsError(f"{path}: no problems in the file")
    chosen = rows[::stride][:limit]
    tasks = [task_from_row(row) for row in chosen]
    return InfillingSet(benchmark_name(rows[0]["task_id"], path), path, tasks, len(rows))


def task_from_row(row: dict) -> InfillTask:
    program = row["prompt"] + row["canonical_solution"] + row["suffix"]
    problem = Problem(row["task_id"], "", program, row["test"], row["entry_point"])
    mode = row["task_id"].split("/", 1)[0] if "/" in row["task_id"] else "infilling"
    return InfillTask(
        row["task_id"], mode, row["prompt"], row["canonical_solution"], row["suffix"], problem
    )


def fim_line(generated: str) -> str:
    """The line HumanEval-FIM exact match scores: the first line of the generation, or
    the second when the generation starts with a newline (optionally after one space),
    stripped. This is the rule of Qwen2.5-Coder's evaluation (``hm_fim``)."""
    lines = generated.split("\n")
    first = lines[0]
    if len(lines) > 1 and first in ("", " "):
        return lines[1].strip()
    return first.strip()


def fim_exact_match(generated: str, canonical: str) -> bool:
    """HumanEval-FIM exact match of one generation (cut at the FIM end token first)."""
    return fim_line(cut_at_end_marker(generated)) == canonical.strip()


def shared_plans(tasks: Sequence[InfillTask], pool: SandboxPool) -> dict[str, TaskPlan]:
    """Record test inputs once per distinct program (rows of one HumanEval problem share
    it); every task gets its group's plan."""
    groups: dict[str, list[InfillTask]] = defaultdict(list)
    for task in tasks:
        groups[trusted_program(task.problem)].append(task)
    leaders = [members[0].problem for members in groups.values()]
    recorded = plan_tasks(leaders, pool)
    return {
        task.task_id: recorded[members[0].task_id]
        for members in groups.values()
        for task in members
    }


def score_middles(
    rows: Sequence[dict],
    bench: InfillingSet,
    truncation: Truncation,
    pool: SandboxPool,
    ks: Sequence[int],
) -> tuple[list[ScoredSample], dict]:
    """Cut each row's ``completion`` (the raw middle) with ``truncation``, execute
    ``prompt + middle + suffix``; ``(results, metrics)``."""
    by_id = {t.task_id: t for t in bench.tasks}
    samples = []
    for row in rows:
        task = by_id[row["task_id"]]
        middle = truncation.apply(row["completion"], task.suffix)
        samples.append(Sample(task.task_id, middle, task.prefix + middle + task.suffix))
    problems = {t.task_id: t.problem for t in bench.tasks}
    plans = shared_plans([by_id[t] for t in dict.fromkeys(s.task_id for s in samples)], pool)
    with progress_bar(len(samples), "scoring") as bar:
        results = score_samples(samples, problems, pool, plans, on_done=lambda: bar.update(1))
    metrics = compute_metrics(results, ks)
    metrics["benchmark"] = bench.name
    metrics["truncation"] = truncation.name
    if bench.single_line and rows:
        hits = [fim_exact_match(r["completion"], by_id[r["task_id"]].middle) for r in rows]
        metrics["exact_match"] = sum(hits) / len(hits)
    return results, metrics


def infilling_notes(bench: InfillingSet, truncation: Truncation, metrics: dict) -> list[str]:
    notes = [
        f"Benchmark: {bench.describe()}.",
        f"Truncation: `{truncation.name}`: {truncation.description}.",
    ]
    if "exact_match" in metrics:
        notes.append(
            "exact_match: HumanEval-FIM single-line exact match (Qwen2.5-Coder's rule: "
            "first generated line, or the second after a leading newline, stripped, "
            "equal to the stripped canonical middle)."
        )
    return notes


def run_infilling(
    engine: Engine,
    bench: InfillingSet,
    plan: GenerationPlan,
    truncation: Truncation,
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
) -> dict:
    """Generate every middle (resumably, into ``out_dir/generations.jsonl``), score, and
    write the run directory; returns metrics."""
    fim = engine.fim
    by_id = {t.task_id: t for t in bench.tasks}
    build: Callable[[Problem], str] = lambda p: fim.build_prompt(  # noqa: E731
        by_id[p.task_id].prefix, by_id[p.task_id].suffix
    )
    profile = Profile(f"fim-{fim.name}", f"{fim.name} FIM prompt", fim.stop_strings, build)
    with progress_bar(len(bench.tasks) * plan.n, "generating") as bar:
        rows = generate_missing(
            engine, [t.problem for t in bench.tasks], plan, profile,
            out_dir / "generations.jsonl", on_done=lambda: bar.update(1),
        )  # fmt: skip
    results, metrics = score_middles(rows, bench, truncation, pool, ks)
    full_config = {
        "command": "infill",
        "benchmark": bench.name,
        "problems": str(bench.path),
        "rows": len(bench.tasks),
        "rows_in_file": bench.rows_in_file,
        "truncation": truncation.name,
        "engine": engine_info(engine),
        "generation": {**asdict(plan), "stop": list(profile.stop)},
        "fim_format": fim.name,
        "seed": plan.seed,
        **(config or {}),
        "sandbox": sandbox_record(pool),
    }
    title = f"codegen-eval infill: {bench.name}, {engine.name}"
    write_run(out_dir, results, metrics, full_config, title,
              infilling_notes(bench, truncation, metrics))  # fmt: skip
    return metrics


def load_middles(path: str | Path, bench: InfillingSet) -> list[dict]:
    """The rows of a samples file for ``bench``: ``task_id`` and ``completion`` (the
    middle only, as human-eval-infilling's samples)."""
    known = {t.task_id for t in bench.tasks}
    rows = []
    for line_no, row in read_jsonl(Path(path)):
        if row.get("task_id") not in known:
            raise ProblemsError(
                f"{path}:{line_no}: unknown task_id {row.get('task_id')!r} for {bench.name}"
            )
        if not isinstance(row.get("completion"), str):
            raise ProblemsError(f"{path}:{line_no}: sample has no 'completion' (the middle)")
        rows.append({"task_id": row["task_id"], "completion": row["completion"]})
    return rows


def run_infilling_samples(
    sample_file: str | Path,
    bench: InfillingSet,
    truncation: Truncation,
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
) -> dict:
    """Score existing middles the way :func:`run_infilling` does; returns metrics."""
    rows = load_middles(sample_file, bench)
    results, metrics = score_middles(rows, bench, truncation, pool, ks)
    full_config = {
        "command": "samples",
        "samples": str(Path(sample_file).resolve()),
        "benchmark": bench.name,
        "problems": str(bench.path),
        "truncation": truncation.name,
        **(config or {}),
        "sandbox": sandbox_record(pool),
    }
    title = f"codegen-eval: {Path(sample_file).name} on {bench.name}"
    write_run(out_dir, results, metrics, full_config, title,
              infilling_notes(bench, truncation, metrics))  # fmt: skip
    return metrics
