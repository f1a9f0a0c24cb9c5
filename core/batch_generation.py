"""Batched decoding for :class:`~codegen.core.transformers_engine.TransformersEngine`.

Many rows decode together through one model call per step, with **continuous
batching**: the batch has a number of slots, and as soon as rows finish, waiting rows
are prefilled and join the running batch, so one long row never leaves the others'
slots idle.

- Prompts are **left-padded** to one length, with an attention mask and position ids
  that start at 0 on each row's first real token, so a row sees exactly what it would
  see alone. A waiting row takes a finished row's slot over **in place** (its keys/values
  written into that slot right-aligned, its first token picked at once), so the batch
  and its cache are not rebuilt; rows joining free slots are left-padded (keys/values of
  zeros, masked out) to the running batch's length, or the batch to theirs.
- Identical prompts (the ``n`` samples of one problem) are run through the model
  **once**; the last few prompts' keys/values are kept, so their later samples copy them.
- The key/value cache is kept across steps: each step feeds one token per row. Its
  full-attention layers live in buffers with room for every token the rows may still
  generate, so a step writes one column in place instead of concatenating (which
  copies the whole cache of every layer at every step).
- Each row has its own stop rules, EOS, ``max_new_tokens`` and, when sampling, its own
  uniform draws from a generator seeded with its seed (:mod:`codegen.core.sampling`),
  so its tokens never depend on its neighbours; the batch is sampled in one go.
- A finished row whose slot nobody takes over leaves the batch (its cache rows too),
  and columns that only padding still uses are trimmed. A step without padding passes no
  attention mask.
- The cancellation flag is checked before every step; the picked tokens come to the
  host once per step, for the rows' stop rules.

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
from .kv_buffers import growing_layer, layers_kv, merge_batches, mergeable, pad_left, trim_padding
from .sampling import Sampler, row_draws

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
    draws: Any = None
    """Its sampling uniforms (:func:`~codegen.core.sampling.row_draws`) once admitted."""

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
        sampler: Sampler | None = None
        # The running batch's cache, attention mask, next positions and last logits.
        cache: Any = None
        mask: Any = None
        next_pos: Any = None
        logits: Any = None
        padded = False  # whether any row has padding (else the model needs no mask)
        while pending or active:
            if cancel is not None and cancel.cancelled:
                for row in active + pending:
                    row.finish = "cancelled"
                    row.stats.total_ms = (time.perf_counter() - start) * 1000
                    if on_finish:
                        on_finish(row)
                return
            if pending and len(active) < slots and (not active or mergeable(cache)):
                joining = pending[: slots - len(active)]
                del pending[: len(joining)]
                room = _room(active + joining)
                new = self._prefill(joining, room)
                cache, mask, next_pos, logits = merge_batches(
                    (cache, mask, next_pos, logits), new, room
                )
                active += joining
                sampler, padded = None, not bool(mask.all())
            if sampler is None:
                sampler = self._sampler(active)
            tokens = sampler(logits)
            free = self._take(active, tokens.tolist(), start, on_finish)
            if free:
                if pending and mergeable(cache):
                    batch = (cache, mask, next_pos, tokens)
                    free = self._refill(active, free, pending, batch, start, on_finish)
                live = [b for b in range(len(active)) if b not in free]
                if not live:
                    active, cache, mask, next_pos, logits = [], None, None, None, None
                    continue
                if free:  # finished rows nobody took over leave the batch
                    index = torch.tensor(live, dtype=torch.long, device=self.device)
                    cache.batch_select_indices(index)
                    mask, next_pos, tokens = mask[index], next_pos[index], tokens[index]
                    active = [active[b] for b in live]
                cache, mask = trim_padding(cache, mask)
                sampler, padded = None, not bool(mask.all())
            mask = torch.cat([mask, mask.new_ones(len(active), 1)], dim=1)
            out = self.model(
                input_ids=tokens[:, None],
                attention_mask=mask if padded else None,
                position_ids=next_pos[:, None],
                use_cache=True,
                **{self.cache_kw: cache},
            )
            next_pos = next_pos + 1
            logits = out.logits[:, -1].float()

    def _sampler(self, rows: list[BatchRow]) -> Sampler:
        configs, draws = [r.config for r in rows], [r.draws for r in rows]
        return Sampler(configs, draws, [len(r.generated) for r in rows], self.device)

    def _take(
        self,
        rows: list[BatchRow],
        tokens: list[int],
        start: float,
        on_finish: Callable[[BatchRow], None] | None,
        slots: Sequence[int] | None = None,
    ) -> list[int]:
        """Give ``rows[b]`` its token ``tokens[b]``; the slots (``slots[b]``, default ``b``)
        of the rows that finished."""
        now_ms = (time.perf_counter() - start) * 1000
        done = []
        for b, (row, token) in enumerate(zip(rows, tokens, strict=True)):
            if row.stats.time_to_first_token_ms < 0:
                row.stats.time_to_first_token_ms = now_ms
            _advance(row, token, self.stop_ids, self.decode)
            if row.finish is not None:
                row.stats.total_ms = (time.perf_counter() - start) * 1000
                if on_finish:
                    on_finish(row)
                done.append(b if slots is None else slots[b])
        return done

    def _refill(
        self,
        active: list[BatchRow],
        free: list[int],
        pending: list[BatchRow],
        batch: tuple,
        start: float,
        on_finish: Callable[[BatchRow], None] | None,
    ) -> list[int]:
        """Waiting rows take over the ``free`` slots of finished rows in place: their
        prefilled keys/values right-aligned in the slot, their first token picked from
        their prefill's logits (into ``tokens``, fed with the others' at the next step), so
        neither the cache nor the batch is rebuilt. Returns the slots still free."""
        import torch

        cache, mask, next_pos, tokens = batch
        width, free = mask.shape[1], list(free)
        while free and pending and len(pending[0].ids) <= width:
            joining = pending[: len(free)]
            count = next((i for i, row in enumerate(joining) if len(row.ids) > width), len(joining))
            joining, slots = joining[:count], free[:count]
            del pending[:count], free[:count]
            self._remember([self._admit(row) for row in joining])
            lasts = []
            for slot, row in zip(slots, joining, strict=True):
                kv, last = self._memo[tuple(row.ids)]
                for layer, (keys, values) in zip(cache.layers, kv, strict=True):
                    layer.place(slot, keys, values)
                mask[slot] = 0
                mask[slot, width - len(row.ids) :] = 1
                next_pos[slot] = len(row.ids)
                active[slot] = row
                lasts.append(last)
            first = self._sampler(joining)(torch.stack(lasts))
            tokens[torch.tensor(slots, device=self.device)] = first
            free += self._take(joining, first.tolist(), start, on_finish, slots)
        return sorted(free)

    def _admit(self, row: BatchRow) -> BatchRow:
        row.stats.time_to_first_token_ms = -1.0  # set when its first token comes
        row.draws = row_draws(row.config, self.device)
        return row

    def _remember(self, rows: list[BatchRow]) -> None:
        """Prefill each distinct prompt of ``rows`` not in the memo (one model call, left
        padded) and keep its keys/values and last logits there."""
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
                kv = [(k[u : u + 1, :, -n:], v[u : u + 1, :, -n:]) for k, v in layers_kv(cache)]
                self._memo[ids] = (kv, out.logits[u, -1].float())
        for ids in distinct:
            self._memo.move_to_end(ids)  # in use: evict older prompts first
        while len(self._memo) > max(PREFIX_MEMO, len(distinct)):
            self._memo.popitem(last=False)

    def _prefill(self, rows: list[BatchRow], room: int) -> tuple:
        """Prefill each distinct prompt of ``rows`` once (or copy it from the memo), left-padded
        to one length; ``(cache, mask, next positions, last logits)`` with one row per row,
        its full-attention layers with ``room`` columns to grow into."""
        import torch
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        for row in rows:
            self._admit(row)
        self._remember(rows)
        width = max(len(r.ids) for r in rows)
        per_layer: list[tuple[list, list]] = []
        masks, logits = [], []
        for row in rows:
            kv, last = self._memo[tuple(row.ids)]
            for layer, (k, v) in enumerate(kv):
                if len(per_layer) <= layer:
                    per_layer.append(([], []))
                per_layer[layer][0].append(k)
                per_layer[layer][1].append(v)
            row_mask = torch.zeros(width, dtype=torch.long, device=self.device)
            row_mask[width - len(row.ids) :] = 1
            masks.append(row_mask)
            logits.append(last)
        cache = DynamicCache(config=self.model.config)
        for layer, (keys, values) in enumerate(per_layer):
            if layer < len(cache.layers) and type(cache.layers[layer]) is not DynamicLayer:
                # A sliding-window layer keeps positions of its own: fill it through update.
                padded = [[pad_left(t, width - t.shape[-2]) for t in ts] for ts in (keys, values)]
                cache.update(torch.cat(padded[0]), torch.cat(padded[1]), layer)
                continue
            grown = growing_layer().around(keys, values, width, room)
            if layer < len(cache.layers):
                cache.layers[layer] = grown
            else:  # a cache that makes its layers on first use
                cache.layers.append(grown)
        mask = torch.stack(masks)
        return cache, mask, mask.sum(dim=-1), torch.stack(logits)


def _room(rows: list[BatchRow]) -> int:
    """Columns the cache needs beyond the prompt: the most tokens any row may still feed."""
    return max(max(0, r.config.max_new_tokens - len(r.generated)) for r in rows)


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
