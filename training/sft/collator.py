"""Batch packed rows without letting attention leak between examples.

Each row holds several examples back to back. ``position_ids`` restart at 0 at
every example; transformers' attention (sdpa, eager and flash) turns restarting
positions into a block-diagonal causal mask when no 2D ``attention_mask`` is
given and no KV cache is in use (so training runs with ``use_cache=False``).

For models whose attention code does not read boundaries from ``position_ids``
the collator can build that block-diagonal causal mask itself as a 4D additive
mask (``boundary="mask"``); :func:`codegen.training.sft.model.check_packing_isolation`
picks the mode that the loaded model honours.

Rows in a batch are right-padded with the pad token (never EOS): labels are
``-100`` there, and padding comes after every real token, so causal attention
never lets a real token see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .packing import IGNORE_INDEX

BOUNDARY_MODES = ("position_ids", "mask")


def segment_positions(lengths: list[int], total: int) -> list[int]:
    """Positions restarting at 0 for every segment; the tail up to ``total`` is one more segment."""
    positions: list[int] = []
    for n in lengths:
        positions.extend(range(n))
    positions.extend(range(total - len(positions)))
    return positions


def first_label_masked(labels: list[int], lengths: list[int]) -> list[int]:
    """``labels`` with the first token of every example set to ``-100``.

    The model predicts ``labels[i]`` from position ``i - 1``; at an example's
    first token that position belongs to the *previous* example, so it must not
    be a target.
    """
    out = list(labels)
    start = 0
    for n in lengths:
        if start < len(out):
            out[start] = IGNORE_INDEX
        start += n
    return out


@dataclass
class PackedCollator:
    """Collate rows of ``input_ids``/``labels``/``lengths`` into model inputs."""

    pad_token_id: int
    boundary: str = "position_ids"
    mask_dtype: Any = None
    """dtype of the 4D additive mask (the model's compute dtype); float32 when None."""

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(r["input_ids"]) for r in rows)
        ids, labels, positions = [], [], []
        for row in rows:
            pad = width - len(row["input_ids"])
            ids.append(list(row["input_ids"]) + [self.pad_token_id] * pad)
            labels.append(first_label_masked(row["labels"], row["lengths"]) + [IGNORE_INDEX] * pad)
            positions.append(segment_positions(list(row["lengths"]), width))
        batch: dict[str, Any] = {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "position_ids": torch.tensor(positions, dtype=torch.long),
            "use_cache": False,
        }
        if self.boundary == "mask":
            batch["attention_mask"] = block_causal_mask(
                [list(r["lengths"]) for r in rows], width, self.mask_dtype or torch.float32
            )
        return batch


def block_causal_mask(lengths: list[list[int]], width: int, dtype: Any) -> Any:
    """A ``(batch, 1, width, width)`` additive mask: 0 where a token may attend (same
    example, not in the future), the dtype's minimum elsewhere."""
    import torch

    segment = torch.empty(len(lengths), width, dtype=torch.long)
    for b, row in enumerate(lengths):
        ids = [i for i, n in enumerate(row) for _ in range(n)]
        ids += [len(row)] * (width - len(ids))
        segment[b] = torch.tensor(ids)
    same = segment[:, :, None] == segment[:, None, :]
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    allowed = same & causal
    mask = torch.zeros(allowed.shape, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]
