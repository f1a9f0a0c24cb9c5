"""The one generation interface the server, training and eval talk to.

Two implementations: :class:`codegen.core.transformers_engine.TransformersEngine`
(a real model) and :class:`FakeEngine` (deterministic, for protocol tests).
This module imports no torch, so it is cheap to import everywhere.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Protocol, runtime_checkable

from .errors import ConfigError
from .fim import TINY, FimFormat

StopFn = Callable[[str], "int | None"]
"""Called with the text generated so far; returns the index to cut it at to stop, or None.

Any index stops generation: ``len(text)`` stops and keeps all of the text."""


class CancelToken:
    """A flag the engine checks before every decoding step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class GenerationConfig:
    max_new_tokens: int = 64
    temperature: float = 0.0
    """0 means greedy."""
    top_p: float = 1.0
    stop: Sequence[str] = ()
    """Generation ends at the first occurrence of any of these; the text is cut before it."""
    stop_fn: StopFn | None = None
    seed: int | None = None
    use_cache_reuse: bool = True
    """Reuse the key/value cache of the previous call's longest common token prefix."""


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0
    """Prompt tokens whose keys/values came from the previous call."""
    new_tokens: int = 0
    time_to_first_token_ms: float = 0.0
    total_ms: float = 0.0


@dataclass
class GenerationResult:
    text: str
    finish_reason: str
    """One of ``stop`` (stop string or callable), ``eos``, ``length``, ``cancelled``."""
    stats: GenerationStats = field(default_factory=GenerationStats)
    logprobs: list[float] = field(default_factory=list)
    """log p (at temperature 1) of each generated token, where the engine knows them (the
    in-process one always; a server when asked and able)."""
    first_margin: float | None = None
    """How much more likely (nats) the first token's favourite was than the runner-up."""


@dataclass
class TokenScore:
    text: str
    """The token's decoded text."""
    start: int
    """Character offset of the token in the scored text."""
    end: int
    logprob: float
    """log p(token | everything before it)."""
    top_text: str
    """The token the model preferred most at this position."""
    top_logprob: float


@runtime_checkable
class Engine(Protocol):
    """Generate text and score tokens with one loaded model."""

    fim: FimFormat
    name: str

    def generate(
        self, prompt: str, config: GenerationConfig, cancel: CancelToken | None = None
    ) -> GenerationResult: ...

    def generate_batch(
        self,
        prompts: Sequence[str],
        configs: Sequence[GenerationConfig],
        cancel: CancelToken | None = None,
    ) -> list[GenerationResult]:
        """Generate many rows at once: one result per prompt, in order.

        Row ``i`` obeys ``configs[i]`` alone (its max_new_tokens, stop strings and
        stop_fn, temperature/top_p and seed; EOS ends it) and comes out as ``generate``
        would give it: greedy rows are the same text, and a sampled row depends only
        on its prompt and seed, never on the other rows. ``n`` samples of one prompt are
        that prompt repeated with seeds ``seed, seed + 1, ...``. ``cancel`` stops every
        unfinished row (finish reason ``cancelled``, empty text); rows that finished
        before keep their results. It never touches the keystroke path's reused cache.
        """
        ...

    def score(self, text: str) -> list[TokenScore]:
        """Log-probability of every token of ``text`` (the first token is scored from BOS or
        omitted), in one forward pass."""
        ...

    def count_tokens(self, text: str) -> int: ...


def apply_stop_rules(text: str, config: GenerationConfig) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string or where ``stop_fn`` says; ``(text, stopped)``."""
    cut = len(text)
    for stop in config.stop:
        if stop:
            idx = text.find(stop)
            if idx != -1:
                cut = min(cut, idx)
    stopped_by_fn = False
    if config.stop_fn is not None:
        stop_at = config.stop_fn(text[:cut])
        if stop_at is not None:
            cut = min(cut, max(0, stop_at))
            stopped_by_fn = True
    return text[:cut], stopped_by_fn or cut < len(text)


def check_batch(prompts: Sequence[str], configs: Sequence[GenerationConfig]) -> None:
    """Raise :class:`~codegen.core.errors.ConfigError` unless there is one config per prompt."""
    if len(prompts) != len(configs):
        raise ConfigError(
            f"generate_batch got {len(prompts)} prompts but {len(configs)} configs; "
            "pass one config per prompt"
        )


def generate_each(
    engine: Engine,
    prompts: Sequence[str],
    configs: Sequence[GenerationConfig],
    cancel: CancelToken | None = None,
) -> list[GenerationResult]:
    """``generate_batch`` for an engine that can only generate one row at a time: each row
    through ``engine.generate``, in order; once cancelled, the remaining rows are too."""
    check_batch(prompts, configs)
    results: list[GenerationResult] = []
    for prompt, config in zip(prompts, configs, strict=True):
        if cancel is not None and cancel.cancelled:
            results.append(GenerationResult("", "cancelled", GenerationStats()))
        else:
            results.append(engine.generate(prompt, config, cancel))
    return results


def generate_rows(
    engine: Engine,
    prompts: Sequence[str],
    configs: Sequence[GenerationConfig],
    cancel: CancelToken | None = None,
    *,
    batch_size: int | None = None,
    on_result: Callable[[int, GenerationResult], None] | None = None,
) -> list[GenerationResult]:
    """Generate many rows with any engine, ``batch_size`` rows at a time, calling
    ``on_result(i, result)`` for each row as soon as the engine hands it over.

    An engine whose ``generate_batch`` takes ``batch_size`` and ``on_result`` keywords
    (the in-process one: continuous batching) gets every row in one call and reports
    each as it finishes; any other gets chunks of ``batch_size`` rows, reported per
    chunk; an engine without ``generate_batch`` goes row by row (:func:`generate_each`).
    """
    check_batch(prompts, configs)
    batch = getattr(engine, "generate_batch", None)
    if not callable(batch):
        return _in_chunks(partial(generate_each, engine), prompts, configs, cancel, 1, on_result)
    if _takes_keywords(batch, "batch_size", "on_result"):
        return list(batch(prompts, configs, cancel, batch_size=batch_size, on_result=on_result))
    return _in_chunks(batch, prompts, configs, cancel, batch_size, on_result)


def _in_chunks(
    batch: Callable[..., Sequence[GenerationResult]],
    prompts: Sequence[str],
    configs: Sequence[GenerationConfig],
    cancel: CancelToken | None,
    size: int | None,
    on_result: Callable[[int, GenerationResult], None] | None,
) -> list[GenerationResult]:
    step = size or max(1, len(prompts))
    results: list[GenerationResult] = []
    for start in range(0, len(prompts), step):
        part = list(batch(prompts[start : start + step], configs[start : start + step], cancel))
        if on_result is not None:
            for i, result in enumerate(part, start):
                on_result(i, result)
        results += part
    return results


def _takes_keywords(fn: Callable[..., object], *names: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return all(name in params for name in names)


def sample_configs(config: GenerationConfig, n: int) -> list[GenerationConfig]:
    """``n`` copies of ``config`` for ``n`` samples of one prompt, with seeds ``seed + i``
    (``seed`` None counts as 0)."""
    base = config.seed if config.seed is not None else 0
    return [replace(config, seed=base + i) for i in range(n)]


class FakeEngine:
    """A deterministic engine for protocol tests: no model, predictable answers.

    By default it "completes" by returning ``reply`` (or, when ``reply`` is None,
    a line derived from the prompt's last prefix line). ``delay_per_token_s``
    simulates decoding time so that cancellation and supersession can be tested;
    ``calls`` counts full generations.
    """

    def __init__(
        self,
        reply: str | None = "return 42\n",
        fim: FimFormat = TINY,
        delay_per_token_s: float = 0.0,
        tokens_per_reply: int = 8,
    ) -> None:
        self.fim = fim
        self.name = "fake"
        self.reply = reply
        self.delay_per_token_s = delay_per_token_s
        self.tokens_per_reply = tokens_per_reply
        self.calls = 0
        self.cancelled_calls = 0
        self.batches = 0
        self._lock = threading.Lock()

    def generate(
        self, prompt: str, config: GenerationConfig, cancel: CancelToken | None = None
    ) -> GenerationResult:
        start = time.perf_counter()
        with self._lock:
            self.calls += 1
        reply = self.reply if self.reply is not None else "pass\n"
        steps = min(config.max_new_tokens, self.tokens_per_reply)
        text, stopped = "", False
        for step in range(steps):
            if cancel is not None and cancel.cancelled:
                with self._lock:
                    self.cancelled_calls += 1
                ms = (time.perf_counter() - start) * 1000
                return GenerationResult("", "cancelled", GenerationStats(total_ms=ms))
            if self.delay_per_token_s:
                time.sleep(self.delay_per_token_s)
            # The reply comes out in ``steps`` even pieces, stop rules checked after each
            # (as a real engine checks them after every token).
            shown = reply[: -(-len(reply) * (step + 1) // steps)]
            text, stopped = apply_stop_rules(shown, config)
            if stopped:
                break
        if steps and not stopped:
            text, stopped = apply_stop_rules(reply, config)
        ms = (time.perf_counter() - start) * 1000
        stats = GenerationStats(
            prompt_tokens=self.count_tokens(prompt),
            new_tokens=steps,
            time_to_first_token_ms=ms / max(steps, 1),
            total_ms=ms,
        )
        return GenerationResult(text, "stop" if stopped else "length", stats)

    def generate_batch(
        self,
        prompts: Sequence[str],
        configs: Sequence[GenerationConfig],
        cancel: CancelToken | None = None,
    ) -> list[GenerationResult]:
        """Row by row through :meth:`generate` (so ``calls`` counts rows); ``batches``
        counts calls of this method."""
        with self._lock:
            self.batches += 1
        return generate_each(self, prompts, configs, cancel)

    def score(self, text: str) -> list[TokenScore]:
        scores: list[TokenScore] = []
        pos = 0
        for word in text.split(" "):
            scores.append(TokenScore(word, pos, pos + len(word), -1.0, word, -1.0))
            pos += len(word) + 1
        return scores

    def count_tokens(self, text: str) -> int:
        return (len(text) + 3) // 4
