"""Execution-based fill-in-the-middle tasks cut from HumanEval's canonical solutions.

For each problem, the program ``prompt + canonical_solution`` is parsed with
tree-sitter (:func:`codegen.core.syntax.node_spans`) and, with a fixed seed, one
*single-line* hole (a statement or expression on one line) and one *multi-line*
hole (a statement or block over 2-8 lines) are chosen inside the solution body.
The model sees ``engine.fim.build_prompt(prefix, suffix)``, writes the middle,
and ``prefix + middle + suffix`` is scored by executing the problem's tests.
This is the metric that matches inline completion in the editor.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from .problems import Problem

MODES = ("single", "multi")
MAX_MULTI_LINES = 8
BENCHMARK = "tree-sitter holes cut from HumanEval"
"""What reports call this set, so it is never mistaken for HumanEval-infilling."""


@dataclass(frozen=True)
class InfillTask:
    task_id: str
    """``<problem id>#<mode>``."""
    mode: str
    prefix: str
    middle: str
    suffix: str
    problem: Problem
    """The problem to score with: empty prompt, the whole program as canonical solution."""


def _candidates(source: str, body_start: int, mode: str) -> list[tuple[int, int]]:
    from codegen.core.syntax import node_spans

    found = set()
    for span in node_spans(source, "python"):
        if span.start < body_start or not source[span.start : span.end].strip():
            continue
        lines = source.count("\n", span.start, span.end) + 1
        text = source[span.start : span.end]
        if mode == "single" and lines == 1 and span.kind in ("statement", "expression"):
            found.add((span.start, span.end))
        elif mode == "multi" and 2 <= lines <= MAX_MULTI_LINES and "\n" in text.strip():
            if span.kind in ("statement", "block"):
                found.add((span.start, span.end))
    return sorted(found)


def build_infill_tasks(
    problems: Iterable[Problem], seed: int = 0, modes: Iterable[str] = MODES
) -> list[InfillTask]:
    """One task per problem and mode where a suitable span exists; deterministic in ``seed``."""
    tasks = []
    for problem in problems:
        source = problem.prompt + problem.canonical_solution
        for mode in modes:
            spans = _candidates(source, len(problem.prompt), mode)
            if not spans:
                continue
            start, end = random.Random(f"{seed}:{problem.task_id}:{mode}").choice(spans)
            task_id = f"{problem.task_id}#{mode}"
            scored = Problem(task_id, "", source, problem.test, problem.entry_point)
            tasks.append(
                InfillTask(task_id, mode, source[:start], source[start:end], source[end:], scored)
            )
    return tasks


def task_counts(tasks: Iterable[InfillTask]) -> dict[str, int]:
    counts = dict.fromkeys(MODES, 0)
    for task in tasks:
        counts[task.mode] += 1
    return counts
