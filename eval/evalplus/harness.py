"""The sandbox side of EvalPlus scoring: a few lines appended to the program, and the jobs.

Every job is the sandbox's ordinary ``calls`` job (see
:mod:`codegen.eval.sandbox.runner`): exec the program, call one function on each
recorded argument list, report each return value as plain data. The appended
harness defines that function, :data:`CALL`, which calls the task's entry point
the way EvalPlus's evaluator does:

- under a per-input time limit (``ITIMER_REAL``; on expiry it raises
  ``EvalPlusTimeLimit``, an ``Exception`` as EvalPlus's own is, so the input
  fails), passed as each call's first argument;
- stopping at the first input that raises (or runs out of time), as EvalPlus's
  check does: the later calls raise at once, so a sample stuck in a loop costs one
  time limit, not one per input (a wrong *value* is only seen here, in the parent,
  so those samples run every input);
- with stdout and stderr swallowed, as EvalPlus does;
- for MBPP's "output is not None" tasks, reporting only what EvalPlus compares
  (a bool as is, anything else as whether it is None), since those outputs
  (``re.Match``...) are not plain data;
- for the canonical solution, also reporting the call's time, from which the
  limits are derived.

Nothing here is trusted: the sample shares the process and can rewrite the harness.
All it can gain is to report outputs of its choice (the verdict still needs the right
ones) or to switch its own per-input alarm off; the job's wall-clock limit is the
launcher's, and the sample cannot lift it.
"""

from __future__ import annotations

from .data import EvalPlusProblem

CALL = "__codegen_evalplus_call__"
TIME_LIMIT_ERROR = "EvalPlusTimeLimit"
"""Exception name the harness raises at a per-input time limit (reported as ``err``)."""
MBPP_OUTPUT_NOT_NONE = ("check_str", "text_match_three", "text_starta_endb")
"""MBPP+ tasks whose outputs EvalPlus compares only as "is not None" (a bool stays a bool)."""

_HARNESS = """

def __codegen_evalplus_harness(entry, canonical, not_none):
    import contextlib
    import io
    import signal
    import time

    class {error}(Exception):
        pass

    def on_alarm(signum, frame):
        raise {error}("time limit exceeded")

    function = globals()[entry]
    failed = []

    def call(limit, *args):
        if failed:  # EvalPlus stops a check at its first failing input; so do we
            raise {error}("skipped: an earlier input failed")
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            if limit:
                signal.signal(signal.SIGALRM, on_alarm)
                signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                start = time.perf_counter()
                out = function(*args)
                elapsed = time.perf_counter() - start
            except BaseException:
                failed.append(True)
                raise
            finally:
                if limit:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        if isinstance(out, dict) and type(out) is not dict and type(out).__module__ == "collections":
            out = dict(out)  # Counter, OrderedDict, defaultdict: compared as dicts, as EvalPlus does
        if canonical:
            return [out is not None if not_none else out, elapsed]
        if not_none:
            return [True, out] if type(out) is bool else [False, out is not None]
        return out

    return call


{call} = __codegen_evalplus_harness({entry!r}, {canonical!r}, {not_none!r})
del __codegen_evalplus_harness
"""


def projects_not_none(problem: EvalPlusProblem) -> bool:
    """True when EvalPlus compares this task's outputs only as "is not None"."""
    return problem.dataset == "mbpp" and problem.entry_point in MBPP_OUTPUT_NOT_NONE


def harness(problem: EvalPlusProblem, canonical: bool) -> str:
    """The code appended to a program so that :data:`CALL` runs ``problem``'s entry point."""
    return _HARNESS.format(
        error=TIME_LIMIT_ERROR,
        call=CALL,
        entry=problem.entry_point,
        canonical=canonical,
        not_none=projects_not_none(problem),
    )


def canonical_program(problem: EvalPlusProblem) -> str:
    """The trusted program: prompt + canonical solution (as EvalPlus runs it) + harness."""
    return problem.prompt + problem.canonical_solution + "\n" + harness(problem, canonical=True)


def sample_program(problem: EvalPlusProblem, program: str) -> str:
    """A sample's program (``prompt + completion`` or a whole ``solution``) + harness."""
    return program + "\n" + harness(problem, canonical=False)


def job_timeout(limits: list[float], cap_s: float) -> float:
    """The job's wall-clock limit, as EvalPlus bounds one check: min(cap, sum of the
    per-input limits) + 1 s, plus 1 s of process start and collection."""
    return min(cap_s, sum(limits)) + 2.0
