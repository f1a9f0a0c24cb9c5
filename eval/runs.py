"""The three kinds of eval run, each ending in a run directory (see :mod:`report`).

Generation takes an :class:`~codegen.core.engine.Engine`, so tests can pass a
fake or a tiny model; the command line passes ``load_engine(...)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from codegen.core.engine import Engine

from .generate import GenerationPlan, Profile, generate_missing, plan_record
from .infill import BENCHMARK as HOLES_BENCHMARK
from .infill import InfillTask, task_counts
from .problems import Problem, Sample, load_samples, problems_path
from .recordings import RecordingCache, default_cache_dir
from .report import compute_metrics, write_run
from .sandbox.launcher import SandboxPolicy
from .sandbox.pool import SandboxPool
from .scoring import ScoredSample, score_samples

_warned = False


def sandbox_policy(problems_spec: str, timeout_s: float) -> SandboxPolicy:
    """Default limits; the problem file's directory (no answer key) and the recording
    cache's (see :mod:`.recordings`; read-only there anyway) are hidden from samples."""
    hide = [str(problems_path(problems_spec).resolve().parent)]
    if default_cache_dir().is_dir():
        hide.append(str(default_cache_dir().resolve()))
    return SandboxPolicy(timeout_s=timeout_s, hide=[h for h in hide if h != "/"])


def recording_cache(no_cache: bool = False) -> RecordingCache | None:
    """The user's recording cache, created now (so the sandbox can hide it); None with
    ``--no-cache``."""
    if no_cache:
        return None
    cache = RecordingCache()
    cache.prepare()
    return cache


@contextmanager
def open_pool(policy: SandboxPolicy, workers: int | None):
    """A sandbox pool; says once, on stderr, what isolation the kernel refused."""
    global _warned
    with SandboxPool(workers, policy) as pool:
        iso = pool.isolation
        if not _warned and not (iso.network and iso.mount and iso.pid):
            _warned = True
            missing = [n for n in ("network", "mount", "pid") if not getattr(iso, n)]
            print(
                f"codegen-eval: warning: no {'/'.join(missing)} namespace on this system; "
                "samples may reach the network / write files (see README, Sandbox). "
                + "; ".join(iso.notes),
                file=sys.stderr,
            )
        yield pool


def progress_bar(total: int, desc: str):
    """The progress bar every run shows on stderr (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="sample", disable=None, file=sys.stderr)


def score(
    samples: list[Sample],
    problems: dict[str, Problem],
    pool: SandboxPool,
    cache: RecordingCache | None = None,
) -> list[ScoredSample]:
    with progress_bar(len(samples), "scoring") as bar:
        return score_samples(samples, problems, pool, on_done=lambda: bar.update(1), cache=cache)


def run_samples(
    sample_file: str,
    problems: dict[str, Problem],
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
    cache: RecordingCache | None = None,
) -> dict:
    """Score an existing samples file; returns metrics."""
    samples = load_samples(sample_file, problems)
    results = score(samples, problems, pool, cache)
    metrics = compute_metrics(results, ks)
    full_config = {
        "command": "samples",
        "samples": os.path.abspath(sample_file),
        **(config or {}),
        "recording_cache": cache.stats() if cache else None,
        "sandbox": sandbox_record(pool),
    }
    write_run(out_dir, results, metrics, full_config, f"codegen-eval: {Path(sample_file).name}")
    return metrics


def run_humaneval(
    engine: Engine,
    problems: dict[str, Problem],
    plan: GenerationPlan,
    profile: Profile,
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
    cache: RecordingCache | None = None,
) -> dict:
    """Generate (resumably, into ``out_dir/generations.jsonl``) then score."""
    ordered = list(problems.values())
    with progress_bar(len(ordered) * plan.n, "generating") as bar:
        rows = generate_missing(
            engine, ordered, plan, profile, out_dir / "generations.jsonl",
            on_done=lambda: bar.update(1),
        )  # fmt: skip
    samples = [
        Sample(r["task_id"], r["completion"], problems[r["task_id"]].prompt + r["completion"])
        for r in rows
    ]
    results = score(samples, problems, pool, cache)
    metrics = compute_metrics(results, ks)
    full_config = {
        "command": "humaneval",
        "engine": engine_info(engine),
        "generation": plan_record(plan, profile),
        "seed": plan.seed,
        **(config or {}),
        "recording_cache": cache.stats() if cache else None,
        "sandbox": sandbox_record(pool),
    }
    write_run(out_dir, results, metrics, full_config, f"codegen-eval humaneval: {engine.name}")
    return metrics


def run_infill(
    engine: Engine,
    tasks: list[InfillTask],
    plan: GenerationPlan,
    out_dir: Path,
    pool: SandboxPool,
    ks: Sequence[int] = (),
    config: dict | None = None,
    cache: RecordingCache | None = None,
) -> dict:
    """Fill each task's hole with ``engine`` (FIM prompt), then execute the tests."""
    by_id = {t.task_id: t for t in tasks}
    fim = engine.fim
    stops = {
        "single": (*fim.stop_strings, "\n"),
        "multi": fim.stop_strings,
    }
    problems = {t.task_id: t.problem for t in tasks}
    rows: list[dict] = []
    with progress_bar(len(tasks) * plan.n, "generating") as bar:
        for mode in ("single", "multi"):
            subset = [t.problem for t in tasks if t.mode == mode]
            profile = Profile(f"fim-{mode}", f"{fim.name} FIM, {mode}-line hole", stops[mode],
                              lambda p: fim.build_prompt(by_id[p.task_id].prefix,
                                                         by_id[p.task_id].suffix))  # fmt: skip
            rows += generate_missing(
                engine, subset, plan, profile, out_dir / "generations.jsonl",
                on_done=lambda: bar.update(1),
            )  # fmt: skip
    samples = [
        Sample(r["task_id"], r["completion"],
               by_id[r["task_id"]].prefix + r["completion"] + by_id[r["task_id"]].suffix)
        for r in rows
    ]  # fmt: skip
    results = score(samples, problems, pool, cache)
    metrics = compute_metrics(results, ks)
    for mode in ("single", "multi"):
        part = [r for r in results if r.task_id.endswith("#" + mode)]
        if part:
            metrics[f"{mode}-line"] = {
                k: v for k, v in compute_metrics(part, ks).items() if k.startswith("pass@")
            }
    metrics["benchmark"] = HOLES_BENCHMARK
    full_config = {
        "command": "infill",
        "benchmark": HOLES_BENCHMARK,
        "engine": engine_info(engine),
        "generation": {**asdict(plan), "stop": {m: list(s) for m, s in stops.items()}},
        "fim_format": fim.name,
        "infill_tasks": task_counts(tasks),
        "seed": plan.seed,
        **(config or {}),
        "recording_cache": cache.stats() if cache else None,
        "sandbox": sandbox_record(pool),
    }
    counts = ", ".join(f"{n} {m}-line" for m, n in task_counts(tasks).items() if n)
    write_run(out_dir, results, metrics, full_config, f"codegen-eval infill: {engine.name}",
              [f"Benchmark: {HOLES_BENCHMARK} ({counts} holes, seed {plan.seed})."])  # fmt: skip
    return metrics


def engine_info(engine: Engine) -> dict:
    """What a run's ``metrics.json`` records of the engine (its ``info()``, or its name)."""
    info = getattr(engine, "info", None)
    if callable(info):
        try:
            return dict(info())
        except Exception:  # noqa: BLE001 - metadata only; never fail a finished run for it
            pass
    return {"name": engine.name}


def sandbox_record(pool: SandboxPool) -> dict:
    """What a run's ``metrics.json`` records of the sandbox: workers, limits, isolation."""
    return {
        "workers": pool.workers,
        "timeout_s": pool.policy.timeout_s,
        "memory_mb": pool.policy.memory_mb,
        "isolation": pool.isolation.as_dict(),
    }
