"""Batched decoding for :class:`~codegen.core.transformers_engine.TransformersEngine`.

Many rows decode together through one model call per step, with **continuous
batching**: the batch has a number of slots, and as soon as rows finish, waiting rows
are prefilled and join the running batch, so one long row never leaves the others'
slots idle.

- Prompts are **left-padded** to one length, with an attention mask and position ids
  that start at 0 on each row's first real token, so a row sees exactly what it would
  see alone. Rows joining later are left-padded (keys/values of zeros, masked out) to
  the running batch's length, or the batch to theirs.
- Identical prompts (the ``n`` samples of one problem) are run through the model
  **once**; the last few prompts' keys/values are kept, so their later samples copy them.
- The key/value cache is kept across steps: each step feeds one token per row.
- Each row has its own stop rules, EOS, ``max_new_tokens`` and, when sampling, its own
  ``torch.Generator`` seeded with its seed, so its draws never depend on its neighbours.
- A finished row leaves the batch (its cache rows too), and columns that only padding
  still uses are trimmed.
- The cancellation flag is checked before every step.

:func:`slot_count` bounds the batch by a row count and a token budget (rows x (longest
prompt + most new tokens): the cache's size), so memory stays bounded however many rows
a caller passes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine import (
    CancelToken,
    GenerationConfig,
    GenerationResult,
    GenerationStats,
    apply_stop_rules,
)
from .sampling import pick_tokens

DEFAULT_MAX_BATCH_TOKENS = 32768
"""Cache tokens one micro-batch may hold: rows x (longest prompt + most new tokens)."""


@dataclass
class BatchRow:
    """One row of a batched call: its prompt ids, its config and what it produced."""

    ids: list[int]
    config: GenerationConfig
    generated: list[int] = field(default_factory=list)
    text: str = ""
    finish: str | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)

    def result(self) -> GenerationResult:
        self.stats.new_tokens = len(self.generated)
        self.stats.time_to_first_token_ms = max(0.0, self.stats.time_to_first_token_ms)
        text = "" if self.finish == "cancelled" else self.text
        return GenerationResult(text, self.finish or "length", self.stats)


def admission_order(lengths: Sequence[int], keys: Sequence[Any]) -> list[int]:
    """Row indices longest prompt first; identical prompts (equal ``keys``) sit together so
    they join the batch together and share one prefill."""
    return sorted(range(len(lengths)), key=lambda i: (-lengths[i], keys[i], i))


def slot_count(
    rows: int, longest: int, most_new: int, batch_size: int | None, max_tokens: int
) -> int:
    """Rows decoded together: at most ``batch_size`` and ``max_tokens // (longest +
    most_new)`` (what the cache may hold), at least one."""
    slots = max(1, max_tokens // max(1, longest + most_new))
    if batch_size is not None:
        slots = min(slots, batch_size)
    return max(1, min(slots, rows))


PREFIX_MEMO = 4
"""Prompts whose prefilled keys/values are kept for their later samples."""


class BatchDecoder:
    """One batched call: admits rows into ``slots`` and decodes until every row is done.

    Call :meth:`run` under ``torch.inference_mode()``. Rows must have non-empty ``ids``
    and ``max_new_tokens >= 1``; ``on_finish(row)`` is called as each row finishes.
    """

    def __init__(
        self,
        model: Any,
        cache_kw: str,
        pad_id: int,
        stop_ids: set[int],
        decode: Callable[[list[int]], str],
    ) -> None:
        self.model = model
        self.cache_kw = cache_kw
        self.pad_id = pad_id
        self.stop_ids = stop_ids
        self.decode = decode
        device = getattr(model, "device", None)
        self.device = device if device is not None else next(model.parameters()).device
        self._memo: OrderedDict[tuple[int, ...], tuple[list, Any]] = OrderedDict()

    def run(
        self,
        rows: list[BatchRow],
        slots: int,
        cancel: CancelToken | None,
        on_finish: Callable[[BatchRow], None] | None = None,
    ) -> None:
        import torch

        start = time.perf_counter()
        pending = list(rows)
        active: list[BatchRow] = []
        generators: list[Any] = []
        # The running batch's cache, attention mask, next positions and last logits.
        cache: Any = None
        mask: Any = None
        next_pos: Any = None
        logits: Any = None
        while pending or active:
            if cancel is not None and cancel.cancelled:
                for row in active + pending:
                    row.finish = "cancelled"
                    row.stats.total_ms = (time.perf_counter() - start) * 1000
                    if on_finish:
                        on_finish(row)
                return
            if pending and len(active) < slots and (not active or _mergeable(cache)):
                joining = pending[: slots - len(active)]
                del pending[: len(joining)]
                for row in joining:
                    row.stats.time_to_first_token_ms = -1.0  # set when its first token comes
                new = self._prefill(joining)
                cache, mask, next_pos, logits = _merge((cache, mask, next_pos, logits), new)
                active += joining
                generators += [_generator(row.config, self.device) for row in joining]
            tokens = pick_tokens(logits, [r.config for r in active], generators)
            now_ms = (time.perf_counter() - start) * 1000
            keep = []
            for b, row in enumerate(active):
                if row.stats.time_to_first_token_ms < 0:
                    row.stats.time_to_first_token_ms = now_ms
                _advance(row, tokens[b], self.stop_ids, self.decode)
                if row.finish is None:
                    keep.append(b)
                else:
                    row.stats.total_ms = (time.perf_counter() - start) * 1000
                    if on_finish:
                        on_finish(row)
            if len(keep) < len(active):
                index = torch.tensor(keep, dtype=torch.long, device=self.device)
                cache.batch_select_indices(index)
                mask, next_pos = mask[index], next_pos[index]
                active = [active[b] for b in keep]
                generators = [generators[b] for b in keep]
                cache, mask = _trim_padding(cache, mask)
            if not active:
                cache = mask = next_pos = logits = None
                continue
            feed = torch.tensor([[r.generated[-1]] for r in active], device=self.device)
            mask = torch.cat([mask, mask.new_ones(len(active), 1)], dim=1)
            out = self.model(
                input_ids=feed,
                attention_mask=mask,
                position_ids=next_pos[:, None],
                use_cache=True,
                **{self.cache_kw: cache},
            )
            next_pos = next_pos + 1
            logits = out.logits[:, -1].float()

    def _prefill(self, rows: list[BatchRow]) -> tuple:
        """Prefill each distinct prompt of ``rows`` once (or copy it from the memo), left-padded
        to one length; ``(cache, mask, next positions, last logits)`` with one row per row."""
        import torch
        from transformers import DynamicCache

        distinct = list(dict.fromkeys(tuple(r.ids) for r in rows))
        todo = [ids for ids in distinct if ids not in self._memo]
        if todo:
            width = max(len(ids) for ids in todo)
            input_ids = torch.full((len(todo), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(todo), width), dtype=torch.long)
            for u, ids in enumerate(todo):
                input_ids[u, width - len(ids) :] = torch.tensor(ids)
                mask[u, width - len(ids) :] = 1
            input_ids, mask = input_ids.to(self.device), mask.to(self.device)
            cache = DynamicCache(config=self.model.config)
            out = self.model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=(mask.cumsum(dim=-1) - 1).clamp(min=0),
                use_cache=True,
                logits_to_keep=1,
                **{self.cache_kw: cache},
            )
            for u, ids in enumerate(todo):
                n = len(ids)
                kv = [(k[u : u + 1, :, -n:], v[u : u + 1, :, -n:]) for k, v in _layers_kv(cache)]
                self._memo[ids] = (kv, out.logits[u, -1].float())
        for ids in distinct:
            self._memo.move_to_end(ids)  # in use: evict older prompts first
        while len(self._memo) > max(PREFIX_MEMO, len(distinct)):
            self._memo.popitem(last=False)
        width = max(len(r.ids) for r in rows)
        per_layer: list[tuple[list, list]] = []
        masks, logits = [], []
        for row in rows:
            kv, last = self._memo[tuple(row.ids)]
            for layer, (k, v) in enumerate(kv):
                if len(per_layer) <= layer:
                    per_layer.append(([], []))
                per_layer[layer][0].append(_pad_left(k, width - k.shape[-2]))
                per_layer[layer][1].append(_pad_left(v, width - v.shape[-2]))
            row_mask = torch.zeros(width, dtype=torch.long, device=self.device)
            row_mask[width - len(row.ids) :] = 1
            masks.append(row_mask)
            logits.append(last)
        cache = DynamicCache(config=self.model.config)
        for layer, (keys, values) in enumerate(per_layer):
            cache.update(torch.cat(keys), torch.cat(values), layer)
        mask = torch.stack(masks)
        return cache, mask, mask.sum(dim=-1), torch.stack(logits)


def _layers_kv(cache: Any) -> list[tuple[Any, Any]]:
    return [(layer.keys, layer.values) for layer in cache.layers]


def _mergeable(cache: Any) -> bool:
    """Rows can join a running batch only when every cache layer is a plain growing one
    (sliding-window layers track positions of their own)."""
    from transformers.cache_utils import DynamicLayer

    return cache is None or all(type(layer) is DynamicLayer for layer in cache.layers)


def _pad_left(tensor: Any, n: int) -> Any:
    """``n`` zero columns before the sequence axis (-2) of a ``[B, H, T, D]`` tensor."""
    import torch

    if n <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[-2] = n
    return torch.cat([tensor.new_zeros(shape), tensor], dim=-2)


def _merge(batch: tuple, new: tuple) -> tuple:
    """The running batch with the newly prefilled rows appended, both right-aligned."""
    import torch

    cache, mask, next_pos, logits = batch
    new_cache, new_mask, new_pos, new_logits = new
    if cache is None:
        return new
    width = max(mask.shape[1], new_mask.shape[1])
    for layer, joining in zip(cache.layers, new_cache.layers, strict=True):
        grow, add = width - layer.keys.shape[-2], width - joining.keys.shape[-2]
        layer.keys = torch.cat([_pad_left(layer.keys, grow), _pad_left(joining.keys, add)])
        layer.values = torch.cat([_pad_left(layer.values, grow), _pad_left(joining.values, add)])

    def pad_mask(m: Any) -> Any:
        return torch.cat([m.new_zeros(m.shape[0], width - m.shape[1]), m], dim=1)

    mask = torch.cat([pad_mask(mask), pad_mask(new_mask)])
    return cache, mask, torch.cat([next_pos, new_pos]), torch.cat([logits, new_logits])


def _trim_padding(cache: Any, mask: Any) -> tuple[Any, Any]:
    """Drop leading columns that no remaining row uses (padding only)."""
    used = mask.any(dim=0).nonzero()
    first = int(used[0]) if len(used) else 0
    if first == 0 or not _mergeable(cache):
        return cache, mask
    for layer in cache.layers:
        layer.keys = layer.keys[:, :, first:]
        layer.values = layer.values[:, :, first:]
    return cache, mask[:, first:]


def _advance(row: BatchRow, token: int, stop_ids: set[int], decode: Callable) -> None:
    """Append ``token`` to ``row`` unless it ends the row; set ``finish`` when it is done."""
    if token in stop_ids:
        row.finish = "eos"
        if not (row.config.stop or row.config.stop_fn):
            row.text = decode(row.generated)
        return
    row.generated.append(token)
    full = len(row.generated) >= row.config.max_new_tokens
    if not (row.config.stop or row.config.stop_fn or full):
        return  # no stop rule to check: the text is decoded once, at the end
    row.text, stopped = apply_stop_rules(decode(row.generated), row.config)
    if stopped:
        row.finish = "stop"
    elif full:
        row.finish = "length"


def _generator(config: GenerationConfig, device: Any) -> Any:
    import torch

    if config.temperature <= 0:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed if config.seed is not None else 0)
    return generator
