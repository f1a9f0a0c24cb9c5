"""``codegen-train sft`` under ``torchrun`` or ``accelerate launch``: which process is which.

The transformers ``Trainer`` (through accelerate) does the data-parallel part: one
process per device, a shared data order split batch by batch between the processes,
gradients averaged by DDP, the loss normalised by the target tokens of all processes.
What this module adds is what our own code needs to behave as *one* run:

- :func:`launch_ranks` reads the rank from the launcher's environment (``RANK``,
  ``WORLD_SIZE``, ``LOCAL_RANK``, set by both launchers), so it is known before the
  process group exists: data loading and checks run on every process, but only rank 0
  prints, writes ``run.json``, the adapter and ``codegen.json``;
- :func:`quiet_replica` silences logging and progress bars on the other ranks;
- :func:`bind_cuda_device` puts each process on its own GPU before the model loads
  (a 4-bit model is placed at load time and never moved afterwards);
- :func:`broadcast_from_main` and :func:`shared_hit_rate` make decisions collective:
  the wall clock of rank 0 rules every process's learning rate and stop, and the FIM
  exact match is computed on a share of the cases per process and summed.

Without a launcher every function is a no-op for a single process.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from codegen.core.errors import ConfigError


@dataclass(frozen=True)
class Ranks:
    """This process's place in the launch: global rank, number of processes, rank on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"${name} is {raw!r}, not a number; launch with torchrun") from None


def fsdp_launch() -> bool:
    """Whether ``accelerate launch --use_fsdp`` started this process (it sets
    ``ACCELERATE_USE_FSDP``): the base must then be loaded for sharding."""
    return os.environ.get("ACCELERATE_USE_FSDP", "").strip().lower() in ("1", "true", "yes")


def launch_ranks() -> Ranks:
    """The ranks ``torchrun`` / ``accelerate launch`` gave this process (0 of 1 without one)."""
    ranks = Ranks(_env_int("RANK", 0), _env_int("WORLD_SIZE", 1), _env_int("LOCAL_RANK", 0))
    if ranks.world_size < 1 or not 0 <= ranks.rank < ranks.world_size:
        raise ConfigError(
            f"$RANK {ranks.rank} does not fit $WORLD_SIZE {ranks.world_size}; launch with torchrun"
        )
    return ranks


def print_main(text: str) -> None:
    """Print one line to stderr, from rank 0 only."""
    if launch_ranks().is_main:
        print(text, file=sys.stderr)


def quiet_replica(ranks: Ranks) -> None:
    """On ranks other than 0: no progress bars and only errors from the libraries and from
    codegen, so that a run prints its log once whatever the number of processes."""
    if ranks.is_main:
        return
    import datasets
    import transformers

    logging.getLogger("codegen").setLevel(logging.ERROR)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()


def bind_cuda_device(ranks: Ranks, device: str) -> None:
    """Make ``cuda`` mean this process's own GPU (``LOCAL_RANK``) when several processes run."""
    if not ranks.distributed or device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        return
    if ranks.local_rank >= torch.cuda.device_count():
        raise ConfigError(
            f"process {ranks.local_rank} of this node has no GPU of its own "
            f"({torch.cuda.device_count()} visible); use --nproc_per_node "
            f"{torch.cuda.device_count()} or fewer"
        )
    torch.cuda.set_device(ranks.local_rank)


def _group_ready() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def broadcast_from_main(value: float, device: Any) -> float:
    """Rank 0's ``value`` on every process (``value`` itself without a process group)."""
    if not _group_ready():
        return value
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())


T = TypeVar("T")


def shared_hit_rate(items: Sequence[T], hit_rate: Callable[[list[T]], float], device: Any) -> float:
    """``hit_rate(items)``, computed by all processes together: each one scores every
    ``world_size``-th item and the hits are summed, so every process returns the same
    number for 1/N of the work (without a process group: ``hit_rate(items)``)."""
    if not _group_ready():
        return hit_rate(list(items))
    import torch.distributed as dist

    if not items:
        return 0.0
    mine = list(items[dist.get_rank() :: dist.get_world_size()])
    hits = round(hit_rate(mine) * len(mine)) if mine else 0
    return sum_across_ranks(hits, device) / len(items)


def sum_across_ranks(value: int, device: Any) -> int:
    """The sum of ``value`` over every process (``value`` itself without a process group)."""
    if not _group_ready():
        return value
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return int(tensor.item())
