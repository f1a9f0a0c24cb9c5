"""Expected outputs and per-input time limits, from the canonical solution, once per run.

EvalPlus runs each task's canonical solution on every base and plus input, keeps the
outputs as the oracle and times each call; an input's limit is
``max(min_time_limit, gt_time_limit_factor * canonical time)``. Here the canonical
solution runs in the sandbox like any other program (it is the problem file's code),
through the same harness, which also reports each call's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..sandbox import plain_data
from ..verdict import parse_report, sandbox_failure
from .data import EvalPlusProblem
from .harness import CALL, canonical_program
from .oracle import has_special_oracle

PARTS = ("base", "plus")
CANONICAL_TIMEOUT_S = 1200.0
"""Wall-clock limit for one canonical run (all the inputs of one part)."""
CANONICAL_PREFIX = "canonical:"
CANONICAL_MAX_REPORT_BYTES = 1 << 30
"""The canonical solution is the problem file's code: only memory bounds its report."""
REPORT_SIZE_FACTOR, REPORT_SIZE_SLACK = 4, 1 << 20
"""A sample may report 4 x the canonical report plus 1 MiB (at least the policy's cap),
the rule of :mod:`codegen.eval.scoring`: room for honest answers, not for floods."""


@dataclass(frozen=True)
class TimeLimits:
    """EvalPlus's time-limit settings (its defaults: 1 s, factor 4, 60 s per check)."""

    min_time_limit: float = 1.0
    gt_time_limit_factor: float = 4.0
    per_check_cap_s: float = 60.0
    """EvalPlus's ``EVALPLUS_TIMEOUT_PER_TASK``: a whole check never gets more (+2 s)."""

    def limit(self, canonical_s: float) -> float:
        return max(self.min_time_limit, self.gt_time_limit_factor * canonical_s)


@dataclass
class Expected:
    """One part (base or plus) of one task: what the samples' outputs are compared with."""

    outputs: list[Any] = field(default_factory=list)
    limits: list[float] = field(default_factory=list)
    calls: bytes = b"[]"
    """The sandbox calls for a sample: ``(limit, *args)`` per input, plain-data encoded,
    as one JSON array (built once, sent raw to every sample)."""
    report_bytes: int = 0
    """Size of the canonical run's report."""
    error: str = ""
    """Why there is no oracle (the canonical solution failed): a dataset defect."""
    same_as_canonical: list | None = None
    """The report entries (parsed JSON) of a sample whose outputs equal the canonical
    ones value for value and type for type: such a sample passes without a decode. None
    where equal outputs need not pass (special oracles)."""

    def max_report_bytes(self, default: int) -> int:
        """A sample's report cap, sized from the canonical solution's own report."""
        return max(default, REPORT_SIZE_FACTOR * self.report_bytes + REPORT_SIZE_SLACK)


def encode_calls(inputs: list, limits: list[float | None]) -> bytes:
    """The ``calls`` payload: one JSON array of the harness's ``(limit, *args)`` calls."""
    pairs = zip(inputs, limits, strict=True)
    return (
        "[" + ",".join(plain_data.dumps(([lim, *args], {})) for args, lim in pairs) + "]"
    ).encode()


def canonical_job(problem: EvalPlusProblem, part: str) -> dict:
    """The sandbox job that runs the canonical solution on every input of ``part``."""
    inputs = problem.inputs(part)
    return {
        "id": f"{CANONICAL_PREFIX}{part}:{problem.task_id}",
        "kind": "calls",
        "program": canonical_program(problem),
        "calls": encode_calls(inputs, [None] * len(inputs)),
        "entry_point": CALL,
        "timeout_s": CANONICAL_TIMEOUT_S,
        "max_report_bytes": CANONICAL_MAX_REPORT_BYTES,
    }


def parse_canonical_id(job_id: Any) -> tuple[str, str] | None:
    """``(part, task_id)`` for a canonical job's id, else None."""
    if isinstance(job_id, str) and job_id.startswith(CANONICAL_PREFIX):
        part, _, task_id = job_id[len(CANONICAL_PREFIX) :].partition(":")
        return part, task_id
    return None


def expected_from_outcome(
    problem: EvalPlusProblem, part: str, outcome: dict, limits: TimeLimits
) -> Expected:
    """The oracle for ``part`` from the canonical run's outcome (or why there is none)."""
    failure = sandbox_failure(outcome)
    if failure:
        return Expected(error=f"the canonical solution {failure.result} on the {part} inputs")
    report = parse_report(outcome)
    if report is None or "error" in report:
        why = (report or {}).get("error", "it did not report")
        return Expected(error=f"the canonical solution failed on the {part} inputs: {why}")
    inputs = problem.inputs(part)
    entries = report.get("outputs")
    if not isinstance(entries, list) or len(entries) != len(inputs):
        return Expected(error=f"the canonical solution reported no outputs for {part}")
    outputs, times, same = [], [], []
    for index, entry in enumerate(entries):
        kind, body = next(iter(entry.items())) if isinstance(entry, dict) and entry else ("", "")
        if kind != "ok":
            return Expected(
                error=f"the canonical solution failed on {part} input {index}: {body}"[:300]
            )
        try:
            value, elapsed = plain_data.decode(body)
        except (plain_data.NotPlainData, ValueError, TypeError) as err:
            return Expected(
                error=f"the canonical output on {part} input {index} is not plain data ({err})"
            )
        outputs.append(value)
        times.append(float(elapsed))
        same.append({"ok": body[0]})
    per_input = [limits.limit(t) for t in times]
    size = len(outcome.get("report") or "")
    equal_passes = not has_special_oracle(problem)
    return Expected(outputs, per_input, encode_calls(inputs, per_input), size,
                    same_as_canonical=same if equal_passes else None)  # fmt: skip
