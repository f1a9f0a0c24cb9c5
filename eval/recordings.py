"""A persistent cache of recorded test plans, so a task's trusted program is recorded once.

Recording a task (:func:`codegen.eval.scoring.record_job`) runs the canonical solution
and the test in the sandbox; on heavy suites that is most of the scoring time. Its
outcome is a pure function of what :func:`recording_key` hashes (the trusted program,
the entry point, the runner and encoding code, ``TEST_SEED``, the Python build and the
memory limit), so it is stored under that key and reused by later runs.

Where: ``$CODEGEN_EVAL_CACHE``, else ``$CODEGEN_CACHE_DIR/eval-recordings``, else
``$XDG_CACHE_HOME/codegen/eval-recordings``, else ``~/.cache/codegen/eval-recordings``.

What a corrupted or forged entry could do, and why it cannot:

- wrong ``calls`` (inputs): the replay raises ``InputsChanged`` when the test's inputs
  differ from the plan's, and the task falls back to running its test in the sandbox;
- wrong ``expected`` digest or ``mode``: this could pass a wrong sample (its report would
  match the forged digest) or downgrade a task to the weaker in-sandbox check. So every
  entry carries an HMAC-SHA256, under a random key kept in the cache directory (mode
  0600), of its own cache key and plan: an entry copied from another machine or user, put
  under another task's name, cut short or edited is ignored and recorded again;
- samples cannot write here: the sandbox remounts everything read-only and hides this
  directory (see :func:`codegen.eval.runs.sandbox_policy`), and the directory must not
  be writable by other users. Someone who can write files as you can also edit this
  code: that is outside what any cache can defend against.

Only deterministic outcomes are stored (a recording that exited and reported). A
recording that timed out or was killed is not: its time depends on the machine's load,
and concurrent untrusted samples can cause that load, so caching it would let them
downgrade a task to the in-sandbox check for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from codegen.core.errors import ConfigError

from .sandbox import plain_data, runner

CACHE_ENV = "CODEGEN_EVAL_CACHE"
FORMAT = 2
"""Bump when the entry layout or the meaning of a plan changes."""
_KEY_FILE = "hmac.key"
_SEAL_HEAD, _SEAL_MIDDLE = b'{"mac":"', b'","entry":'
"""A cache file: ``{"mac":"<64 hex>","entry":<body>}``."""
_HEX64 = re.compile(r"[0-9a-f]{64}")


def default_cache_dir() -> Path:
    """The cache directory from the environment (see the module docstring)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get("CODEGEN_CACHE_DIR"):
        return Path(os.environ["CODEGEN_CACHE_DIR"]).expanduser() / "eval-recordings"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codegen" / "eval-recordings"


@lru_cache(maxsize=1)
def runner_version() -> str:
    """SHA-256 of the code that makes a recording (runner, plain-data encoding)."""
    digest = hashlib.sha256()
    for module in (runner, plain_data):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def recording_key(program: str, entry_point: str, memory_mb: int) -> str:
    """The cache key of a recording: everything its outcome depends on."""
    material = {
        "format": FORMAT,
        "program": program,
        "entry_point": entry_point,
        "runner": runner_version(),
        "seed": runner.TEST_SEED,
        "python": [sys.implementation.name, sys.version],
        "memory_mb": memory_mb,
    }
    text = json.dumps(material, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RecordingCache:
    """Recorded plans on disk, one authenticated JSON file per key."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.hits = self.misses = self.rejected = self.written = 0
        self._secret: bytes | None = None

    def prepare(self) -> bytes:
        """Create the directory (0700) and its key; refuse one others can write."""
        if self._secret is None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            info = self.directory.stat()
            if info.st_uid != os.geteuid() or info.st_mode & 0o022:
                raise ConfigError(
                    f"recording cache {self.directory} is writable by other users or not "
                    f"yours; fix its permissions, set {CACHE_ENV}, or pass --no-cache"
                )
            self._secret = self._load_secret()
        return self._secret

    def _load_secret(self) -> bytes:
        path = self.directory / _KEY_FILE
        try:
            secret = path.read_bytes()
            if len(secret) == 32:
                return secret
        except FileNotFoundError:
            pass
        secret = secrets.token_bytes(32)
        self._write_atomic(path, secret)  # a bad key file is replaced: its entries go stale
        return secret

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def _seal(self, key: str, plan: dict) -> bytes:
        """The file of an entry: ``{"mac": HMAC of the body, "entry": body}``, where the
        body is the JSON text of the format, the key and the plan, kept byte for byte so
        that checking it needs no second serialization."""
        body = json.dumps({"format": FORMAT, "key": key, "plan": plan}).encode("ascii")
        mac = hmac.new(self.prepare(), body, "sha256").hexdigest().encode("ascii")
        return _SEAL_HEAD + mac + _SEAL_MIDDLE + body + b"}"

    def _open(self, data: bytes) -> Any:
        """The entry a sealed file holds, or None when it is not one or its MAC is wrong
        (checked before its body is parsed)."""
        mac_at = len(_SEAL_HEAD)
        body_at = mac_at + 64 + len(_SEAL_MIDDLE)
        head, body = data[:body_at], data[body_at:-1]
        if not (head.startswith(_SEAL_HEAD) and head.endswith(_SEAL_MIDDLE)):
            return None
        mac = hmac.new(self.prepare(), body, "sha256").hexdigest().encode("ascii")
        if not data.endswith(b"}") or not hmac.compare_digest(head[mac_at : mac_at + 64], mac):
            return None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return None

    def get(self, key: str) -> dict | None:
        """The stored plan for ``key``, or None when absent, corrupt or not authentic."""
        self.prepare()
        try:
            entry = self._open(self.path(key).read_bytes())
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError:
            entry = None
        plan = entry.get("plan") if isinstance(entry, dict) else None
        ok = (
            isinstance(entry, dict)
            and entry.get("format") == FORMAT
            and entry.get("key") == key
            and valid_plan(plan)
        )
        if not ok:
            self.rejected += 1
            return None
        self.hits += 1
        return plan

    def put(self, key: str, plan: dict) -> None:
        """Store ``plan`` under ``key`` atomically (a reader sees the old entry or the new)."""
        if not valid_plan(plan):
            raise ValueError("not a recorded plan")
        data = self._seal(key, plan)
        try:
            self.path(key).parent.mkdir(exist_ok=True, mode=0o700)
            # Not synced: an entry a crash leaves torn or empty fails its MAC and is
            # recorded again, so durability would only cost every recording a disk flush.
            self._write_atomic(self.path(key), data, durable=False)
            self.written += 1
        except OSError as err:  # a full disk must not fail a run: the cache is an optimization
            print(f"codegen-eval: warning: recording cache not written ({err})", file=sys.stderr)

    def _write_atomic(self, path: Path, data: bytes, durable: bool = True) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "rejected": self.rejected,
                "written": self.written}  # fmt: skip


def valid_plan(plan: Any) -> bool:
    """The shape of a stored plan: ``{"mode": "script", "reason": str}`` or
    ``{"mode": "calls", "calls": [str, ...], "expected": [int, sha256] | None}``, with
    optionally ``"inputs"``: the inputs pickled for the sandbox, base64 (see
    :attr:`codegen.eval.scoring.TaskPlan.calls_pickle`)."""
    if not isinstance(plan, dict):
        return False
    if plan.get("mode") == "script":
        return set(plan) == {"mode", "reason"} and type(plan["reason"]) is str
    keys = set(plan) - {"inputs"}
    if plan.get("mode") != "calls" or keys != {"mode", "calls", "expected"}:
        return False
    if type(plan.get("inputs", "")) is not str:
        return False
    calls, expected = plan["calls"], plan["expected"]
    if not isinstance(calls, list) or not calls or not all(type(c) is str for c in calls):
        return False
    if expected is None:
        return True
    return (
        isinstance(expected, list)
        and len(expected) == 2
        and type(expected[0]) is int
        and expected[0] > 0
        and type(expected[1]) is str
        and _HEX64.fullmatch(expected[1]) is not None
    )
