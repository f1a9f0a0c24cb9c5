"""The persistent recording cache: hits, misses, keys, corrupt and forged entries."""

import hashlib
import hmac
import io
import json
import os
import pickle
from pathlib import Path

import pytest

from codegen.eval import scoring
from codegen.eval.cli import main
from codegen.eval.problems import Problem, Sample
from codegen.eval.recordings import CACHE_ENV, RecordingCache, recording_key
from codegen.eval.runs import sandbox_policy
from codegen.eval.sandbox import runner
from codegen.eval.sandbox.pool import SandboxPool
from codegen.eval.scoring import cache_key, record_factor, score_samples

PROBLEM = Problem(
    "t/add",
    "def add(a, b):\n",
    "    return a + b\n",
    "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n",
    "add",
)
RIGHT = Sample(PROBLEM.task_id, "    return a + b\n", PROBLEM.prompt + "    return a + b\n")
WRONG = Sample(PROBLEM.task_id, "    return 0\n", PROBLEM.prompt + "    return 0\n")


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(2, sandbox_policy(str(Path(__file__)), 2.0)) as p:
        yield p


class Counting:
    """Counts the record jobs a pool is given."""

    def __init__(self, pool):
        self.pool, self.records = pool, 0

    def __enter__(self):
        submit = self.pool.submit

        def counted(job, results, priority=1):
            self.records += job["kind"] == "record"
            submit(job, results, priority)

        self.pool.submit = counted
        return self

    def __exit__(self, *exc):
        del self.pool.submit


def score(pool, cache, samples=(RIGHT, WRONG), problem=PROBLEM):
    with Counting(pool) as counter:
        rows = score_samples(list(samples), {problem.task_id: problem}, pool, cache=cache)
    return [(r.passed, r.check) for r in rows], counter.records


def test_key_covers_program_entry_point_and_memory():
    base = recording_key("def f(): pass\n", "f", 1024)
    assert base == recording_key("def f(): pass\n", "f", 1024)
    assert base != recording_key("def f(): pass \n", "f", 1024)
    assert base != recording_key("def f(): pass\n", "g", 1024)
    assert base != recording_key("def f(): pass\n", "f", 2048)


def test_miss_then_hit_skips_the_recording(pool, tmp_path):
    cache = RecordingCache(tmp_path)
    cold, records = score(pool, cache)
    assert cold == [(True, "replayed"), (False, "replayed")] and records == 1
    assert cache.stats() == {"hits": 0, "misses": 1, "rejected": 0, "written": 1}
    warm_cache = RecordingCache(tmp_path)
    warm, records = score(pool, warm_cache)
    assert warm == cold and records == 0 and warm_cache.hits == 1
    assert (tmp_path / "hmac.key").stat().st_mode & 0o077 == 0


def test_changed_program_misses(pool, tmp_path):
    cache = RecordingCache(tmp_path)
    score(pool, cache)
    changed = Problem(
        **{**PROBLEM.__dict__, "test": PROBLEM.test + "    assert candidate(0, 0) == 0\n"}
    )
    assert cache_key(changed, pool) != cache_key(PROBLEM, pool)
    _, records = score(pool, cache, problem=changed)
    assert records == 1 and cache.misses == 2


def test_corrupt_entry_is_ignored_and_rewritten(pool, tmp_path):
    cache = RecordingCache(tmp_path)
    score(pool, cache)
    path = cache.path(cache_key(PROBLEM, pool))
    for damage in (path.read_bytes()[:40], b"[]", b'{"format": 1}', b"\xff\xfe"):
        path.write_bytes(damage)
        again = RecordingCache(tmp_path)
        rows, records = score(pool, again)
        assert rows == [(True, "replayed"), (False, "replayed")] and records == 1
        assert again.rejected == 1 and again.written == 1
        assert RecordingCache(tmp_path).get(cache_key(PROBLEM, pool)) is not None


def wrong_report_sha() -> tuple[int, str]:
    """The digest of the report WRONG's outputs make: what a forger would plant."""
    text = runner.calls_report([runner.output_entry(lambda: 0)] * 2).encode()
    return len(text), hashlib.sha256(text).hexdigest()


def test_forged_entry_cannot_pass_a_wrong_sample(pool, tmp_path):
    cache = RecordingCache(tmp_path)
    score(pool, cache)
    key = cache_key(PROBLEM, pool)
    sealed = json.loads(cache.path(key).read_text())
    assert set(sealed) == {"mac", "entry"} and sealed["entry"]["key"] == key
    plan = sealed["entry"]["plan"]
    plan["expected"] = list(wrong_report_sha())  # the wrong sample's digest
    cache.path(key).write_text(json.dumps(sealed))  # the old MAC no longer matches
    rows, records = score(pool, RecordingCache(tmp_path), samples=(WRONG,))
    assert rows == [(False, "replayed")] and records == 1
    # Nor does a MAC recomputed without the key, over the same body.
    body = json.dumps(sealed["entry"]).encode()
    forged = hmac.new(os.urandom(32), body, hashlib.sha256).hexdigest()
    cache.path(key).write_bytes(b'{"mac":"' + forged.encode() + b'","entry":' + body + b"}")
    assert RecordingCache(tmp_path).get(key) is None
    # An authentic entry of another program, copied under this key, is rejected too.
    other = RecordingCache(tmp_path)
    other.put("0" * 64, {"mode": "calls", "calls": plan["calls"],
                         "expected": list(wrong_report_sha())})  # fmt: skip
    cache.path(key).write_bytes(other.path("0" * 64).read_bytes())
    assert RecordingCache(tmp_path).get(key) is None
    # A key file from elsewhere invalidates every entry signed with the old one.
    (tmp_path / "hmac.key").write_bytes(os.urandom(32))
    assert RecordingCache(tmp_path).get("0" * 64) is None


def test_authentic_but_wrong_inputs_fall_back_not_pass(pool, tmp_path):
    # Even an entry with a valid MAC but other inputs cannot pass the wrong sample:
    # the replay sees the test's inputs differ and the test runs in the sandbox.
    cache = RecordingCache(tmp_path)
    calls = [runner.plain_data.dumps(((0, 0), {}))] * 2
    cache.put(cache_key(PROBLEM, pool), {"mode": "calls", "calls": calls, "expected": None})
    rows, records = score(pool, RecordingCache(tmp_path))
    assert rows == [(True, "in-sandbox"), (False, "in-sandbox")] and records == 0


def test_record_timeouts_are_not_cached_and_cost_one_timeout(pool, tmp_path):
    slow = Problem("t/slow", "def slow(x):\n", "    import time\n    time.sleep(5)\n    return x\n",
                   "def check(candidate):\n    assert candidate(1) == 1\n", "slow")  # fmt: skip
    fast = Sample(slow.task_id, "    return x\n", slow.prompt + "    return x\n")
    cache = RecordingCache(tmp_path)
    rows, records = score(pool, cache, samples=(fast,), problem=slow)
    assert rows == [(True, "in-sandbox")] and records == 1 and cache.written == 0
    assert record_factor(1) == 1.0 and record_factor(3) == 2.0 and record_factor(50) == 3.0
    assert record_factor(None) == 3.0


BUSY = (
    "    import time\n    start = time.process_time()\n"
    "    while time.process_time() - start < 0.15:\n        pass\n    return x\n"
)


def test_a_probe_out_of_cpu_time_runs_the_sample_first_and_confirms_passes(tmp_path, monkeypatch):
    # One sample per task: the recording first gets a fraction of the timeout in CPU time
    # (here 0.06 s of 3 s), which this canonical solution (0.15 s of CPU) overruns. The
    # sample then runs its test in the sandbox: failures and timeouts are final there,
    # and a pass is confirmed by the full recording and the replayed check.
    monkeypatch.setattr(scoring, "PROBE_CPU_FRACTION", 0.02)
    bodies = {
        "right": "    return x\n",
        "wrong": "    return 0\n",
        "slow": "    import time\n    time.sleep(60)\n",
    }
    problems, samples = {}, []
    for name, body in bodies.items():
        problem = Problem(f"t/busy-{name}", "def busy(x):\n", BUSY,
                          "def check(candidate):\n    assert candidate(1) == 1\n", "busy")  # fmt: skip
        problems[problem.task_id] = problem
        samples.append(Sample(problem.task_id, body, problem.prompt + body))
    cache = RecordingCache(tmp_path)
    with (
        SandboxPool(2, sandbox_policy(str(Path(__file__)), 3.0)) as pool,
        Counting(pool) as counter,
    ):
        rows = score_samples(samples, problems, pool, cache=cache)
    assert [(r.passed, r.result, r.check) for r in rows] == [
        (True, "passed", "replayed"),
        (False, "failed: AssertionError", "in-sandbox"),
        (False, "timed out", "in-sandbox"),
    ]
    assert counter.records == 4 and cache.written == 1  # the right one's full recording


def test_the_pickled_inputs_are_the_recorded_calls_in_order(pool):
    # A recursive solution records its inner calls first, and one that sorts its input in
    # place must not change what the samples receive.
    problem = Problem("t/fib", "def fib(n, seen):\n",
                      "    seen.sort()\n    return n if n < 2 else fib(n - 1, seen) + fib(n - 2, seen)\n",
                      "def check(candidate):\n    assert candidate(4, [3, 1, 2]) == 3\n", "fib")  # fmt: skip
    (outcome,) = pool.run([scoring.record_job(problem, 2.0, 1)])
    plan = scoring.plan_from_record(problem, outcome)
    assert plan.mode == "calls" and len(plan.calls) == 9
    stream, pickled = io.BytesIO(plan.calls_pickle), []
    while stream.tell() < len(plan.calls_pickle):
        pickled.append(pickle.load(stream))
    assert pickled == [runner.plain_data.loads(call) for call in plan.calls]
    assert pickled[-1] == ((4, [3, 1, 2]), {})


def test_sandbox_can_neither_read_nor_write_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "rec"))
    cache = RecordingCache()
    cache.prepare()
    target = str(tmp_path / "rec")
    body = (
        "    import os\n"
        "    try:\n"
        f"        seen = os.listdir({target!r})\n"
        "    except OSError:\n"
        "        seen = []\n"
        "    try:\n"
        f"        open(os.path.join({target!r}, 'planted'), 'w').write('x')\n"
        "    except OSError:\n"
        "        pass\n"
        "    return a + b + (100 if seen else 0)\n"
    )
    with SandboxPool(1, sandbox_policy(str(Path(__file__)), 2.0)) as hiding_pool:
        if not hiding_pool.isolation.mount:
            pytest.skip("no mount namespace here: the cache is protected by permissions only")
        rows, _ = score(
            hiding_pool, cache, samples=(Sample(PROBLEM.task_id, body, PROBLEM.prompt + body),)
        )
    assert rows == [(True, "replayed")]
    assert not (tmp_path / "rec" / "planted").exists()


def test_cli_no_cache_neither_reads_nor_writes(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "rec"))
    problems = tmp_path / "data" / "problems.jsonl"
    problems.parent.mkdir()
    problems.write_text(json.dumps(PROBLEM.__dict__) + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        json.dumps({"task_id": PROBLEM.task_id, "completion": RIGHT.completion}) + "\n"
    )
    args = ["samples", str(samples), "--problems", str(problems), "--workers", "1", "--k", "1"]
    assert main([*args, "--out", str(tmp_path / "a"), "--no-cache"]) == 0
    assert not (tmp_path / "rec").exists()
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert main([*args, "--out", str(tmp_path / "c")]) == 0
    config = json.loads((tmp_path / "c" / "metrics.json").read_text())["config"]
    assert config["recording_cache"]["hits"] == 1
    assert len(list((tmp_path / "rec").glob("*/*.json"))) == 1
