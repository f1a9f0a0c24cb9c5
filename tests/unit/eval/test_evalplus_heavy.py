"""EvalPlus, full files (``make test-heavy``): every canonical solution passes, and our
verdicts equal evalplus's own evaluator's on canonical solutions plus mutants.

evalplus runs from ``.venv-evalplus`` (``make evalplus-venv``, which ``test-heavy``
depends on) as a subprocess, reading the shared files through its override variables.

Size: every task's canonical solution and one mutant per task, on HumanEval+ and MBPP+
(over 400 mutants in all; the issue asks for 300). Mbpp/255 is left out of the parity
(not of the canonical test): its plus outputs are over a GiB, and evalplus ships its
expected outputs to every check of that task through pickles (minutes, GiBs).

Timing: timeouts and per-input time limits depend on the machine. Pairs where either
side ran out of time are left out and counted; evalplus does not say why a check
failed, so every disagreement is scored again by both sides with generous time limits
(:data:`RECHECK`) and counts as timing only if the two then agree. A disagreement
that stays is a mismatch, and so is a recheck share over :data:`MAX_RECHECKED`.
"""

from __future__ import annotations

import collections
import os

import pytest

from codegen.eval.evalplus.data import EvalPlusProblem, load_evalplus
from codegen.eval.evalplus.expected import TimeLimits
from codegen.eval.evalplus.mutants import all_mutants
from codegen.eval.evalplus.reference import default_python, run_reference
from codegen.eval.evalplus.scoring import EvalPlusScored, score_evalplus
from codegen.eval.problems import Sample
from codegen.eval.sandbox.launcher import SandboxPolicy
from codegen.eval.sandbox.pool import SandboxPool

pytestmark = pytest.mark.heavy

PARITY_FILES = ["evalplus/HumanEvalPlus.jsonl.gz", "evalplus/MbppPlus.jsonl.gz"]
"""Scored in full (every canonical solution must pass) and compared with evalplus; the
Mini subset is checked for canonical passes alone."""
DATASET_DEFECTS: dict[str, str] = {}
"""Canonical solutions that fail, with the reason (also listed in eval/README.md)."""
KNOWN_LIMITS = {
    "Mbpp/255": "plus outputs (combinations with replacement, up to 1.66 million 77-tuples) "
    "exceed the 1 GiB report cap of a canonical run: no plus oracle, so plus fails "
    "(evalplus 0.3.1 fails its plus check too, on the largest input)",
}
"""Canonical solutions we fail for a limit of ours, not of the dataset (eval/README.md)."""
EVALPLUS_DIVERGENCES = {
    "HumanEval/32": "evalplus 0.3.1's find_zero oracle skips its per-input bookkeeping and "
    "fails every sample, the canonical solution included (evalplus/evalplus PR #201)",
}
"""Tasks where we deliberately differ from evalplus 0.3.1 (left out of the parity)."""
PARITY_LEFT_OUT = {"Mbpp/255": "plus outputs over 1 GiB (see the module docstring)"}
MUTANTS_PER_TASK = 1
MIN_COMPARED_MUTANTS = {"humaneval": 120, "mbpp": 200}
"""Per file, so that the two together compare at least 300 mutants."""
RECHECK = TimeLimits(min_time_limit=10.0, gt_time_limit_factor=20.0)
CANONICAL_RECHECK = TimeLimits(min_time_limit=10.0, gt_time_limit_factor=20.0,
                               per_check_cap_s=900.0)  # fmt: skip
"""A canonical solution that timed out gets these: no whole-check cap short of 15 min."""
PARALLEL = max(2, os.cpu_count() or 1)
"""evalplus's workers (its default, half the CPUs, is one on a 2-core machine)."""
MAX_RECHECKED = 0.05
"""At most this share of the pairs may be timing disagreements resolved by the recheck."""


def _pool():
    return SandboxPool(None, SandboxPolicy(timeout_s=3.0, memory_mb=4096))


def _timing(row: EvalPlusScored) -> bool:
    return "timeout" in (row.base_status, row.plus_status) or "time limit" in row.result


def _statuses(rows: list[EvalPlusScored]) -> list[tuple[str, str]]:
    return [(r.base_status, r.plus_status) for r in rows]


def _score_canonical_solutions(
    problems: dict[str, EvalPlusProblem], samples: list[Sample], pool: SandboxPool
) -> tuple[list[EvalPlusScored], list[EvalPlusScored]]:
    """``samples`` scored, of which the first ``len(problems)`` are the canonical
    solutions, in the order of ``problems``; then the canonical ones that ran out of
    time scored again with generous limits (a loaded machine can push a canonical
    solution past them: Mbpp/599 sums ranges of 10^8 sixteen times, a minute of CPU on
    a slow core). Returns every first-pass row, and the canonical rows after the recheck."""
    rows = score_evalplus(samples, problems, pool)
    canonical = rows[: len(problems)]
    slow = [s for s, r in zip(samples, canonical, strict=False) if _timing(r)]
    again = {r.task_id: r for r in score_evalplus(slow, problems, pool, CANONICAL_RECHECK)}
    return rows, [again.get(r.task_id, r) for r in canonical]


def _assert_canonical_solutions_pass(problems: dict[str, EvalPlusProblem], rows) -> None:
    failed = {r.task_id: r.result for r in rows if not r.passed}
    assert set(failed) == (set(DATASET_DEFECTS) | set(KNOWN_LIMITS)) & set(problems), failed
    for task_id in set(KNOWN_LIMITS) & set(problems):  # base is compared; plus has no oracle
        row = next(r for r in rows if r.task_id == task_id)
        assert row.base_status == "pass" and "no oracle" in row.result, row.result


def _canonical_samples(problems: dict[str, EvalPlusProblem]) -> list[Sample]:
    return [Sample(p.task_id, "", p.prompt + p.canonical_solution) for p in problems.values()]


@pytest.mark.timeout(900)
def test_every_canonical_solution_passes_on_the_mini_subset(bench_data) -> None:
    """HumanEval+-Mini on its own (the full files' canonical solutions are checked in
    :func:`test_canonical_solutions_pass_and_verdicts_match_evalplus`)."""
    problems = load_evalplus(str(bench_data("evalplus/HumanEvalPlus-Mini.jsonl.gz")))
    with _pool() as pool:
        first, rows = _score_canonical_solutions(problems, _canonical_samples(problems), pool)
    _assert_canonical_solutions_pass(problems, rows)
    rescored = sum(map(_timing, first))
    print(f"HumanEvalPlus-Mini: {len(rows)} canonical solutions, {rescored} rescored for timing")


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("relative", PARITY_FILES)
def test_canonical_solutions_pass_and_verdicts_match_evalplus(
    bench_data, relative: str, tmp_path
) -> None:
    """One scoring pass serves both checks: every canonical solution passes (after the
    timing recheck), and ours and evalplus's verdicts agree on the canonical solutions
    and the mutants (tasks in :data:`PARITY_LEFT_OUT` are scored, not compared)."""
    path = bench_data(relative)
    problems = load_evalplus(str(path))
    chosen: dict[str, EvalPlusProblem] = {
        t: p for t, p in problems.items() if t not in PARITY_LEFT_OUT
    }
    dataset = next(iter(chosen.values())).dataset
    mutants = list(all_mutants(chosen.values(), MUTANTS_PER_TASK))
    canonical = _canonical_samples(problems)
    mutant_rows = [m.as_sample() for m in mutants]
    samples = canonical + [Sample(r["task_id"], r["solution"], r["solution"]) for r in mutant_rows]
    with _pool() as pool:
        first, canonical_rows = _score_canonical_solutions(problems, samples, pool)
    _assert_canonical_solutions_pass(problems, canonical_rows)
    rescored = sum(map(_timing, first[: len(canonical)]))
    print(f"{relative}: {len(canonical)} canonical solutions, {rescored} rescored for timing")
    if not default_python().is_file():
        pytest.skip("no .venv-evalplus for the parity half; run `make evalplus-venv`")

    # Parity: the first pass's verdicts (ours) against evalplus's, on the chosen tasks.
    indices = [i for i, s in enumerate(samples) if s.task_id in chosen]
    rows = [{"task_id": samples[i].task_id, "solution": samples[i].program} for i in indices]
    ours = [first[i] for i in indices]
    theirs = run_reference(rows, path, tmp_path / "evalplus", parallel=PARALLEL,
                           timeout_s=1200).statuses  # fmt: skip
    mine = _statuses(ours)
    timing = {i for i, row in enumerate(ours) if _timing(row) or "timeout" in theirs[i]}
    differ = [i for i in range(len(rows))
              if i not in timing and rows[i]["task_id"] not in EVALPLUS_DIVERGENCES
              and mine[i] != theirs[i]]  # fmt: skip
    resolved = set()
    if differ:  # machine speed or a real mismatch: score them again, both sides, slowly
        again = [rows[i] for i in differ]
        with _pool() as pool:
            ours_again = score_evalplus([samples[indices[i]] for i in differ], chosen, pool,
                                        RECHECK)  # fmt: skip
        theirs_again = run_reference(again, path, tmp_path / "recheck", parallel=PARALLEL,
                                     timeout_s=1200,
                                     min_time_limit=RECHECK.min_time_limit,
                                     gt_time_limit_factor=RECHECK.gt_time_limit_factor)  # fmt: skip
        for i, m, t in zip(differ, _statuses(ours_again), theirs_again.statuses, strict=True):
            if m == t:
                resolved.add(i)
    counts: collections.Counter = collections.Counter()
    mismatches = []
    n_canonical = sum(1 for i in indices if i < len(canonical))
    for i, row in enumerate(ours):
        is_mutant = i >= n_canonical
        if row.task_id in EVALPLUS_DIVERGENCES:
            counts["divergent task"] += 1
        elif i in timing:
            counts["timing"] += 1
        elif i in resolved:
            counts["timing (agreed on recheck)"] += 1
        else:
            counts["compared"] += 1
            counts["mutants compared"] += is_mutant
            counts["failed"] += "fail" in mine[i]
            if mine[i] != theirs[i]:
                mismatches.append((row.task_id, row.result, mine[i], theirs[i]))
    print(f"{relative}: {len(rows)} samples ({len(mutants)} mutants), {dict(counts)}")
    assert mismatches == []
    assert len(resolved) <= MAX_RECHECKED * len(rows), (len(resolved), "timing disagreements")
    assert counts["mutants compared"] >= MIN_COMPARED_MUTANTS[dataset]
    assert counts["failed"] >= counts["mutants compared"] // 2  # most mutants are caught
