"""Kernel isolation primitives for the sandbox (Linux only), via ctypes.

Python 3.11 has no ``os.unshare``/``mount``/``prctl``, so this module wraps the
few libc calls the launcher needs. Every function raises ``OSError`` on failure;
the callers decide what is optional.
"""

from __future__ import annotations

import ctypes
import os
import resource
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
_OPTION_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38


@dataclass
class Isolation:
    """What the launcher achieved; reported in metrics.json and the README's terms."""

    network: bool = False
    """A new, empty network namespace (no interface is up)."""
    mount: bool = False
    """A private mount namespace: every mount read-only, private tmpfs on /tmp."""
    pid: bool = False
    """A new PID namespace: the launcher is its init, the sample sees no outside process."""
    user: str = "unchanged"
    """``"uid <n>"`` (root drops to an unused uid), ``"userns"`` (rootless), or unchanged."""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc().unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype)]
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    _check(libc.mount(*enc, flags, data.encode() if data else None), f"mount {target}")


@cache
def _prctl() -> Any:
    function = _libc().prctl
    function.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    return function


def prctl(option: int, arg: int = 0) -> None:
    _check(_prctl()(option, arg, 0, 0, 0), f"prctl {option}")


def write_id_maps(uid: int, gid: int) -> None:
    """Map root inside a fresh user namespace to our real uid/gid (rootless mode)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def drop_bounding_set() -> None:
    """Empty the capability bounding set (inherited by children): nothing this process or
    its children execute can gain a capability. Silently partial without CAP_SETPCAP."""
    cap = 0
    while True:
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError:
            break
        cap += 1


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]


_CapDataPair = _CapData * 2

_CAPSET = 91 if os.uname().machine == "aarch64" else 126
"""capset's syscall number (x86_64 and aarch64 differ; only x86_64 is exercised by the
tests). Built once, like the structures above: every sample calls this right after its
fork, where each object first touched costs a copied page."""


def clear_capabilities() -> None:
    """Empty this process's effective, permitted and inheritable capability sets."""
    header, data = _CapHeader(0x20080522, 0), _CapDataPair()
    _check(_libc().syscall(_CAPSET, ctypes.byref(header), ctypes.byref(data)), "capset")


def mount_points() -> list[tuple[str, int]]:
    """``(mount point, flags to keep)`` for every mount, from /proc/self/mountinfo."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            target = fields[4].encode().decode("unicode_escape")
            flags = 0
            for opt in fields[5].split(","):
                flags |= _OPTION_FLAGS.get(opt, 0)
            points.append((target, flags))
    return points


def make_filesystem_read_only(
    hide: list[str], tmpfs_mb: int, private_tmp: dict[str, int]
) -> list[str]:
    """In a private mount namespace: remount every mount read-only, put a fresh tmpfs on
    /tmp, /var/tmp and /dev/shm, and cover each path of ``hide`` with an empty tmpfs.
    Each tmpfs mounted here is added to ``private_tmp`` (path -> its st_dev), the only
    places the launcher will ever empty. Returns notes about what could not be done."""
    notes = []
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    for target, keep in mount_points():
        try:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError as err:
            notes.append(f"could not make {target} read-only ({err.strerror})")
    tmp_opts = f"size={tmpfs_mb}m,mode=0755"
    for target in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(target):
            try:
                before = os.stat(target).st_dev
                mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts)
                if os.stat(target).st_dev != before:
                    private_tmp[target] = os.stat(target).st_dev
            except OSError as err:
                notes.append(f"no private tmpfs on {target} ({err.strerror})")
    for target in hide:
        if os.path.isdir(target):
            try:
                mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k")
            except OSError as err:
                notes.append(f"could not hide {target} ({err.strerror})")
    return notes


def mount_private_proc() -> None:
    """A read-only /proc that shows only this PID namespace (call as its init)."""
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    mount("proc", "/proc", "proc", flags)
    mount(None, "/proc", None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def make_pids_cgroup(name: str, max_pids: int) -> tuple[int, str] | None:
    """A pids cgroup (v1 controller, or v2 under our own cgroup) limited to ``max_pids``.

    Returns ``(fd of its cgroup.procs opened for writing, directory)``: the fd keeps
    working after the filesystem is made read-only; a process joins by writing "0".
    None when no writable pids controller exists (then the README's caveat applies).
    """
    candidates = ["/sys/fs/cgroup/pids"]
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    candidates.append("/sys/fs/cgroup" + line[3:].strip())
    except OSError:
        pass
    for parent in candidates:
        path = os.path.join(parent, name)
        try:
            os.mkdir(path)
        except OSError:
            continue
        try:
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(max_pids))
            return os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY), path
        except OSError:
            os.rmdir(path)
    return None


def set_limits(cpu_s: int, memory_mb: int, file_mb: int, nproc: int | None) -> None:
    """Per-process resource limits for the sample (inherited by its children)."""
    mb = 1024 * 1024
    limits = [
        (resource.RLIMIT_CPU, (cpu_s, cpu_s + 1)),
        (resource.RLIMIT_AS, (memory_mb * mb, memory_mb * mb)),
        (resource.RLIMIT_FSIZE, (file_mb * mb, file_mb * mb)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NOFILE, (64, 64)),
    ]
    if nproc is not None:
        limits.append((resource.RLIMIT_NPROC, (nproc, nproc)))
    for kind, value in limits:
        resource.setrlimit(kind, value)
