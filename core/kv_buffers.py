"""The key/value cache of a running batch, as :mod:`codegen.core.batch_generation`
keeps it: full-attention layers in buffers with room to grow in place, rows stacked
right-aligned behind zero padding, batches merged and leading padding trimmed. Tensor
work only; which rows run is the decoder's business."""

from __future__ import annotations

import functools
from typing import Any, cast


def layers_kv(cache: Any) -> list[tuple[Any, Any]]:
    return [(layer.keys, layer.values) for layer in cache.layers]


@functools.cache
def growing_layer() -> Any:
    """The cache layer of a running batch's full-attention layers (defined on first use, so
    that importing this module needs no transformers).

    A ``DynamicLayer`` whose ``keys``/``values`` are views of buffers with room for more
    tokens: ``update`` writes the new columns in place, where ``DynamicLayer`` would
    concatenate (copying the whole layer at every step). Out of room, it moves to a buffer
    twice as long; if something replaced ``keys`` by another tensor, it adopts that one.
    """
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        def __init__(self, key_buffer: Any, value_buffer: Any, length: int) -> None:
            super().__init__()
            self.device = key_buffer.device
            self.is_initialized = True
            self._use(key_buffer, value_buffer, length)

        @classmethod
        def around(cls, keys: list, values: list, width: int, room: int) -> Any:
            """A layer holding the rows of ``keys``/``values`` (``[rows, H, T, D]`` tensors)
            right-aligned at ``width`` columns, behind zero padding, with ``room`` more."""
            return cls(stack_right(keys, width, room), stack_right(values, width, room), width)

        def _use(self, key_buffer: Any, value_buffer: Any, length: int) -> None:
            self._key_buffer, self._value_buffer = key_buffer, value_buffer
            self.keys = key_buffer[:, :, :length]
            self.values = value_buffer[:, :, :length]

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> Any:
            keys, values = cast(Any, self.keys), cast(Any, self.values)
            length, new = keys.shape[-2], key_states.shape[-2]
            replaced = keys.data_ptr() != self._key_buffer.data_ptr() or (
                values.data_ptr() != self._value_buffer.data_ptr()
            )
            if replaced or length + new > self._key_buffer.shape[-2]:
                room = max(new, length)
                keys = stack_right([keys], length, room)
                self._use(keys, stack_right([values], length, room), length)
            self._key_buffer[:, :, length : length + new] = key_states
            self._value_buffer[:, :, length : length + new] = value_states
            self._use(self._key_buffer, self._value_buffer, length + new)
            return self.keys, self.values

        def batch_select_indices(self, indices: Any) -> None:
            length = cast(Any, self.keys).shape[-2]
            self._use(self._key_buffer[indices], self._value_buffer[indices], length)

        def place(self, slot: int, keys: Any, values: Any) -> None:
            """Put one row's ``[1, H, T, D]`` keys/values in row ``slot``, right-aligned at
            the current length, behind zeros."""
            length, n = cast(Any, self.keys).shape[-2], keys.shape[-2]
            for buffer, states in ((self._key_buffer, keys), (self._value_buffer, values)):
                buffer[slot, :, : length - n] = 0
                buffer[slot, :, length - n : length] = states[0]

        def drop_front(self, columns: int) -> None:
            """Forget the first ``columns`` columns (padding no row uses any more)."""
            length = cast(Any, self.keys).shape[-2] - columns
            self._use(self._key_buffer[:, :, columns:], self._value_buffer[:, :, columns:], length)

    return GrowingLayer


def stack_right(parts: list, width: int, room: int) -> Any:
    """``parts`` (``[rows, H, T, D]`` tensors) stacked along rows, each right-aligned at
    column ``width`` of a zero buffer ``width + room`` columns long."""
    rows = sum(p.shape[0] for p in parts)
    heads, _, dim = parts[0].shape[1:]
    buffer = parts[0].new_zeros((rows, heads, width + room, dim))
    row = 0
    for part in parts:
        n, length = part.shape[0], part.shape[-2]
        buffer[row : row + n, :, width - length : width] = part
        row += n
    return buffer


def mergeable(cache: Any) -> bool:
    """Rows can join a running batch only when every cache layer is a plain full-attention
    one (sliding-window layers track positions of their own)."""
    from transformers.cache_utils import DynamicLayer

    kinds = (DynamicLayer, growing_layer())
    return cache is None or all(type(layer) in kinds for layer in cache.layers)


def pad_left(tensor: Any, n: int) -> Any:
    """``n`` zero columns before the sequence axis (-2) of a ``[B, H, T, D]`` tensor."""
    import torch

    if n <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[-2] = n
    return torch.cat([tensor.new_zeros(shape), tensor], dim=-2)


def merge_batches(batch: tuple, new: tuple, room: int) -> tuple:
    """The running batch with the newly prefilled rows appended, both right-aligned, with
    ``room`` columns to grow into."""
    import torch

    cache, mask, next_pos, logits = batch
    new_cache, new_mask, new_pos, new_logits = new
    if cache is None:
        return new
    width = max(mask.shape[1], new_mask.shape[1])
    for i, (layer, joining) in enumerate(zip(cache.layers, new_cache.layers, strict=True)):
        keys, values = [layer.keys, joining.keys], [layer.values, joining.values]
        cache.layers[i] = growing_layer().around(keys, values, width, room)

    def pad_mask(m: Any) -> Any:
        return torch.cat([m.new_zeros(m.shape[0], width - m.shape[1]), m], dim=1)

    mask = torch.cat([pad_mask(mask), pad_mask(new_mask)])
    return cache, mask, torch.cat([next_pos, new_pos]), torch.cat([logits, new_logits])


def trim_padding(cache: Any, mask: Any) -> tuple[Any, Any]:
    """Drop leading columns that no remaining row uses (padding only)."""
    used = mask.any(dim=0).nonzero()
    first = int(used[0]) if len(used) else 0
    if first == 0 or not mergeable(cache):
        return cache, mask
    for layer in cache.layers:
        if isinstance(layer, growing_layer()):
            layer.drop_front(first)
        else:
            layer.keys = layer.keys[:, :, first:]
            layer.values = layer.values[:, :, first:]
    return cache, mask[:, first:]
