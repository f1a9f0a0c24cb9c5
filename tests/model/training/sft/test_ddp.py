"""``codegen-train sft`` under ``torchrun`` and ``accelerate launch``: 2 CPU processes on gloo.

Two processes with a per-device batch of 1 and 2 accumulation steps see the same 4 rows
per optimizer step, in the same order, as one process with a batch of 4 (the sampler
draws one permutation from the same seed and deals its micro-batches out in turn), and
the loss is normalised by the target tokens of both processes. So the adapters must be
equal up to floating-point summation order: measured 2.3e-6 absolute (2.8e-5 of the
largest weight) after 4 steps; the tolerance below leaves a 4x margin. LoRA dropout is
off: each process draws its own dropout masks, which no single process can reproduce.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from codegen.training.cli import main as train_main

RTOL, ATOL = 1e-4, 1e-5
"""How close the 2-process adapter must be to the 1-process one (see the module docstring)."""

STEPS = 4


def _sft_args(base: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "sft",
        "--base",
        str(base),
        "--data",
        str(data),
        "--out",
        str(out),
        "--max-steps",
        str(STEPS),
        "--eval-every",
        "2",
        "--seq-len",
        "160",
        "--lr",
        "5e-3",
        "--lora-r",
        "4",
        "--lora-alpha",
        "8",
        "--lora-dropout",
        "0",
        "--fim-eval-examples",
        "2",
        "--eval-examples",
        "8",
        "--device",
        "cpu",
        *extra,
    ]


TWO_PROCESSES = ("--batch-size", "1", "--grad-accum", "2")
"""Per process: 1 row x 2 micro-batches; x 2 processes = the 4 rows of ONE_PROCESS."""
ONE_PROCESS = ("--batch-size", "4", "--grad-accum", "1")


def _env() -> dict[str, str]:
    # One thread per process: two processes share the two CI cores.
    return dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def _accelerate() -> list[str]:
    # --multi_gpu is what makes accelerate start several processes, on CPU too; with
    # --cpu --num_processes 2 it silently starts one.
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(_free_port()),
    ]


def _launch(launcher: list[str], target: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*launcher, *target], env=_env(), capture_output=True, text=True, timeout=400
    )


def _cli(args: list[str]) -> list[str]:
    return ["-m", "codegen.training.cli", *args]


def _assert_same_adapter(got: Path, want: Path) -> None:
    a = load_file(str(want / "adapter_model.safetensors"))
    b = load_file(str(got / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    assert any("lora_B" in k and b[k].abs().max() > 0 for k in b)  # it trained
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=RTOL, atol=ATOL, msg=name)


@pytest.fixture(scope="module")
def one_process_run(tiny_model_dir: Path, sft_data_dir: Path, tmp_path_factory) -> Path:
    """The reference: one process, a batch of 4 rows, run in this process."""
    out = tmp_path_factory.mktemp("ddp") / "one-process"
    args = _sft_args(tiny_model_dir, sft_data_dir, out, *ONE_PROCESS, "--no-progress")
    assert train_main(args) == 0
    return out


def test_torchrun_two_processes_train_the_one_process_adapter(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, one_process_run: Path
) -> None:
    out = tmp_path / "two-processes"
    proc = _launch(TORCHRUN, _cli(_sft_args(tiny_model_dir, sft_data_dir, out, *TWO_PROCESSES)))
    assert proc.returncode == 0, proc.stderr[-4000:]
    _assert_same_adapter(out, one_process_run)

    # Rank 0 alone reports: one metrics object on stdout, one log, one progress bar.
    printed = json.loads(proc.stdout)
    assert printed["out"] == str(out) and printed["steps"] == STEPS
    err = proc.stderr.replace("\r", "\n")
    assert err.count("codegen-train sft: config:") == 1
    assert err.count("sft eval: step 0,") == 1 and err.count("saved to") == 1
    assert err.count("Loading weights: 100%") == 1
    assert err.count(f"sft: 100%|██████████| {STEPS}/{STEPS}") >= 1
    assert "[rank1]" not in err and "Traceback" not in err

    # One adapter, with the run's metadata; the figures are those of the one-process run.
    saved = json.loads((out / "codegen.json").read_text())
    reference = json.loads((one_process_run / "codegen.json").read_text())
    assert saved["training"]["processes"] == 2 and saved["training"]["global_batch_rows"] == 4
    assert reference["training"]["processes"] == 1
    assert saved["metrics"]["train_tokens"] == reference["metrics"]["train_tokens"]
    assert saved["metrics"]["steps"] == STEPS and saved["metrics"]["best_step"] == STEPS
    fim = [e["fim_em"] for e in saved["metrics"]["evaluations"]]
    assert fim == [e["fim_em"] for e in reference["metrics"]["evaluations"]]
    assert saved["metrics"]["fim_eval_cases"] == 2  # both cases, one per process, summed
    checkpoint = out / "checkpoints" / f"checkpoint-{STEPS}"
    assert {p.name for p in checkpoint.glob("rng_state_*.pth")} == {
        "rng_state_0.pth",
        "rng_state_1.pth",
    }
    assert json.loads((out / "checkpoints" / "run.json").read_text())["world_size"] == 2
    assert not list(out.rglob("*.tmp"))


_COLLECTIVES = """
import json, sys
import torch.distributed as dist
from codegen.training.sft.distributed import shared_hit_rate
from codegen.training.sft.schedule import RunClock

dist.init_process_group("gloo")
rank = dist.get_rank()
seen = []

def hit_rate(cases):
    seen.extend(name for name, _ in cases)
    return sum(hit for _, hit in cases) / len(cases)

cases = [(f"p{i}", i in (0, 3, 4)) for i in range(5)]
shared = shared_hit_rate(cases, hit_rate, "cpu")

clock = RunClock(100.0)
clock.start()
clock.started -= 10.0 * (rank + 1)  # rank 0 has run 10 s, rank 1 20 s
ticked = clock.tick("cpu")
out = dict(shared=shared, seen=seen, ticked=ticked, fraction=clock.fraction())
open(sys.argv[1] + f"/rank{rank}.json", "w").write(json.dumps(out))
dist.destroy_process_group()
"""


def test_ranks_share_the_fim_cases_and_follow_rank_zeros_clock(tmp_path: Path) -> None:
    script = tmp_path / "collectives.py"
    script.write_text(_COLLECTIVES)
    proc = _launch(TORCHRUN, [str(script), str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for r in ranks:
        assert r["shared"] == pytest.approx(3 / 5)  # both shares' hits, over all 5 cases
        assert 10.0 <= r["ticked"] < 15.0  # rank 0's reading, on both
        assert r["fraction"] == pytest.approx(r["ticked"] / 100.0)
    # Each case is generated once, by one process.
    assert ranks[0]["seen"] == ["p0", "p2", "p4"] and ranks[1]["seen"] == ["p1", "p3"]


@pytest.mark.heavy
def test_accelerate_launch_trains_the_one_process_adapter(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, one_process_run: Path
) -> None:
    out = tmp_path / "accelerate"
    args = _sft_args(tiny_model_dir, sft_data_dir, out, *TWO_PROCESSES, "--no-progress")
    proc = _launch(_accelerate(), _cli(args))
    assert proc.returncode == 0, proc.stderr[-4000:]
    _assert_same_adapter(out, one_process_run)
    assert json.loads((out / "codegen.json").read_text())["training"]["processes"] == 2
    assert proc.stderr.count("codegen-train sft: config:") == 1


_CRASH_AFTER_FIRST_CHECKPOINT = """
import os, sys
import torch.distributed as dist
from transformers import TrainerCallback
from codegen.training.cli import build_parser
from codegen.training.sft.cli import config_from_args
from codegen.training.sft.train import train_sft

class Crash(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        dist.barrier()  # every rank has written its part of checkpoint-2
        os._exit(17)

config = config_from_args(build_parser().parse_args(sys.argv[1:]))
train_sft(config, extra_callbacks=[Crash()])
"""


@pytest.mark.heavy
def test_resume_under_two_processes_trains_the_one_process_adapter(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, one_process_run: Path
) -> None:
    out = tmp_path / "resumed"
    args = _sft_args(tiny_model_dir, sft_data_dir, out, *TWO_PROCESSES, "--no-progress")
    script = tmp_path / "crash.py"
    script.write_text(_CRASH_AFTER_FIRST_CHECKPOINT)
    crashed = _launch(_accelerate(), [str(script), *args])
    assert crashed.returncode != 0
    assert (out / "checkpoints" / "checkpoint-2" / "trainer_state.json").is_file()
    assert not (out / "adapter_config.json").exists()  # it died mid-run

    # A different number of processes is refused: the data order depends on it.
    alone = subprocess.run(
        [sys.executable, *_cli([*args, "--resume"])], env=_env(), capture_output=True, text=True
    )
    assert alone.returncode == 2 and "ran 2 process(es), this one runs 1" in alone.stderr

    resumed = _launch(TORCHRUN, _cli([*args, "--resume"]))
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    _assert_same_adapter(out, one_process_run)
    metrics = json.loads((out / "codegen.json").read_text())["metrics"]
    assert metrics["base"] is not None and metrics["steps"] == STEPS
