"""Rank-awareness of ``codegen-train sft`` without starting processes: the launcher's
environment, complete checkpoints, and resuming with another number of processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.core.errors import ConfigError
from codegen.training.sft.config import SftConfig
from codegen.training.sft.distributed import launch_ranks, print_main, shared_hit_rate
from codegen.training.sft.train import (
    RunStateError,
    _check_out_dir,
    _run_record,
    last_complete_checkpoint,
)


def test_ranks_come_from_the_launchers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    alone = launch_ranks()
    assert (alone.rank, alone.world_size, alone.is_main, alone.distributed) == (0, 1, True, False)
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    ranks = launch_ranks()
    assert (ranks.rank, ranks.local_rank, ranks.is_main, ranks.distributed) == (3, 1, False, True)
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(ConfigError, match="does not fit"):
        launch_ranks()
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ConfigError, match=r"\$WORLD_SIZE is 'two'"):
        launch_ranks()


def test_only_rank_zero_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    print_main("from rank 1")
    monkeypatch.setenv("RANK", "0")
    print_main("from rank 0")
    assert capsys.readouterr().err == "from rank 0\n"


def test_without_a_process_group_the_hit_rate_is_computed_whole() -> None:
    seen: list[int] = []

    def rate(items: list[int]) -> float:
        seen.extend(items)
        return sum(i % 2 for i in items) / len(items)

    assert shared_hit_rate([1, 2, 3, 4], rate, "cpu") == 0.5
    assert seen == [1, 2, 3, 4]


def _checkpoint(root: Path, step: int, files: tuple[str, ...]) -> Path:
    path = root / f"checkpoint-{step}"
    path.mkdir(parents=True)
    for name in files:
        (path / name).write_text("{}")
    return path


def test_a_checkpoint_is_complete_once_every_rank_wrote_its_rng_state(tmp_path: Path) -> None:
    full = ("rng_state_0.pth", "rng_state_1.pth", "trainer_state.json")
    _checkpoint(tmp_path, 2, full)
    newest = _checkpoint(tmp_path, 4, ("rng_state_0.pth", "trainer_state.json"))  # rank 1 died
    assert last_complete_checkpoint(tmp_path, world_size=2) == tmp_path / "checkpoint-2"
    assert last_complete_checkpoint(tmp_path) == newest  # one process writes rng_state.pth first


def _interrupted_run(out: Path, world_size: int | None) -> SftConfig:
    config = SftConfig(base="b", data="d", out=str(out), resume=True)
    record = _run_record(config, None, world_size or 1)
    if world_size is None:  # a run.json from before multi-process runs
        del record["world_size"]
    ckpts = out / "checkpoints"
    _checkpoint(ckpts, 2, ("rng_state_0.pth", "rng_state_1.pth", "trainer_state.json"))
    (ckpts / "run.json").write_text(json.dumps(record))
    return config


def test_resume_refuses_another_number_of_processes(tmp_path: Path) -> None:
    from codegen.training.sft.distributed import Ranks

    config = _interrupted_run(tmp_path / "two", world_size=2)
    with pytest.raises(
        RunStateError, match=r"ran 2 process\(es\), this one runs 1.*--nproc_per_node 2"
    ):
        _check_out_dir(config, Ranks())
    assert _check_out_dir(config, Ranks(0, 2, 0)).endswith("checkpoint-2")

    legacy = _interrupted_run(tmp_path / "legacy", world_size=None)
    assert _check_out_dir(legacy, Ranks()).endswith("checkpoint-2")
    with pytest.raises(RunStateError, match="ran 1 process"):
        _check_out_dir(legacy, Ranks(1, 2, 1))


def test_fsdp_launch_is_read_from_accelerates_environment(monkeypatch):
    from codegen.training.sft.distributed import fsdp_launch

    monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
    assert not fsdp_launch()
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    assert fsdp_launch()
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "false")
    assert not fsdp_launch()
