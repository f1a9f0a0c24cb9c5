"""Score samples on EvalPlus problems: base and plus verdicts per sample.

For each task in the samples, the canonical solution runs once per part (base, plus)
to give the expected outputs and the time limits (:mod:`.expected`). Each sample then
runs twice in the sandbox, once per part, as EvalPlus runs two checks in two
processes; each run reports only return values (:mod:`.harness`), and
:class:`.oracle.OutputCheck` compares them here. A task's samples start as soon as
its canonical runs are back, so one slow task does not hold the rest.

Statuses use EvalPlus's words: ``pass``, ``fail`` (a wrong output, an exception or a
per-input time limit, as in EvalPlus) and ``timeout`` (the whole check ran out of
time). A sample passes the "+" benchmark when both parts pass.
"""

from __future__ import annotations

import hashlib
import queue
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..problems import Sample
from ..sandbox import plain_data
from ..sandbox.pool import SandboxPool
from ..scoring import ScoredSample
from ..verdict import parse_report, sandbox_failure
from .data import EvalPlusProblem
from .expected import (
    PARTS,
    Expected,
    TimeLimits,
    canonical_job,
    expected_from_outcome,
    parse_canonical_id,
)
from .harness import CALL, TIME_LIMIT_ERROR, job_timeout, sample_program
from .oracle import OutputCheck

PASS, FAIL, TIMEOUT = "pass", "fail", "timeout"


@dataclass(frozen=True)
class EvalPlusScored(ScoredSample):
    """A scored row with EvalPlus's two statuses; ``passed`` is the "+" verdict."""

    base_status: str = FAIL
    plus_status: str = FAIL

    def as_row(self) -> dict:
        return {**super().as_row(), "base_status": self.base_status,
                "plus_status": self.plus_status}  # fmt: skip


@dataclass(frozen=True)
class PartVerdict:
    status: str
    detail: str
    """``passed``, ``timed out`` or ``failed: <why>``."""


def judge_part(
    problem: EvalPlusProblem, part: str, expected: Expected, outcome: dict
) -> PartVerdict:
    """The verdict of one part from the sandbox's outcome, compared with ``expected``."""
    if expected.error:
        return PartVerdict(FAIL, f"failed: no oracle: {expected.error}")
    failure = sandbox_failure(outcome)
    if failure:
        timed_out = failure.result == "timed out"
        return PartVerdict(TIMEOUT if timed_out else FAIL,
                           f"{failure.result} ({part})" if timed_out else failure.result)  # fmt: skip
    report = parse_report(outcome)
    if report is None:
        return PartVerdict(FAIL, "failed: the sample ended before reporting")
    if "error" in report:
        return PartVerdict(FAIL, f"failed: {str(report['error'])[:300]}")
    outputs = report.get("outputs")
    inputs = problem.inputs(part)
    if not isinstance(outputs, list) or len(outputs) != len(inputs):
        return PartVerdict(FAIL, "failed: the sample reported the wrong number of outputs")
    if expected.same_as_canonical is not None and outputs == expected.same_as_canonical:
        return PartVerdict(PASS, "passed")  # the canonical outputs, exactly (NaN never is)
    check = OutputCheck(problem)
    for index, (entry, args, want) in enumerate(
        zip(outputs, inputs, expected.outputs, strict=True)
    ):
        where = f"{part} input {index}"
        kind, body = _entry(entry)
        if kind == "err":
            text = str(body)
            if text.startswith(TIME_LIMIT_ERROR):
                limit = expected.limits[index]
                return PartVerdict(FAIL, f"failed: time limit: {limit:.2f} s on {where}")
            return PartVerdict(FAIL, f"failed: {text[:300]} ({where})")
        if kind != "ok":
            return PartVerdict(FAIL, f"failed: not plain data: {where} returned {str(body)[:200]}")
        try:
            value = plain_data.decode(body)
        except (plain_data.NotPlainData, RecursionError) as err:
            return PartVerdict(FAIL, f"failed: malformed report: {where} ({err})")
        if not check.matches(args, value, want):
            return PartVerdict(FAIL, f"failed: wrong output: {where}")
    return PartVerdict(PASS, "passed")


def _entry(entry: Any) -> tuple[str, Any]:
    if isinstance(entry, dict) and len(entry) == 1:
        ((kind, body),) = entry.items()
        return str(kind), body
    return "", None


def combine(sample: Sample, base: PartVerdict, plus: PartVerdict) -> EvalPlusScored:
    """One row from the two parts' verdicts."""
    passed = base.status == plus.status == PASS
    result = "passed" if passed else (base.detail if base.status != PASS else plus.detail)
    return EvalPlusScored(sample.task_id, sample.completion, passed, result, "compared",
                          base_status=base.status, plus_status=plus.status)  # fmt: skip


def score_evalplus(
    samples: list[Sample],
    problems: dict[str, EvalPlusProblem],
    pool: SandboxPool,
    limits: TimeLimits | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[EvalPlusScored]:
    """One row per sample, in input order."""
    limits = limits or TimeLimits()
    by_task: dict[str, list[int]] = defaultdict(list)
    for index, sample in enumerate(samples):
        by_task[sample.task_id].append(index)
    outcomes: queue.Queue = queue.Queue()
    oracles: dict[tuple[str, str], Expected] = {}
    verdicts: dict[tuple[int, str], PartVerdict] = {}

    def record(index: int, part: str, verdict: PartVerdict) -> None:
        verdicts[(index, part)] = verdict
        if on_done and all((index, p) in verdicts for p in PARTS):
            on_done()

    seen: dict[tuple[str, str, str], PartVerdict] = {}

    def judged(problem: EvalPlusProblem, part: str, oracle: Expected, outcome: dict) -> PartVerdict:
        # A verdict is a function of the report alone: identical reports (equal
        # answers, the same failure) are compared once.
        if outcome.get("status") != "exited" or not outcome.get("report"):
            return judge_part(problem, part, oracle, outcome)
        key = (problem.task_id, part, hashlib.sha256(outcome["report"].encode()).hexdigest())
        if key not in seen:
            seen[key] = judge_part(problem, part, oracle, outcome)
        return seen[key]

    pending = 0
    for task_id in by_task:
        for part in PARTS:
            pool.submit(canonical_job(problems[task_id], part), outcomes)
            pending += 1
    while pending:
        outcome = outcomes.get()
        pending -= 1
        canonical = parse_canonical_id(outcome["id"])
        if canonical is None:
            index, part = _sample_id(outcome["id"])
            task_id = samples[index].task_id
            record(index, part, judged(problems[task_id], part, oracles[(task_id, part)], outcome))
            continue
        part, task_id = canonical
        problem = problems[task_id]
        oracle = oracles[(task_id, part)] = expected_from_outcome(problem, part, outcome, limits)
        for index in by_task[task_id]:
            if oracle.error:  # nothing to compare with: no need to run the sample
                record(index, part, judge_part(problem, part, oracle, {}))
            else:
                job = _sample_job(index, part, samples[index], problem, oracle, limits)
                job["max_report_bytes"] = oracle.max_report_bytes(pool.policy.max_report_bytes)
                pool.submit(job, outcomes)
                pending += 1
    return [combine(s, verdicts[(i, "base")], verdicts[(i, "plus")]) for i, s in enumerate(samples)]


def _sample_job(
    index: int, part: str, sample: Sample, problem: EvalPlusProblem, oracle: Expected,
    limits: TimeLimits,
) -> dict:  # fmt: skip
    return {
        "id": f"{index}:{part}",
        "kind": "calls",
        "program": sample_program(problem, sample.program),
        "calls": oracle.calls,
        "entry_point": CALL,
        "timeout_s": job_timeout(oracle.limits, limits.per_check_cap_s),
    }


def _sample_id(job_id: str) -> tuple[int, str]:
    index, part = job_id.split(":")
    return int(index), part
