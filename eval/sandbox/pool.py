"""A warm pool of sandbox launchers, fed from one queue by one thread per launcher.

Each launcher (see :mod:`codegen.eval.sandbox.launcher`) is a separate process, forked
from one interpreter that the pool starts with a minimal environment, so neither our
secrets nor the problems' answers are in the memory its samples are forked from.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from .isolation import Isolation
from .launcher import SandboxPolicy
from .wire import read_frame, write_frame

log = logging.getLogger(__name__)

LAUNCHER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_GRACE_S = 30.0
"""How long past a job's own timeout we wait before declaring its launcher hung."""
START_ATTEMPTS = 3
"""Tries to get a launcher ready when a pool opens: one that fails to start is replaced by
a launcher process of its own, and only a failure every time is an error."""


class SandboxError(RuntimeError):
    """A launcher could not be started (a bug or an unsupported platform)."""


def _start(policy: SandboxPolicy, count: int) -> tuple[subprocess.Popen, list[tuple[int, int]]]:
    """One launcher process that forks into ``count`` launchers once its modules are
    loaded: that process, and each launcher's ``(jobs fd, results fd)``."""
    ours, theirs = [], []
    for _ in range(count):
        jobs_r, jobs_w = os.pipe()
        results_r, results_w = os.pipe()
        ours.append((jobs_w, results_r))
        theirs.append((jobs_r, results_w))
    cmd = [sys.executable, "-I", "-m", "codegen.eval.sandbox.launcher"]
    cmd += ["--jobs-fd", ",".join(str(fds[0]) for fds in theirs)]
    cmd += ["--results-fd", ",".join(str(fds[1]) for fds in theirs)]
    cmd += ["--policy", json.dumps(asdict(policy))]
    proc = subprocess.Popen(
        cmd,
        pass_fds=[fd for fds in theirs for fd in fds],
        env=LAUNCHER_ENV,
        cwd="/",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    for fds in theirs:
        for fd in fds:
            os.close(fd)
    return proc, ours


class _Launcher:
    """One launcher: its pipes, and its process (``proc`` when it is a process of its
    own; a launcher forked by a pool's first process is signalled through a pidfd).
    ``wait_ready`` reads its isolation report (split so that several boot in parallel)."""

    def __init__(self, jobs_w: int, results_r: int, proc: subprocess.Popen | None = None) -> None:
        self.jobs_w, self.results_r, self.proc = jobs_w, results_r, proc
        self.pidfd: int | None = None
        self.cgroup_dir: str | None = None

    @classmethod
    def standalone(cls, policy: SandboxPolicy) -> _Launcher:
        """A launcher process of its own, ready (replaces one that died or hung)."""
        proc, [(jobs_w, results_r)] = _start(policy, 1)
        launcher = cls(jobs_w, results_r, proc)
        launcher.wait_ready()
        return launcher

    def wait_ready(self) -> None:
        ready = read_frame(self.results_r)
        if not ready or "ready" not in ready:
            self.close()
            why = (ready or {}).get("error") or "it exited without a word (see its stderr)"
            raise SandboxError(f"the sandbox launcher failed to start: {why}")
        self.isolation = Isolation(**ready["ready"])
        self.cgroup_dir = ready.get("cgroup")
        if self.proc is None and type(ready.get("pid")) is int:
            try:
                self.pidfd = os.pidfd_open(ready["pid"])
            except OSError:
                pass  # already gone

    def run(self, job: dict, timeout_s: float) -> dict | None:
        """The launcher's outcome for ``job``; None if the launcher died or hung."""
        try:
            write_frame(self.jobs_w, job)
            ready, _, _ = select.select([self.results_r], [], [], timeout_s + _GRACE_S)
            return read_frame(self.results_r) if ready else None
        except (BrokenPipeError, OSError, ValueError):
            return None

    def close(self) -> None:
        fds, self.jobs_w, self.results_r = (self.jobs_w, self.results_r), -1, -1
        for fd in fds:  # once only: a second close could hit a reused descriptor number
            if fd < 0:
                continue
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        elif self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                select.select([self.pidfd], [], [], _GRACE_S)  # readable once it has exited
            except OSError:
                pass
            os.close(self.pidfd)
            self.pidfd = None
        if self.cgroup_dir:
            for _ in range(50):  # its samples may take a moment to die after the launcher
                try:
                    os.rmdir(self.cgroup_dir)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


class SandboxPool:
    """Run jobs in isolated children of ``workers`` warm launchers.

    Use as a context manager. :attr:`isolation` says what the kernel allowed.
    """

    def __init__(self, workers: int | None = None, policy: SandboxPolicy | None = None) -> None:
        self.policy = policy or SandboxPolicy()
        # Twice the CPUs: a sample's wall time is mostly fork/exit latency, not computation.
        self.workers = max(1, workers or 2 * (os.cpu_count() or 1))
        # Lower priority first, then submission order (recordings unblock samples).
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        # Launchers are started from this thread: PR_SET_PDEATHSIG follows the creating
        # thread. One interpreter starts and forks into them (see launcher._fork_launchers).
        self._first, pipes = _start(self.policy, self.workers)
        self._launchers = [_Launcher(jobs_w, results_r) for jobs_w, results_r in pipes]
        try:
            for slot, launcher in enumerate(self._launchers):
                try:
                    launcher.wait_ready()
                except SandboxError as err:
                    self._launchers[slot] = self._replacement(err)
        except SandboxError:
            self.close_launchers()
            raise
        self.isolation = self._launchers[0].isolation
        self._threads = [
            threading.Thread(target=self._serve, args=(i,), daemon=True)
            for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def _replacement(self, failure: SandboxError) -> _Launcher:
        """A launcher process of its own for one that failed to start, or the error when
        :data:`START_ATTEMPTS` tries all fail (a platform that cannot isolate, a bug)."""
        for _ in range(START_ATTEMPTS - 1):
            log.warning("%s; starting another", failure)
            try:
                return _Launcher.standalone(self.policy)
            except SandboxError as err:
                failure = err
        raise failure

    def submit(self, job: dict, results: queue.Queue, priority: int = 1) -> None:
        """Queue ``job``; its outcome will be put on ``results``. Jobs of a lower
        ``priority`` number start first (scoring gives recordings 0)."""
        self._queue.put((priority, next(self._order), (job, results)))

    def run(self, jobs: Iterable[dict]) -> Iterator[dict]:
        """Outcomes of ``jobs`` (each needs a unique ``id``), in completion order."""
        results: queue.Queue = queue.Queue()
        count = 0
        for job in jobs:
            self.submit(job, results)
            count += 1
        for _ in range(count):
            yield results.get()

    def _serve(self, slot: int) -> None:
        while (item := self._queue.get()[2]) is not None:
            job, results = item
            timeout = float(job.get("timeout_s") or self.policy.timeout_s)
            outcome = self._launchers[slot].run(job, timeout)
            if outcome is None:
                outcome = {"id": job["id"], "status": "sandbox_error", "report": ""}
                self._launchers[slot].close()
                self._launchers[slot] = _Launcher.standalone(self.policy)
            elif type(outcome.get("report")) is bytes:
                outcome["report"] = outcome["report"].decode("utf-8", "replace")
            results.put(outcome)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put((float("inf"), next(self._order), None))
        for thread in self._threads:
            thread.join(timeout=_GRACE_S)
        self.close_launchers()

    def close_launchers(self) -> None:
        for launcher in self._launchers:
            launcher.close()
        self._first.kill()
        self._first.wait()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
