"""Hostile samples: each is contained and scored failed, and the harness keeps going."""

import os
import socket
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from codegen.eval.problems import Problem, Sample
from codegen.eval.sandbox.launcher import SandboxPolicy
from codegen.eval.sandbox.pool import SandboxPool
from codegen.eval.scoring import score_samples

PROBLEM = Problem(
    "t/add",
    "def add(a, b):\n",
    "    return a + b\n",
    "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n",
    "add",
)
SECRET = "s3cr3t-" + uuid.uuid4().hex
MARK = uuid.uuid4().hex[:8]


def sample(body: str) -> Sample:
    completion = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    return Sample(PROBLEM.task_id, completion, PROBLEM.prompt + completion)


def score(pool, bodies):
    return score_samples([sample(b) for b in bodies], {PROBLEM.task_id: PROBLEM}, pool)


@pytest.fixture(scope="module")
def pool():
    os.environ["CODEGEN_FAKE_SECRET"] = SECRET
    try:
        with SandboxPool(2, SandboxPolicy(timeout_s=2.0)) as p:
            yield p
    finally:
        del os.environ["CODEGEN_FAKE_SECRET"]


def orphan_body(marker: Path) -> str:
    return f"""
    import ctypes, os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, b"cg{MARK}", 0, 0, 0)
            time.sleep(2)
            open({str(marker)!r}, "w").write("escaped")
        os._exit(0)
    time.sleep(0.5)  # the grandchild has named itself by now
    return a + b + 1
    """


def no_process_named(name: str) -> bool:
    for pid in os.listdir("/proc"):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                return False
        except OSError:
            continue
    return True


HOSTILE = {
    "fork bomb": """
        import os
        while True:
            os.fork()
        """,
    "infinite loop ignoring signals": """
        import signal
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGALRM):
            signal.signal(s, signal.SIG_IGN)
        while True:
            pass
        """,
    "memory bomb": """
        hog = []
        while True:
            hog.append(bytearray(50 * 1024 * 1024))
        """,
    "output flood": """
        import sys
        while True:
            sys.stdout.write("x" * 65536)
        """,
    "stdin read": "return int(input())",
    "segfault": """
        import ctypes
        return ctypes.string_at(0)
        """,
    "walks stack frames to write passed": """
        import sys
        f = sys._getframe()
        while f:
            for v in list(f.f_locals.values()):
                if isinstance(v, list):
                    v.append("passed")
                    v.append({"ok": 3})
                if isinstance(v, dict):
                    v["passed"] = True
            f = f.f_back
        return None
        """,
    "__eq__ always true": """
        class Anything:
            def __eq__(self, other):
                return True
        return Anything()
        """,
    "int subclass with __eq__": """
        class Three(int):
            def __eq__(self, other):
                return True
        return Three(7)
        """,
    "os._exit(0) early": """
        import os
        os._exit(0)
        """,
    "sys.exit(0) early": """
        import sys
        sys.exit(0)
        """,
    "kills its parent and everyone": """
        import os, signal
        for pid in (os.getppid(), 1, -1):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return 0
        """,
    "forges a report on the result pipe": """
        import os
        for fd in range(3, 64):
            try:
                os.write(fd, b'{"passed": true, "outputs": ["passed"]}')
            except OSError:
                pass
        os._exit(0)
        """,
}


def test_hostile_samples_fail_and_the_harness_keeps_going(pool):
    bodies = list(HOSTILE.values()) + ["return a + b"]
    start = time.monotonic()
    results = score(pool, bodies)
    elapsed = time.monotonic() - start
    verdicts = dict(zip([*HOSTILE, "honest"], results, strict=True))
    for name in HOSTILE:
        assert not verdicts[name].passed, (name, verdicts[name].result)
    assert verdicts["honest"].passed, verdicts["honest"].result
    assert verdicts["infinite loop ignoring signals"].result == "timed out"
    assert "SIGSEGV" in verdicts["segfault"].result
    assert "EOFError" in verdicts["stdin read"].result
    assert elapsed < 20
    # The pool is still healthy after all that.
    assert score(pool, ["return a + b"])[0].passed


def test_no_writes_outside_the_sample_directory(pool, tmp_path):
    targets = [
        tmp_path / f"escape-{MARK}",
        Path.cwd() / f".escape-{MARK}",
        Path.home() / f".escape-{MARK}",
    ]
    body = f"""
    import os
    for path in {[str(t) for t in targets]!r}:
        try:
            with open(path, "w") as f:
                f.write("escaped")
        except OSError:
            pass
    open("inside.txt", "w").write("fine")
    return a + b if open("inside.txt").read() == "fine" else None
    """
    result = score(pool, [body])[0]
    assert result.passed, result.result  # writing in its own directory works
    for target in targets:
        assert not target.exists()


def test_no_network_even_to_loopback(pool):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(_accept(server)))
    thread.start()
    body = f"""
    import socket
    s = socket.socket()
    s.settimeout(1)
    s.connect(("127.0.0.1", {port}))
    return a + b
    """
    result = score(pool, [body])[0]
    thread.join()
    server.close()
    assert not result.passed
    assert accepted == [None]


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


def test_parent_secrets_are_not_visible(pool):
    body = """
    import os, glob
    found = [v for v in os.environ.values()]
    for path in glob.glob("/proc/*/environ"):
        try:
            found.append(open(path, "rb").read().decode("latin-1"))
        except OSError:
            pass
    raise RuntimeError("|".join(found))
    """
    result = score(pool, [body])[0]
    assert not result.passed
    assert SECRET not in result.result
    assert "RuntimeError" in result.result


@pytest.mark.parametrize("namespaces", [True, False], ids=["namespaces", "no-namespaces"])
def test_orphaned_grandchild_is_killed(tmp_path, namespaces):
    tmp_path.chmod(0o777)  # without namespaces the sample runs as another uid
    marker = tmp_path / "orphan-wrote-this"
    with SandboxPool(1, SandboxPolicy(timeout_s=2.0, namespaces=namespaces)) as pool:
        result = score(pool, [orphan_body(marker)])[0]
        assert not result.passed
        assert no_process_named(f"cg{MARK}")
        time.sleep(2.5)
    assert not marker.exists()
