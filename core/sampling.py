"""Choosing the next token from a row of logits: greedy, or sampled with temperature and
top-p from a caller's ``torch.Generator`` (so each row's draws are its own)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .engine import GenerationConfig


def pick_token(logits: Any, config: GenerationConfig, generator: Any) -> int:
    """The next token for one row of ``logits`` (1-D) under ``config``."""
    import torch

    if config.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / config.temperature, dim=-1)
    if config.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < config.top_p
        sorted_probs = sorted_probs * keep
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs / probs.sum(), 1, generator=generator))


def pick_tokens(
    logits: Any, configs: Sequence[GenerationConfig], generators: Sequence[Any]
) -> list[int]:
    """The next token of every row of ``logits`` (``[rows, vocab]``), row ``b`` under
    ``configs[b]`` with ``generators[b]``: what :func:`pick_token` gives each row alone,
    with the softmax and top-p filtering done for all sampled rows at once."""
    import torch

    tokens = logits.argmax(dim=-1).tolist()
    sampled = [b for b, config in enumerate(configs) if config.temperature > 0]
    if not sampled:
        return tokens
    index = torch.tensor(sampled, device=logits.device)
    temps = torch.tensor([configs[b].temperature for b in sampled], device=logits.device)
    probs = torch.softmax(logits[index] / temps[:, None].to(logits.dtype), dim=-1)
    top_p = [configs[b].top_p for b in sampled]
    if min(top_p) < 1.0:
        # Rows with top_p >= 1 keep every token, as pick_token does.
        limit = torch.tensor([p if p < 1.0 else float("inf") for p in top_p], device=logits.device)
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < limit[:, None]
        probs = torch.zeros_like(probs).scatter(1, order, sorted_probs * keep)
    for row, b in enumerate(sampled):
        p = probs[row]
        tokens[b] = int(torch.multinomial(p / p.sum(), 1, generator=generators[b]))
    return tokens
