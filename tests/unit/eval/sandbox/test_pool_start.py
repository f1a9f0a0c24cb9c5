"""A launcher that fails to start: it says why, the pool replaces it, and only a failure
on every try is an error."""

from __future__ import annotations

import logging
import os
import sys

import pytest

from codegen.eval.sandbox import launcher as launcher_mod
from codegen.eval.sandbox import pool as pool_mod
from codegen.eval.sandbox.launcher import SandboxPolicy
from codegen.eval.sandbox.pool import SandboxError, SandboxPool, _Launcher

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

JOB = {"id": "a", "kind": "script", "program": "x = 1", "nonce": "n0nce", "timeout_s": 5}


def test_a_launcher_that_fails_its_setup_says_why(monkeypatch) -> None:
    def broken(policy):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(launcher_mod, "_enter_namespaces", broken)
    jobs_r, jobs_w = os.pipe()
    results_r, results_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the launcher's own code, failing where a fork or mount might
        code = 1
        try:
            os.close(2)  # its traceback is not this test's output
            code = launcher_mod.serve(jobs_r, results_w, SandboxPolicy())
        finally:
            os._exit(code)
    os.close(jobs_r)
    os.close(results_w)
    with pytest.raises(SandboxError, match="BlockingIOError.*temporarily unavailable"):
        _Launcher(jobs_w, results_r).wait_ready()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 70


def test_a_launcher_that_fails_to_start_is_replaced(monkeypatch, caplog) -> None:
    real = _Launcher.wait_ready
    calls = []

    def first_fails(self):
        calls.append(self)
        if len(calls) == 1:
            self.close()
            raise SandboxError("the sandbox launcher failed to start: injected")
        real(self)

    monkeypatch.setattr(_Launcher, "wait_ready", first_fails)
    with caplog.at_level(logging.WARNING, logger=pool_mod.__name__):
        with SandboxPool(2) as pool:
            outcomes = list(pool.run([JOB, {**JOB, "id": "b"}]))
    assert sorted(o["id"] for o in outcomes) == ["a", "b"]
    assert all(o["exit_code"] == 0 and "n0nce" in o["report"] for o in outcomes), outcomes
    assert len(calls) == 3  # two forked launchers, then the replacement
    assert "injected; starting another" in caplog.text


def test_failing_every_try_is_an_error(monkeypatch) -> None:
    def never(self):
        self.close()
        raise SandboxError("the sandbox launcher failed to start: injected")

    monkeypatch.setattr(_Launcher, "wait_ready", never)
    with pytest.raises(SandboxError, match="injected"):
        SandboxPool(2)
