"""EvalPlus runs: score a samples file, or generate then score; base and plus side by side.

``metrics.json`` holds both figures under EvalPlus's names (``"HumanEval"`` and
``"HumanEval+"``, ``"MBPP"`` and ``"MBPP+"``); its top-level ``pass@k`` are the plus
figures, the ones EvalPlus ranks by. ``results.jsonl`` rows add ``base_status`` and
``plus_status``; ``passed`` is the plus verdict (both parts pass).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from codegen.core.engine import Engine

from .. import runs
from ..generate import GenerationPlan, Profile, generate_missing, plan_record
from ..problems import ProblemsError, Sample, load_samples
from ..report import compute_metrics, write_run
from ..sandbox.launcher import SandboxPolicy
from ..sandbox.pool import SandboxPool
from .data import EvalPlusProblem
from .expected import TimeLimits
from .scoring import PASS, TIMEOUT, EvalPlusScored, score_evalplus

MEMORY_MB = 4096
"""EvalPlus's own per-sample memory limit (``EVALPLUS_MAX_MEMORY_BYTES``, 4 GiB)."""


def evalplus_policy(problems_spec: str) -> SandboxPolicy:
    """The sandbox policy for EvalPlus problems: the default one with EvalPlus's memory
    limit (time limits come per job, from the canonical solution)."""
    return dataclasses.replace(runs.sandbox_policy(problems_spec, 3.0), memory_mb=MEMORY_MB)


def benchmark_names(problems: dict[str, EvalPlusProblem]) -> tuple[str, str]:
    """``(base name, plus name)``; a file holds one benchmark."""
    names = {p.names for p in problems.values()}
    if len(names) != 1:
        raise ProblemsError("an EvalPlus problems file must hold one benchmark, not several")
    return names.pop()


def evalplus_metrics(
    rows: Sequence[EvalPlusScored], names: tuple[str, str], ks: Sequence[int] = ()
) -> dict:
    """Plus metrics at the top level, then both figures under EvalPlus's names."""
    base_name, plus_name = names
    plus = compute_metrics(rows, ks)
    base = compute_metrics([dataclasses.replace(r, passed=r.base_status == PASS) for r in rows], ks)

    def figures(m: dict) -> dict:
        return {k: v for k, v in m.items() if k.startswith("pass@") or k == "ci95"}

    return {
        **plus,
        "benchmark": plus_name,
        "evalplus": {"base": base_name, "plus": plus_name},
        base_name: figures(base),
        plus_name: figures(plus),
        "timeouts": {
            "base": sum(r.base_status == TIMEOUT for r in rows),
            "plus": sum(r.plus_status == TIMEOUT for r in rows),
        },
    }


def score(
    samples: list[Sample],
    problems: dict[str, EvalPlusProblem],
    pool: SandboxPool,
    limits: TimeLimits,
) -> list[EvalPlusScored]:
    with runs.progress_bar(len(samples), "scoring") as bar:
        return score_evalplus(samples, problems, pool, limits, on_done=lambda: bar.update(1))


def run_evalplus_samples(
    sample_file: str,
    problems: dict[str, EvalPlusProblem],
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
    limits: TimeLimits | None = None,
) -> dict:
    """Score an existing samples file (``completion`` or ``solution`` rows)."""
    limits = limits or TimeLimits()
    names = benchmark_names(problems)
    samples = load_samples(sample_file, problems)
    rows = score(samples, problems, pool, limits)
    metrics = evalplus_metrics(rows, names, ks)
    full_config = {
        "command": "samples",
        "samples": os.path.abspath(sample_file),
        **(config or {}),
        "time_limits": dataclasses.asdict(limits),
        "sandbox": runs.sandbox_record(pool),
    }
    write_run(out_dir, rows, metrics, full_config, f"codegen-eval: {Path(sample_file).name}",
              [_note(names, limits)])  # fmt: skip
    return metrics


def run_evalplus_generate(
    engine: Engine,
    problems: dict[str, EvalPlusProblem],
    plan: GenerationPlan,
    profile: Profile,
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
    limits: TimeLimits | None = None,
) -> dict:
    """Generate (resumably, into ``out_dir/generations.jsonl``) with ``profile``'s prompt,
    then score ``prompt + completion`` the EvalPlus way."""
    limits = limits or TimeLimits()
    names = benchmark_names(problems)
    ordered = list(problems.values())
    with runs.progress_bar(len(ordered) * plan.n, "generating") as bar:
        rows = generate_missing(
            engine, ordered, plan, profile, out_dir / "generations.jsonl",
            on_done=lambda: bar.update(1),
        )  # fmt: skip
    samples = [
        Sample(r["task_id"], r["completion"], profile.prompt(problems[r["task_id"]]) + r["completion"])
        for r in rows
    ]  # fmt: skip
    scored = score(samples, problems, pool, limits)
    metrics = evalplus_metrics(scored, names, ks)
    full_config = {
        "command": "humaneval",
        "engine": runs.engine_info(engine),
        "generation": plan_record(plan, profile),
        "seed": plan.seed,
        **(config or {}),
        "time_limits": dataclasses.asdict(limits),
        "sandbox": runs.sandbox_record(pool),
    }
    write_run(out_dir, scored, metrics, full_config, f"codegen-eval {names[1]}: {engine.name}",
              [_note(names, limits)])  # fmt: skip
    return metrics


def _note(names: tuple[str, str], limits: TimeLimits) -> str:
    return (
        f"Benchmark: {names[0]} (base inputs) and {names[1]} (base + plus inputs), scored the "
        f"EvalPlus way; per-input time limit max({limits.min_time_limit:g} s, "
        f"{limits.gt_time_limit_factor:g} x the canonical solution's time)."
    )
