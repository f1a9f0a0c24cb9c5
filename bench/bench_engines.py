"""The same work in process and through the llama.cpp server, on the same tiny model.

The model is ``builtin:tiny`` when it is already cached (a pretrained toy, so it writes
real code), else a random tiny model; it is exported to GGUF (f32) with
``codegen-train export``'s code and served by llama.cpp's server (the PyPI wheel
``xllamacpp``) in a child process on 127.0.0.1. Two measurements, each against the
in-process engine in the same run:

- **eval**: ``codegen-eval humaneval`` on the first ``--problems`` HumanEval problems
  (n = 1, greedy, ``--max-new-tokens``), its real CLI run in this process, with
  ``--model URL`` (the server at ``--parallel`` slots; the client's default
  concurrency limit, 4) and in process at the default ``--batch-size``, ``--rounds``
  times each in alternating order. Generation and scoring are timed apart (by wrapping
  the CLI's two steps); it reports each arm's median samples/s, the ratio, and whether
  the completions are identical (greedy f32 should be).
- **keystroke**: a typing script, a function body typed one character at a time into
  a file, one FIM prompt per keystroke (as the editor sends them, greedy,
  ``--keystroke-tokens`` new tokens, no stop strings so every request runs to its end
  on the server), through ``engine.generate()``: in process with KV reuse, and through
  the remote engine with llama.cpp's prompt cache (``cache_prompt``). Per call: wall
  time, the engine's own time (in process: the whole call; llama.cpp: the server's
  reported ``timings.prompt_ms + predicted_ms``) and the HTTP overhead, wall minus the
  server's time. Goal: overhead p50 <= 10% of the engine's own time, and <= 5 ms.

Prints one JSON object.

    python bench/bench_engines.py [--problems 20] [--rounds 3] [--keystrokes 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT_S = 90.0

_SERVER_CHILD = r"""
import json, os, sys
import xllamacpp as xlc
config = json.loads(sys.argv[1])
params = xlc.CommonParams()
params.model.path = config["model"]
params.hostnames = ["127.0.0.1"]
params.port = 0
params.n_parallel = config["parallel"]
params.n_ctx = config["ctx_per_slot"] * config["parallel"]
params.cpuparams.n_threads = config["threads"]
params.cpuparams_batch.n_threads = config["threads"]
params.warmup = True  # as llama-server does by default
params.endpoint_props = True
server = xlc.Server(params)
print(json.dumps({"address": server.listening_address}), flush=True)
sys.stdin.read()
os._exit(0)
"""
"""The llama.cpp server in a child process: prints its address, serves until stdin closes."""

# A function body typed into a file, one character per keystroke; the head and tail
# around it stay as they are (the editor's prefix and suffix).
HEAD = '''"""Small helpers for reading tabular reports."""

import csv
from pathlib import Path


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every row of the CSV file at ``path`` as a dict keyed by the header."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def column_totals(rows: list[dict[str, str]], columns: list[str]) -> dict[str, float]:
    """The sum of each of ``columns`` over ``rows``; empty cells count as zero."""
'''
BODY = """    totals = {name: 0.0 for name in columns}
    for row in rows:
        for name in columns:
            value = row.get(name, "").strip()
            if value:
                totals[name] += float(value)
    return totals
"""
TAIL = '''

def write_totals(path: Path, totals: dict[str, float]) -> None:
    """Write ``totals`` as a two-column CSV file."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["column", "total"])
        for name, total in sorted(totals.items()):
            writer.writerow([name, f"{total:.2f}"])
'''


def pick_model(tmp: Path) -> tuple[str, str, str]:
    """``(spec, HF directory, description)``: builtin:tiny when cached, else a random
    tiny model (building builtin:tiny would take half an hour)."""
    from codegen.core.builtin import builtin_dir, is_built
    from codegen.core.builtin.tiny import make_random_model

    if is_built(builtin_dir("tiny")):
        path = str(builtin_dir("tiny"))
        return "builtin:tiny", path, f"builtin:tiny ({builtin_dir('tiny').name})"
    path = str(make_random_model(tmp / "random-tiny", seed=0))
    return path, path, "random tiny (make_random_model)"


def export_gguf(hf_dir: str, out: Path) -> Path:
    from codegen.training.export import BASE_GGUF, export_gguf

    export_gguf(hf_dir, str(out), gguf_type="f32")
    return out / BASE_GGUF


@contextlib.contextmanager
def llama_server(model: Path, parallel: int, threads: int, log: Path) -> Iterator[str]:
    """The server's ``http://127.0.0.1:PORT``, serving ``model`` until the block ends."""
    config = {"model": str(model), "parallel": parallel, "ctx_per_slot": 2048,
              "threads": threads}  # fmt: skip
    with log.open("w") as log_file:
        child = subprocess.Popen(
            [sys.executable, "-c", _SERVER_CHILD, json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True,
        )  # fmt: skip
    try:
        base = _read_address(child, log)
        _wait_healthy(base)
        yield base
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _read_address(child: subprocess.Popen, log: Path) -> str:
    assert child.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and child.poll() is None:
        if select.select([child.stdout], [], [], 0.5)[0]:
            line = child.stdout.readline()
            if line:
                return json.loads(line)["address"]
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise RuntimeError(f"llama.cpp server did not start (exit {child.poll()}):\n{tail}")


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"llama.cpp server at {base} never became healthy")


# -- eval ---------------------------------------------------------------------------------
def run_eval_cli(argv: list[str]) -> dict[str, float]:
    """``codegen-eval humaneval ARGV`` in this process; seconds spent generating, scoring
    and in all (the CLI's own steps, wrapped to time them)."""
    from codegen.eval import cli, runs

    spent = {"generation_s": 0.0, "scoring_s": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    saved = runs.generate_missing, runs.score
    runs.generate_missing = timed("generation_s", saved[0])
    runs.score = timed("scoring_s", saved[1])
    start = time.perf_counter()
    try:
        code = cli.main(["humaneval", *argv])
    finally:
        runs.generate_missing, runs.score = saved
    if code != 0:
        raise RuntimeError(f"codegen-eval humaneval {' '.join(argv)} exited {code}")
    return {**spent, "cli_s": time.perf_counter() - start}


def read_completions(run_dir: Path) -> dict[tuple[str, int], str]:
    rows = [json.loads(line) for line in (run_dir / "generations.jsonl").open()]
    return {(r["task_id"], r["index"]): r["completion"] for r in rows}


def bench_eval(model: str, gguf: Path, args: argparse.Namespace, tmp: Path) -> dict:
    """``--rounds`` rounds of both arms, in alternating order (load on a shared machine
    drifts); each arm's median round, and every round's ratio. Each server round gets
    a fresh server: its prompt cache would otherwise hold the previous round's prompts."""
    from codegen.core.remote import ClientSettings
    from codegen.eval.generate import DEFAULT_BATCH_SIZE

    common = ["--limit", str(args.problems), "--max-new-tokens", str(args.max_new_tokens),
              "--workers", "2", "--no-cache"]  # fmt: skip
    spent: dict[str, list[dict[str, float]]] = {"remote": [], "local": []}
    for round_ in range(args.rounds):
        for name in ("remote", "local") if round_ % 2 == 0 else ("local", "remote"):
            out = ["--out", str(tmp / f"eval-{name}-{round_}"), *common]
            if name == "local":
                spent[name].append(run_eval_cli(["--model", model, "--device", "cpu", *out]))
                continue
            log = tmp / f"server-eval-{round_}.log"
            with llama_server(gguf, args.parallel, args.threads, log) as base:
                spent[name].append(run_eval_cli(["--model", base + "/v1", *out]))
    a, b = read_completions(tmp / "eval-local-0"), read_completions(tmp / "eval-remote-0")
    same = sum(1 for key in a if b.get(key) == a[key])
    rows = len(a)

    def arm(rounds: list[dict[str, float]]) -> dict[str, Any]:
        mid = sorted(rounds, key=lambda r: r["generation_s"])[len(rounds) // 2]
        return {
            "generation_s": round(mid["generation_s"], 2),
            "samples_per_s": round(rows / mid["generation_s"], 2),
            "scoring_s": round(mid["scoring_s"], 2),
            "cli_s": round(mid["cli_s"], 2),
            "generation_s_rounds": [round(r["generation_s"], 2) for r in rounds],
        }

    local, remote = arm(spent["local"]), arm(spent["remote"])
    return {
        "problems": args.problems,
        "n": 1,
        "max_new_tokens": args.max_new_tokens,
        "in_process": {**local, "batch_size": DEFAULT_BATCH_SIZE},
        "llama_server": {
            **remote,
            "parallel": args.parallel,
            "client_concurrency": ClientSettings().max_concurrency,
        },  # fmt: skip
        "ratio_server_vs_in_process": round(local["generation_s"] / remote["generation_s"], 2),
        "ratio_rounds": [
            round(x["generation_s"] / y["generation_s"], 2)
            for x, y in zip(spent["local"], spent["remote"], strict=True)
        ],
        "identical_completions": f"{same}/{rows}",
        "differing_tasks": sorted(k[0] for k in a if b.get(k) != a[k])[:10],
    }


# -- keystrokes ---------------------------------------------------------------------------
def typing_prompts(fim: Any, keystrokes: int) -> list[str]:
    """One FIM prompt per keystroke: ``BODY`` typed one character at a time."""
    body = BODY[:keystrokes]
    return [fim.build_prompt(HEAD + body[: i + 1], TAIL) for i in range(len(body))]


def server_time_tap(engine: Any) -> list[dict[str, Any]]:
    """Record the ``timings`` of each streamed answer of ``engine`` (llama.cpp's own
    account of its time); returns the list the timings are appended to."""
    seen: list[dict[str, Any]] = []
    stream = engine.client.stream

    def tapped(path: str, body: Any, cancel: Any = None) -> Iterator[dict[str, Any]]:
        last: dict[str, Any] = {}
        try:
            for event in stream(path, body, cancel):
                if isinstance(event.get("timings"), dict):
                    last = event["timings"]
                yield event
        finally:
            seen.append(last)

    engine.client.stream = tapped
    return seen


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(pct(values, 0.95), 2)}


def type_through(engine: Any, prompts: list[str], config: Any) -> list[tuple[float, float, Any]]:
    """``(wall ms, this process's CPU ms, result)`` of one ``generate()`` per prompt, in
    order (one warm-up first). For the remote engine the CPU time is the client's own
    work: the server runs in another process."""
    engine.generate(prompts[0][: len(prompts[0]) // 2], config)
    calls = []
    for prompt in prompts:
        start, cpu = time.perf_counter(), time.process_time()
        result = engine.generate(prompt, config)
        ms = (time.perf_counter() - start) * 1000
        calls.append((ms, (time.process_time() - cpu) * 1000, result))
    return calls


def bench_keystrokes(local: Any, remote: Any, args: argparse.Namespace) -> dict:
    from codegen.core.engine import GenerationConfig

    config = GenerationConfig(max_new_tokens=args.keystroke_tokens)
    prompts = typing_prompts(local.fim, args.keystrokes)
    in_process = type_through(local, prompts, config)
    timings = server_time_tap(remote)
    over_http = type_through(remote, prompts, config)
    timings = timings[1:]  # the warm-up's
    if len(timings) != len(over_http) or not all(timings):
        raise RuntimeError("the llama.cpp server did not report timings for every request")
    server_ms = [t["prompt_ms"] + t["predicted_ms"] for t in timings]
    walls = [wall for wall, _, _ in over_http]
    overhead = [w - s for w, s in zip(walls, server_ms, strict=True)]
    engine_p50 = statistics.median(server_ms)
    overhead_p50 = statistics.median(overhead)
    same = sum(
        1 for (*_, a), (*_, b) in zip(in_process, over_http, strict=True) if a.text == b.text
    )
    return {
        "keystrokes": len(prompts),
        "prompt_tokens_last": in_process[-1][2].stats.prompt_tokens,
        "max_new_tokens": args.keystroke_tokens,
        "in_process": {
            "wall_ms": summary([w for w, _, _ in in_process]),
            "engine_ms": summary([r.stats.total_ms for *_, r in in_process]),
            "reused_tokens_p50": statistics.median(r.stats.reused_tokens for *_, r in in_process),
            "new_tokens_p50": statistics.median(r.stats.new_tokens for *_, r in in_process),
        },
        "llama_server": {
            "wall_ms": summary(walls),
            "engine_ms": summary(server_ms),
            "cached_tokens_p50": statistics.median(t.get("cache_n", 0) for t in timings),
            "new_tokens_p50": statistics.median(t.get("predicted_n", 0) for t in timings),
        },
        "http_overhead_ms": summary(overhead),
        "client_cpu_ms": summary([c for _, c, _ in over_http]),
        "http_overhead_pct_of_engine_p50": round(100 * overhead_p50 / engine_p50, 1),
        "goal": "overhead p50 <= 10% of the engine's time and <= 5 ms",
        "goal_met": overhead_p50 <= 5.0 and overhead_p50 <= 0.10 * engine_p50,
        "wall_ratio_server_vs_in_process_p50": round(
            statistics.median(w for w, _, _ in in_process) / statistics.median(walls), 2
        ),
        "identical_completions": f"{same}/{len(prompts)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=20, help="HumanEval problems (n = 1)")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="per eval completion")
    parser.add_argument("--rounds", type=int, default=3, help="eval rounds of both arms")
    parser.add_argument("--keystrokes", type=int, default=60, help="characters typed")
    parser.add_argument("--keystroke-tokens", type=int, default=24, help="new tokens per call")
    parser.add_argument(
        "--parallel", type=int, default=4,
        help="llama.cpp server slots (the eval CLI sends at most 4 requests at once)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=1,
        help="threads for both engines (default 1: a tiny model gains nothing from a second "
        "thread on a busy 2-core machine, and spinning threads there stall each other)",
    )  # fmt: skip
    parser.add_argument("--skip-eval", action="store_true", help="keystrokes only")
    args = parser.parse_args()

    import torch

    from codegen.core.load import load_engine

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        spec, hf_dir, described = pick_model(tmp)
        start = time.perf_counter()
        gguf = export_gguf(hf_dir, tmp / "export")
        export_s = time.perf_counter() - start
        local = load_engine(spec, device="cpu")
        with llama_server(gguf, args.parallel, args.threads, tmp / "server.log") as base:
            url = base + "/v1"
            remote = load_engine(url, fim_format=local.fim.name, max_concurrency=args.parallel)
            result: dict[str, Any] = {
                "bench": "engines",
                "model": described,
                "gguf": "f32",
                "export_s": round(export_s, 1),
                "threads": args.threads,
                "keystroke": bench_keystrokes(local, remote, args),
            }
        if not args.skip_eval:
            result["eval"] = bench_eval(spec, gguf, args, tmp)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
