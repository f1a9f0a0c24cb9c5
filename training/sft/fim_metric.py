"""FIM exact match: greedy-generate the middle of held-out FIM prompts and compare.

A generated middle counts as exact by :func:`codegen.core.fim.middle_matches`:
equal to the expected middle once surrounding whitespace is stripped, comparing
only the first generated line when the expected middle is one line. Generation
stops at the end-of-text token or any FIM sentinel, and after a few more tokens
than the expected middle has (a longer answer cannot match) or as soon as the
verdict cannot change any more, which keeps the metric cheap enough to run at
every evaluation. The cases are generated in batches through the core engine's
``generate_batch`` (the same decoding ``codegen-eval`` uses), greedy, so a case's
middle does not depend on the batch it ran in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codegen.core.engine import GenerationConfig
from codegen.core.fim import FimFormat, first_line_only, middle_matches

SLACK_TOKENS = 8
BATCH_SIZE = 8
"""Held-out cases generated together (bounded by the engine's token budget too)."""


@dataclass(frozen=True)
class FimCase:
    prompt: str
    middle: str


def fim_cases(rows: Sequence[dict[str, str]], fmt: FimFormat, limit: int) -> list[FimCase]:
    """The first ``limit`` FIM rows as (prompt, expected middle) pairs."""
    cases = []
    for row in rows:
        if row.get("task") != "fim":
            continue
        cases.append(FimCase(row["prompt"], fmt.middle_of(row["completion"])))
        if len(cases) >= limit:
            break
    return cases


def fit_cases(
    cases: Sequence[FimCase], tokenizer: Any, fmt: FimFormat, seq_len: int
) -> list[FimCase]:
    """Cases whose prompts are trimmed like training rows, so prompt + middle fit ``seq_len``."""
    from .packing import trim_fim_prompt

    fitted = []
    for case in cases:
        middle_len = len(tokenizer.encode(case.middle, add_special_tokens=False))
        budget = seq_len - min(middle_len + SLACK_TOKENS, seq_len // 2)
        trimmed = trim_fim_prompt(tokenizer, fmt, case.prompt, budget)
        fitted.append(FimCase(trimmed[0], case.middle) if trimmed else case)
    return fitted


def verdict_open(generated: str, expected: str) -> bool:
    """Whether generating more text could still change whether ``generated`` matches
    ``expected`` (:func:`~codegen.core.fim.middle_matches`); False = stop now."""
    text = generated.lstrip().rstrip("\ufffd")  # an incomplete UTF-8 sequence decodes to U+FFFD
    target = expected.strip()
    if first_line_only(expected) and "\n" in text:
        return False  # only the first line is scored, and it is complete
    if target.startswith(text):
        return True
    return text.startswith(target) and not text[len(target) :].strip()


def divergence_stop(expected: str) -> Callable[[str], int | None]:
    """A generation ``stop_fn``: stop (keeping the text) once it can no longer match
    ``expected`` either way."""

    def stop(text: str) -> int | None:
        return None if verdict_open(text, expected) else len(text)

    return stop


def metric_engine(model: Any, tokenizer: Any, fmt: FimFormat, max_len: int) -> Any:
    """The model being trained as a core engine, so the metric decodes like ``codegen-eval``
    (batched, KV cache, EOS and single-token FIM sentinels end a middle). Its current
    adapter stays active; prompts are cut to ``max_len`` tokens with the new ones."""
    from codegen.core.model import LoadedModel
    from codegen.core.transformers_engine import TransformersEngine

    adapter = str(getattr(model, "active_adapter", None) or "training")
    loaded = LoadedModel(
        model, tokenizer, fmt, "training", "", str(_device(model)), "none", "",
        active_adapter=adapter,
    )  # fmt: skip
    engine = TransformersEngine(loaded, batch_size=BATCH_SIZE)
    engine.max_positions = max_len
    return engine


def fim_exact_match(
    model: Any, tokenizer: Any, cases: Sequence[FimCase], fmt: FimFormat, max_len: int = 4096
) -> float:
    """Share of ``cases`` whose greedy middle matches exactly (0.0 when there are none).

    Every case is one row of a batched greedy generation: up to the first stop token,
    a few tokens past the expected middle's length, or the first token that makes an
    exact match impossible."""
    if not cases:
        return 0.0
    engine = metric_engine(model, tokenizer, fmt, max_len)
    configs = [
        GenerationConfig(
            max_new_tokens=len(tokenizer.encode(case.middle, add_special_tokens=False))
            + SLACK_TOKENS,
            stop_fn=divergence_stop(case.middle),
            use_cache_reuse=False,
        )
        for case in cases
    ]
    was_training = model.training
    model.eval()
    try:
        results = engine.generate_batch([case.prompt for case in cases], configs)
    finally:
        model.train(was_training)
    hits = sum(middle_matches(r.text, case.middle) for r, case in zip(results, cases, strict=True))
    return hits / len(cases)


def _device(model: Any) -> Any:
    device = getattr(model, "device", None)
    return device if device is not None else next(model.parameters()).device
