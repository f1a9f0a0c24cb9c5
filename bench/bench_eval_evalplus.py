"""EvalPlus scoring time: codegen-eval vs evalplus's own evaluator, same samples, same run.

The samples are each file's canonical solutions (``solution`` = prompt + canonical
solution), the heavy case: every sample runs every base and plus input. Both sides
compute the canonical solutions' expected outputs within the timed span (evalplus's
cache goes to a fresh directory). evalplus runs from ``.venv-evalplus`` (``make
evalplus-venv``) with its default parallelism (half the CPUs) unless ``--parallel``;
ours uses its default pool (twice the CPUs) unless ``--workers``. Prints JSON: both
times, the ratio (evalplus / ours, so > 1 means we are faster) and the verdicts
(they must agree; HumanEval/32 is evalplus 0.3.1's known find_zero bug).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from codegen.eval.evalplus.data import load_evalplus
from codegen.eval.evalplus.reference import default_python, run_reference
from codegen.eval.evalplus.run import evalplus_policy
from codegen.eval.evalplus.scoring import score_evalplus
from codegen.eval.problems import Sample
from codegen.eval.sandbox.pool import SandboxPool

DATA = Path(
    os.environ.get("CODEGEN_BENCH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
FILES = ("evalplus/MbppPlus.jsonl.gz", "evalplus/HumanEvalPlus.jsonl.gz")


def bench_file(path: Path, workers: int | None, parallel: int | None, workdir: Path) -> dict:
    problems = load_evalplus(str(path))
    rows = [{"task_id": p.task_id, "solution": p.prompt + p.canonical_solution}
            for p in problems.values()]  # fmt: skip
    samples = [Sample(r["task_id"], "", r["solution"]) for r in rows]
    start = time.perf_counter()
    with SandboxPool(workers, evalplus_policy(str(path))) as pool:
        ours = score_evalplus(samples, problems, pool)
        used = pool.workers
    ours_s = time.perf_counter() - start
    theirs = run_reference(rows, path, workdir / path.name.split(".")[0], parallel=parallel)
    mine = [(r.base_status, r.plus_status) for r in ours]
    differ = [r.task_id for r, m, t in zip(ours, mine, theirs.statuses, strict=True) if m != t]
    return {
        "file": path.name,
        "samples": len(samples),
        "ours_s": round(ours_s, 2),
        "ours_workers": used,
        "evalplus_s": round(theirs.seconds, 2),
        "evalplus_parallel": parallel or max(1, (os.cpu_count() or 1) // 2),
        "ratio_evalplus_over_ours": round(theirs.seconds / ours_s, 2),
        "ours_verdicts": dict(collections.Counter("/".join(m) for m in mine)),
        "evalplus_verdicts": dict(collections.Counter("/".join(t) for t in theirs.statuses)),
        "verdicts_differ_on": differ,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", default=list(FILES), help="paths under the data dir")
    parser.add_argument("--workers", type=int, default=None, help="our sandbox processes")
    parser.add_argument("--parallel", type=int, default=None, help="evalplus's workers")
    args = parser.parse_args(argv)
    if not default_python().is_file():
        print(json.dumps({"skipped": "no .venv-evalplus; run `make evalplus-venv`"}))
        return 0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for relative in args.files:
            path = DATA / relative
            if not path.is_file():
                results.append({"file": relative, "skipped": f"{path} not found"})
                continue
            results.append(bench_file(path, args.workers, args.parallel, Path(tmp)))
            print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps({"bench": "eval_evalplus", "cpus": os.cpu_count(), "results": results},
                     indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
