"""The real :class:`~codegen.core.engine.Engine`: a transformers model with
longest-common-prefix KV-cache reuse between consecutive calls, and batched
generation for many rows at once.

Typing one more character changes only the end of a completion prompt; the
keys/values of every token before the first difference are kept from the last
call, so only the new tokens are run through the model. ``generate_batch``
(eval, metrics) decodes many rows per model call instead (see
:mod:`codegen.core.batch_generation`) and leaves that keystroke cache alone.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from .batch_generation import (
    DEFAULT_MAX_BATCH_TOKENS,
    BatchDecoder,
    BatchRow,
    admission_order,
    slot_count,
)
from .engine import (
    CancelToken,
    GenerationConfig,
    GenerationResult,
    GenerationStats,
    TokenScore,
    apply_stop_rules,
    check_batch,
)
from .errors import ConfigError
from .model import LoadedModel, attach_adapter, load_model, set_active_adapter
from .sampling import Sampler, row_draws


def common_prefix_length(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class TransformersEngine:
    """Generation and token scoring with one loaded model, one call at a time.

    ``batch_size`` (None = no row limit) and ``max_batch_tokens`` bound how many rows
    :meth:`generate_batch` decodes together; see :func:`slot_count`.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        batch_size: int | None = None,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    ) -> None:
        if (batch_size is not None and batch_size < 1) or max_batch_tokens < 1:
            raise ConfigError("batch size and max batch tokens must be at least 1")
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.loaded = loaded
        self.fim = loaded.fim
        self.name = loaded.spec
        self._lock = threading.Lock()
        self._cache: Any = None
        self._cache_ids: list[int] = []
        tok = loaded.tokenizer
        stop_ids = {tok.eos_token_id}
        for sentinel in loaded.fim.sentinels:
            ids = tok.encode(sentinel, add_special_tokens=False)
            if len(ids) == 1:
                stop_ids.add(ids[0])
        self._stop_ids = {i for i in stop_ids if i is not None}
        self.max_positions = int(getattr(loaded.model.config, "max_position_embeddings", 4096))
        self._cache_kw = _cache_keyword(loaded.model)

    # -- model and adapters -------------------------------------------------
    @property
    def model(self) -> Any:
        return self.loaded.model

    @property
    def tokenizer(self) -> Any:
        return self.loaded.tokenizer

    def load_adapter(self, adapter_dir: str, name: str | None = None) -> str:
        """Attach an adapter and activate it; the base stays loaded."""
        with self._lock:
            self._reset_cache()
            return attach_adapter(self.loaded, adapter_dir, name)

    def set_adapter(self, name: str | None) -> None:
        """Activate an attached adapter by name, or the bare base with ``None``."""
        with self._lock:
            self._reset_cache()
            set_active_adapter(self.loaded, name)

    @property
    def adapters(self) -> dict[str, str]:
        return dict(self.loaded.adapters)

    def info(self) -> dict[str, Any]:
        return {
            "model": self.loaded.spec,
            "path": self.loaded.path,
            "device": self.loaded.device,
            "quantize": self.loaded.quantize,
            "fim_format": self.fim.name,
            "adapter": self.loaded.active_adapter,
            "adapters": self.adapters,
        }

    def _reset_cache(self) -> None:
        self._cache = None
        self._cache_ids = []

    def _adapter_context(self) -> Any:
        model = self.loaded.model
        if self.loaded.active_adapter is None and hasattr(model, "disable_adapter"):
            return model.disable_adapter()
        return nullcontext()

    # -- tokens -------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    # -- generation ---------------------------------------------------------
    def generate(
        self, prompt: str, config: GenerationConfig, cancel: CancelToken | None = None
    ) -> GenerationResult:
        """Generate a continuation of ``prompt`` under ``config``'s stop rules."""
        import torch

        with self._lock, torch.inference_mode(), self._adapter_context():
            return self._generate(prompt, config, cancel)

    def _prefill(self, ids: list[int], reuse_allowed: bool) -> tuple[Any, Any, int]:
        import torch
        from transformers import DynamicCache

        reuse = 0
        if reuse_allowed and self._cache is not None:
            # Keep at least one token to feed: its logits give the first new token.
            reuse = min(common_prefix_length(self._cache_ids, ids), len(ids) - 1)
        if reuse > 0:
            cache = self._cache
            # Negative = number of tokens to drop: the one form every transformers
            # release since 4.45 accepts.
            surplus = cache.get_seq_length() - reuse
            if surplus > 0:
                cache.crop(-surplus)
        else:
            reuse = 0
            cache = DynamicCache(config=self.model.config)
        self._reset_cache()  # until this call finishes, the old cache is invalid
        feed = torch.tensor([ids[reuse:]], device=self.model.device)
        out = self.model(
            input_ids=feed, use_cache=True, logits_to_keep=1, **{self._cache_kw: cache}
        )
        return out.logits[0, -1].float(), cache, reuse

    def _generate(
        self, prompt: str, config: GenerationConfig, cancel: CancelToken | None
    ) -> GenerationResult:
        import torch

        start = time.perf_counter()
        ids = self.encode(prompt)
        max_new = max(0, config.max_new_tokens)
        room = self.max_positions - max_new
        if len(ids) > room:
            ids = ids[-max(room, 1) :]
        stats = GenerationStats(prompt_tokens=len(ids))
        if cancel is not None and cancel.cancelled:
            return GenerationResult("", "cancelled", stats)
        if not ids:
            ids = [self.tokenizer.eos_token_id]
        logits, cache, reuse = self._prefill(ids, config.use_cache_reuse)
        stats.reused_tokens = reuse
        cache_ids = list(ids)
        # The same draws and picks as this row gets in any batch of generate_batch.
        sampler = Sampler([config], [row_draws(config, logits.device)], [0], logits.device)
        generated: list[int] = []
        logprobs: list[float] = []
        first_margin: float | None = None
        text, finish = "", "length"
        for step in range(max_new):
            if cancel is not None and cancel.cancelled:
                finish = "cancelled"
                break
            token = int(sampler(logits[None])[0])
            if step == 0:
                stats.time_to_first_token_ms = (time.perf_counter() - start) * 1000
                top2 = torch.topk(logits, 2).values if logits.shape[-1] > 1 else None
                if top2 is not None:
                    first_margin = float(top2[0] - top2[1])
            if token in self._stop_ids:
                finish = "eos"
                break
            logprobs.append(float(logits[token] - torch.logsumexp(logits, dim=-1)))
            generated.append(token)
            text, stopped = apply_stop_rules(self.tokenizer.decode(generated), config)
            if stopped:
                finish = "stop"
                break
            if step == max_new - 1:
                break
            out = self.model(
                input_ids=torch.tensor([[token]], device=logits.device),
                use_cache=True,
                **{self._cache_kw: cache},
            )
            cache_ids.append(token)
            logits = out.logits[0, -1].float()
        if config.use_cache_reuse:
            self._cache, self._cache_ids = cache, cache_ids
        stats.new_tokens = len(generated)
        stats.total_ms = (time.perf_counter() - start) * 1000
        if finish == "cancelled":
            text = ""
        return GenerationResult(text, finish, stats, logprobs, first_margin)

    def generate_batch(
        self,
        prompts: Sequence[str],
        configs: Sequence[GenerationConfig],
        cancel: CancelToken | None = None,
        *,
        batch_size: int | None = None,
        on_result: Callable[[int, GenerationResult], None] | None = None,
    ) -> list[GenerationResult]:
        """Generate every row (see :meth:`Engine.generate_batch`), continuously batched.

        At most ``batch_size`` rows (default: the engine's ``batch_size``) decode together,
        fewer if ``max_batch_tokens`` says so; ``on_result(i, result)`` is called as row
        ``i`` finishes. Rows are truncated like :meth:`generate` (the prompt's tail, leaving
        room for ``max_new_tokens``); the keystroke path's reused cache is kept as it is.
        Each row's time to first token and total time count from the start of the call.
        """
        import torch

        check_batch(prompts, configs)
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch size must be at least 1 (got {batch_size})")
        rows = [
            BatchRow(self._fit_prompt(p, c.max_new_tokens), c)
            for p, c in zip(prompts, configs, strict=True)
        ]
        index_of = {id(row): i for i, row in enumerate(rows)}

        def finished(row: BatchRow) -> None:
            if on_result is not None:
                on_result(index_of[id(row)], row.result())

        todo = []
        for row in rows:
            row.stats.prompt_tokens = len(row.ids)
            if row.config.max_new_tokens <= 0:
                row.finish = "length"
                finished(row)
            else:
                todo.append(row)
        if todo:
            order = admission_order([len(r.ids) for r in todo], [r.ids for r in todo])
            slots = slot_count(
                len(todo),
                max(len(r.ids) for r in todo),
                max(r.config.max_new_tokens for r in todo),
                batch_size if batch_size is not None else self.batch_size,
                self.max_batch_tokens,
            )
            decoder = BatchDecoder(
                self.model, self._cache_kw, self._pad_id(), self._stop_ids, self.tokenizer.decode
            )
            with self._lock, torch.inference_mode(), self._adapter_context():
                decoder.run([todo[i] for i in order], slots, cancel, finished)
        return [row.result() for row in rows]

    def _fit_prompt(self, prompt: str, max_new_tokens: int) -> list[int]:
        ids = self.encode(prompt)
        room = self.max_positions - max(0, max_new_tokens)
        if len(ids) > room:
            ids = ids[-max(room, 1) :]
        return ids or [self.tokenizer.eos_token_id]

    def _pad_id(self) -> int:
        """Any id will do under the attention mask; prefer the tokenizer's pad token."""
        for candidate in (
            getattr(self.tokenizer, "pad_token_id", None),
            self.tokenizer.eos_token_id,
        ):
            if candidate is not None:
                return int(candidate)
        return 0

    # -- scoring ------------------------------------------------------------
    def score(self, text: str) -> list[TokenScore]:
        """Log-probability of every token of ``text`` after the first, in one forward pass
        (per window of the model's context length)."""
        import torch

        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids: list[int] = enc["input_ids"]
        offsets: list[tuple[int, int]] = enc["offset_mapping"]
        scores: list[TokenScore] = []
        if len(ids) < 2:
            return scores
        window = self.max_positions
        with self._lock, torch.inference_mode(), self._adapter_context():
            for begin in range(0, len(ids) - 1, window - 1):
                chunk = ids[begin : begin + window]
                if len(chunk) < 2:
                    break
                tensor = torch.tensor([chunk], device=self.model.device)
                logp = torch.log_softmax(self.model(input_ids=tensor).logits[0].float(), dim=-1)
                targets = tensor[0, 1:]
                token_lp = logp[:-1].gather(1, targets[:, None])[:, 0]
                top_lp, top_ids = logp[:-1].max(dim=-1)
                for j in range(len(chunk) - 1):
                    s, e = offsets[begin + j + 1]
                    scores.append(
                        TokenScore(
                            text=text[s:e],
                            start=s,
                            end=e,
                            logprob=float(token_lp[j]),
                            top_text=self.tokenizer.decode([int(top_ids[j])]),
                            top_logprob=float(top_lp[j]),
                        )
                    )
        return scores


def _cache_keyword(model: Any) -> str:
    """transformers 5 renamed ``past_key_values`` to ``cache``; use whichever this one takes."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def load_engine(
    model: str = "builtin:tiny",
    adapter: str | None = None,
    quantize: str = "none",
    device: str = "auto",
    fim_format: str | None = None,
) -> TransformersEngine:
    """Load ``model`` (with ``adapter`` on top) and return an engine that serves it."""
    return TransformersEngine(load_model(model, quantize, device, fim_format, adapter))
