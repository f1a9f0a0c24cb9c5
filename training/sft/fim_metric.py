"""FIM exact match: greedy-generate the middle of held-out FIM prompts and compare.

A generated middle counts as exact by :func:`codegen.core.fim.middle_matches`:
equal to the expected middle once surrounding whitespace is stripped, comparing
only the first generated line when the expected middle is one line. Generation
stops at the end-of-text token or any FIM sentinel, and after a few more tokens
than the expected middle has (a longer answer cannot match) or as soon as the
verdict cannot change any more, which keeps the metric cheap enough to run at
every evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codegen.core.fim import FimFormat, first_line_only, middle_matches

SLACK_TOKENS = 8


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


def stop_token_ids(tokenizer: Any, fmt: FimFormat) -> list[int]:
    """Token ids that end a generated middle: EOS and every single-token FIM sentinel."""
    ids = {tokenizer.eos_token_id}
    for sentinel in fmt.sentinels:
        enc = tokenizer.encode(sentinel, add_special_tokens=False)
        if len(enc) == 1:
            ids.add(enc[0])
    return sorted(i for i in ids if i is not None)


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


class _DivergenceStop:
    """A generation stopping criterion: stop once the middle can no longer match."""

    def __init__(self, tokenizer: Any, prompt_len: int, expected: str) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.expected = expected

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        text = self.tokenizer.decode(input_ids[0, self.prompt_len :].tolist())
        done = not verdict_open(text, self.expected)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


def greedy_middle(
    model: Any,
    tokenizer: Any,
    prompt: str,
    max_new: int,
    stops: list[int],
    max_len: int,
    expected: str | None = None,
) -> str:
    """Greedy continuation of ``prompt`` up to the first stop token (or, given
    ``expected``, up to the first token that makes an exact match impossible)."""
    import torch
    from transformers import StoppingCriteriaList

    ids = tokenizer.encode(prompt)[-max(1, max_len - max_new) :]
    device = next(model.parameters()).device
    criteria = StoppingCriteriaList()
    if expected is not None:
        criteria.append(_DivergenceStop(tokenizer, len(ids), expected))
    out = model.generate(
        input_ids=torch.tensor([ids], device=device),
        attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=device),
        max_new_tokens=max_new,
        do_sample=False,
        eos_token_id=stops,
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
        stopping_criteria=criteria,
    )
    new = out[0, len(ids) :].tolist()
    for i, tok in enumerate(new):
        if tok in stops:
            new = new[:i]
            break
    return str(tokenizer.decode(new, skip_special_tokens=False))


def fim_exact_match(
    model: Any, tokenizer: Any, cases: Sequence[FimCase], fmt: FimFormat, max_len: int = 4096
) -> float:
    """Share of ``cases`` whose greedy middle matches exactly (0.0 when there are none)."""
    import torch

    if not cases:
        return 0.0
    stops = stop_token_ids(tokenizer, fmt)
    was_training = model.training
    model.eval()
    hits = 0
    try:
        with torch.inference_mode():
            for case in cases:
                budget = len(tokenizer.encode(case.middle, add_special_tokens=False))
                text = greedy_middle(
                    model,
                    tokenizer,
                    case.prompt,
                    budget + SLACK_TOKENS,
                    stops,
                    max_len,
                    expected=case.middle,
                )
                hits += middle_matches(text, case.middle)
    finally:
        model.train(was_training)
    return hits / len(cases)
