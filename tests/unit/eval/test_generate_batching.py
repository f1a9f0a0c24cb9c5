"""generate_missing hands the engine batches of missing rows, resumes after an
interruption mid-run, and writes the same rows whatever the batch size."""

from __future__ import annotations

import json

import pytest

from codegen.core.engine import FakeEngine, GenerationConfig, GenerationResult
from codegen.core.errors import ConfigError
from codegen.eval.generate import GenerationPlan, generate_missing, get_profile, read_done
from codegen.eval.problems import load_problems


class SeedEcho(FakeEngine):
    """Replies with the problem's first line and the row's seed; records every batch."""

    def __init__(self, fail_after_batches: int | None = None) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []
        self.fail_after_batches = fail_after_batches

    def generate(self, prompt: str, config: GenerationConfig, cancel=None) -> GenerationResult:
        self.calls += 1
        return GenerationResult(f"    # {prompt.splitlines()[0]} seed={config.seed}", "length")

    def generate_batch(self, prompts, configs, cancel=None):
        if self.fail_after_batches is not None and len(self.batch_sizes) >= self.fail_after_batches:
            raise KeyboardInterrupt  # the user stopped the run mid-way
        self.batch_sizes.append(len(prompts))
        return super().generate_batch(prompts, configs, cancel)


@pytest.fixture(scope="module")
def problems():
    return list(load_problems().values())[:3]


def test_missing_rows_go_to_the_engine_in_batches(tmp_path, problems) -> None:
    engine = SeedEcho()
    ticks = []
    plan = GenerationPlan(n=3, seed=10)
    rows = generate_missing(
        engine, problems, plan, get_profile("humaneval"), tmp_path / "g.jsonl",
        on_done=lambda: ticks.append(1), batch_size=4,
    )  # fmt: skip
    assert engine.batch_sizes == [4, 4, 1] and len(ticks) == 9
    assert [(r["task_id"], r["index"], r["seed"]) for r in rows] == [
        (p.task_id, i, 10 + i) for p in problems for i in range(3)
    ]
    assert rows[4]["completion"].endswith("seed=11")


def test_the_batch_size_does_not_change_the_rows(tmp_path, problems) -> None:
    profile = get_profile("humaneval")
    plan = GenerationPlan(n=2, seed=3)
    one = generate_missing(SeedEcho(), problems, plan, profile, tmp_path / "a.jsonl", batch_size=1)
    many = generate_missing(SeedEcho(), problems, plan, profile, tmp_path / "b.jsonl", batch_size=5)
    assert one == many
    lines = (tmp_path / "b.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["seed"] for x in lines) == [3, 3, 3, 4, 4, 4]


def test_an_interrupted_batched_run_resumes_with_only_the_missing_rows(tmp_path, problems):
    path = tmp_path / "g.jsonl"
    profile = get_profile("humaneval")
    plan = GenerationPlan(n=2)
    with pytest.raises(KeyboardInterrupt):
        generate_missing(SeedEcho(fail_after_batches=2), problems, plan, profile, path,
                         batch_size=2)  # fmt: skip
    assert len(read_done(path)) == 4  # the two finished batches were kept
    again = SeedEcho()
    ticks = []
    rows = generate_missing(again, problems, plan, profile, path,
                            on_done=lambda: ticks.append(1), batch_size=8)  # fmt: skip
    assert again.batch_sizes == [2] and again.calls == 2 and len(ticks) == 6
    assert [r["index"] for r in rows] == [0, 1] * 3
    assert len(path.read_text().splitlines()) == 6


def test_a_batch_size_below_one_is_a_clear_error(tmp_path, problems) -> None:
    with pytest.raises(ConfigError, match="--batch-size must be at least 1"):
        generate_missing(SeedEcho(), problems, GenerationPlan(), get_profile("humaneval"),
                         tmp_path / "g.jsonl", batch_size=0)  # fmt: skip


class Streaming(SeedEcho):
    """Takes ``batch_size``/``on_result`` like the in-process engine and finishes rows
    last first, so the file order differs from the problem order."""

    def generate_batch(self, prompts, configs, cancel=None, *, batch_size=None, on_result=None):
        self.batch_sizes.append(batch_size)
        results = [self.generate(p, c) for p, c in zip(prompts, configs, strict=True)]
        for i in reversed(range(len(results))):
            on_result(i, results[i])
        return results


def test_an_engine_that_streams_rows_gets_them_all_and_writes_each_when_done(tmp_path, problems):
    path = tmp_path / "g.jsonl"
    engine = Streaming()
    plan = GenerationPlan(n=2, batch_size=3)
    rows = generate_missing(engine, problems, plan, get_profile("humaneval"), path)
    assert engine.batch_sizes == [3] and engine.calls == 6  # one call; the plan's batch size
    written = [
        (json.loads(x)["task_id"], json.loads(x)["index"]) for x in path.read_text().splitlines()
    ]
    assert written == [(p.task_id, i) for p in problems for i in range(2)][::-1]
    assert [(r["task_id"], r["index"]) for r in rows] == written[::-1]
