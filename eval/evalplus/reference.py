"""EvalPlus's own evaluator, run as a subprocess: the reference of the parity test and bench.

``evalplus`` lives in its own virtual environment (``make evalplus-venv`` makes
``.venv-evalplus``), never in the project's: it pulls model clients the project does
not need. Its evaluator downloads the benchmark unless ``HUMANEVAL_OVERRIDE_PATH`` /
``MBPP_OVERRIDE_PATH`` names a local file, and it insists that the samples cover every
task of that file, so a subset of tasks gets its own problems file here. Its cache
(the canonical solutions' outputs, keyed by the file's hash) goes to a fresh directory,
so every run computes them, as ours does.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from codegen.core.errors import CodegenError

from .data import DATASETS

OVERRIDE_ENV = {"humaneval": "HUMANEVAL_OVERRIDE_PATH", "mbpp": "MBPP_OVERRIDE_PATH"}


class EvalPlusReferenceError(CodegenError):
    """evalplus's evaluator is missing or failed."""


@dataclass
class ReferenceRun:
    statuses: list[tuple[str, str]]
    """``(base_status, plus_status)`` per sample, in the samples file's order."""
    seconds: float
    """Wall time of the evaluator (ground truth included)."""


def default_python() -> Path:
    """``.venv-evalplus/bin/python`` of this checkout."""
    return Path(__file__).resolve().parents[2] / ".venv-evalplus" / "bin" / "python"


def write_subset(problems_file: Path, task_ids: set[str], out: Path) -> Path:
    """The rows of ``problems_file`` whose task is in ``task_ids``, unchanged, as JSONL."""
    opener = gzip.open if problems_file.suffix == ".gz" else open
    with opener(problems_file, "rt", encoding="utf-8") as src, open(out, "w") as dst:
        for line in src:
            if line.strip() and json.loads(line)["task_id"] in task_ids:
                dst.write(line if line.endswith("\n") else line + "\n")
    return out


def run_reference(
    samples: list[dict],
    problems_file: Path,
    workdir: Path,
    python: Path | None = None,
    parallel: int | None = None,
    timeout_s: float = 1800,
    min_time_limit: float | None = None,
    gt_time_limit_factor: float | None = None,
) -> ReferenceRun:
    """Score ``samples`` (rows with ``task_id`` and ``solution`` or ``completion``) with
    ``python -m evalplus.evaluate``; its statuses per sample, in order.

    The evaluator runs in its own session and the whole group is killed past
    ``timeout_s``: evalplus's worker pool, its per-check processes and its non-daemon
    "stuck" watcher thread (which keeps the process alive after an error) all go."""
    python = python or default_python()
    if ".jsonl" in str(workdir):  # evalplus derives its result path with str.replace
        raise EvalPlusReferenceError(f"the work directory must not contain '.jsonl': {workdir}")
    if not python.is_file():
        raise EvalPlusReferenceError(f"{python} not found; run `make evalplus-venv`")
    task_ids = {s["task_id"] for s in samples}
    dataset = DATASETS[next(iter(task_ids)).split("/")[0]]
    workdir.mkdir(parents=True, exist_ok=True)
    subset = write_subset(problems_file, task_ids, workdir / "problems.jsonl")
    sample_file = workdir / "samples.jsonl"
    sample_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
    env = {**os.environ, OVERRIDE_ENV[dataset]: str(subset),
           "XDG_CACHE_HOME": str(workdir / "cache")}  # fmt: skip
    command = [str(python), "-m", "evalplus.evaluate", "--dataset", dataset,
               "--samples", str(sample_file)]  # fmt: skip
    if parallel:
        command += ["--parallel", str(parallel)]
    if min_time_limit is not None:
        command += ["--min_time_limit", str(min_time_limit)]
    if gt_time_limit_factor is not None:
        command += ["--gt_time_limit_factor", str(gt_time_limit_factor)]
    start = time.perf_counter()
    returncode, output = _run_group(command, env, workdir, timeout_s)
    seconds = time.perf_counter() - start
    result_file = workdir / "samples_eval_results.json"
    if returncode != 0 or not result_file.is_file():
        tail = output.strip().splitlines()[-5:]
        raise EvalPlusReferenceError(f"evalplus.evaluate failed ({returncode}): {' | '.join(tail)}")
    results = json.loads(result_file.read_text())["eval"]
    seen: dict[str, int] = defaultdict(int)
    statuses = []
    for sample in samples:
        row = results[sample["task_id"]][seen[sample["task_id"]]]
        seen[sample["task_id"]] += 1
        statuses.append((row["base_status"], row["plus_status"]))
    return ReferenceRun(statuses, seconds)


def _run_group(command: list[str], env: dict, cwd: Path, timeout_s: float) -> tuple[int, str]:
    """Run ``command`` in a new session; its exit status and output (stderr, else stdout).
    Past ``timeout_s`` (or on any interruption) the whole process group is killed."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise EvalPlusReferenceError(
            f"evalplus.evaluate ran past {timeout_s:g} s and was killed"
        ) from None
    except BaseException:
        _kill_group(process)
        raise
    _kill_group(process)  # leftovers of a run that exited (its pool, its watcher)
    return process.returncode, err or out


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
