"""Choosing the next token of each row of logits: greedy, or sampled with temperature and
top-p by inverse transform from the row's own uniform draws.

A sampled row draws its uniforms up front, one per token it may generate, from a
``torch.Generator`` seeded with its seed (:func:`row_draws`); step ``i`` uses draw ``i``.
So a row's tokens depend only on its logits and its seed, never on the rows beside it,
and a whole batch is sampled with a few tensor operations per step (no per-row call).

The nucleus (top-p) of a row is every token whose probability is at least that of the
least likely token the usual rule keeps (sort descending, keep while the mass before a
token is below ``top_p``). Only the sorted *values* decide it, so ties are kept together
and the result does not depend on how a sort orders equal values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .engine import GenerationConfig


class SamplingRows:
    """The sampling settings of a batch's rows as tensors on ``device`` (row ``b``: ``configs[b]``)."""

    def __init__(self, configs: Sequence[GenerationConfig], device: Any) -> None:
        import torch

        sampled = [c.temperature > 0 for c in configs]
        self.any_sampled = any(sampled)
        self.any_nucleus = any(c.temperature > 0 and c.top_p < 1.0 for c in configs)
        self.temperature = torch.tensor(
            [c.temperature if c.temperature > 0 else 1.0 for c in configs], device=device
        )
        self.top_p = torch.tensor(
            [c.top_p if c.temperature > 0 and c.top_p < 1.0 else 2.0 for c in configs],
            device=device,
        )
        self.is_sampled = torch.tensor(sampled, device=device)


def row_draws(config: GenerationConfig, device: Any) -> Any:
    """The uniforms in [0, 1) a sampled row uses, one per token it may generate, from a
    generator seeded with ``config.seed`` (0 when None); None for a greedy row."""
    import torch

    if config.temperature <= 0:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed if config.seed is not None else 0)
    return torch.rand(max(1, config.max_new_tokens), generator=generator, device=device)


def pick_tokens(logits: Any, rows: SamplingRows, uniforms: Any) -> Any:
    """The next token of every row of ``logits`` (``[rows, vocab]``) as a long tensor: the
    argmax of greedy rows, and for sampled rows the token where ``uniforms[b]`` (one draw
    per row; None when every row is greedy) falls in the cumulative distribution of its
    tempered, top-p filtered probabilities."""
    import torch

    greedy = logits.argmax(dim=-1)
    if not rows.any_sampled:
        return greedy
    probs = torch.softmax(logits / rows.temperature[:, None].to(logits.dtype), dim=-1)
    if rows.any_nucleus:
        floor = _nucleus_floor(probs, rows.top_p)
        probs = torch.where(probs >= floor[:, None], probs, torch.zeros_like(probs))
    cdf = probs.cumsum(dim=-1)
    total = cdf[:, -1:]
    # Strictly below the total, so the token found always has a probability above zero.
    target = torch.minimum(uniforms[:, None].to(cdf.dtype) * total, total.nextafter(total * 0))
    sampled = torch.searchsorted(cdf, target, right=True)[:, 0]
    return torch.where(rows.is_sampled, sampled, greedy)


class Sampler:
    """Picks the next token of every row of a batch: row ``b`` under ``configs[b]``, with
    the uniforms ``draws[b]`` (from :func:`row_draws`) read from index ``steps[b]`` on.

    Build a new one when rows join or leave; each call uses one draw of every row."""

    def __init__(
        self,
        configs: Sequence[GenerationConfig],
        draws: Sequence[Any],
        steps: Sequence[int],
        device: Any,
    ) -> None:
        import torch

        self.rows = SamplingRows(configs, device)
        self._uniforms = self._step = None
        if self.rows.any_sampled:
            width = max(len(d) for d in draws if d is not None)
            self._uniforms = torch.zeros((len(configs), width), device=device)
            for b, row in enumerate(draws):
                if row is not None:
                    self._uniforms[b, : len(row)] = row
            self._step = torch.tensor(list(steps), device=device)

    def __call__(self, logits: Any) -> Any:
        """The next tokens (a long tensor, one per row) for ``logits`` ``[rows, vocab]``."""
        if self._uniforms is None or self._step is None:
            return pick_tokens(logits, self.rows, None)
        step = self._step.clamp(max=self._uniforms.shape[1] - 1)
        uniforms = self._uniforms.gather(1, step[:, None])[:, 0]
        self._step = self._step + 1
        return pick_tokens(logits, self.rows, uniforms)


def _nucleus_floor(probs: Any, top_p: Any) -> Any:
    """Per row, the smallest probability the top-p rule keeps (0 where ``top_p`` >= 1)."""
    import torch

    if probs.device.type == "cpu":
        # Only the values are needed, and numpy sorts them several times faster than torch.
        import numpy as np

        ascending = np.sort(probs.detach().numpy(), axis=-1)
        ordered = torch.from_numpy(np.ascontiguousarray(ascending[:, ::-1]))
    else:
        ordered = torch.sort(probs, dim=-1, descending=True).values
    before = ordered.cumsum(dim=-1) - ordered
    kept = (before < top_p[:, None].to(before.dtype)).sum(dim=-1).clamp(min=1)
    floor = ordered.gather(1, (kept - 1)[:, None])[:, 0]
    return torch.where(top_p < 1.0, floor, torch.zeros_like(floor))
