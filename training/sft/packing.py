"""Tokenize prompt/completion examples and pack them into rows for training.

Every example becomes ``input_ids`` with ``labels`` that are ``-100`` on the
prompt, so the loss goes on the completion only. Rows hold several whole
examples (best-fit decreasing bin packing); the collator restarts
``position_ids`` at each example so that attention never crosses from one
example into the next (see :mod:`codegen.training.sft.collator`).

Examples longer than ``seq_len``: a FIM prompt gives up the far ends of its
prefix and suffix (as the server does when a file exceeds the context), keeping
up to half the row for the middle; any other prompt is kept whole and the
completion loses its end. An example whose completion would be cut away
entirely cannot teach anything and is *counted* in :class:`PackingStats`,
never dropped silently.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codegen.core.errors import FimFormatError
from codegen.core.fim import FimFormat

IGNORE_INDEX = -100


@dataclass
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]


@dataclass
class PackingStats:
    """What happened to the examples on their way into training rows."""

    examples: int = 0
    kept: int = 0
    truncated: int = 0
    """Kept, but the end of the completion (and its end-of-text token) was cut off."""
    context_trimmed: int = 0
    """FIM examples whose prefix and suffix were shortened to fit ``seq_len``."""
    dropped_completion_truncated: int = 0
    """The prompt alone filled ``seq_len``: nothing of the completion was left to learn."""
    dropped_empty_completion: int = 0
    rows: int = 0
    tokens: int = 0
    label_tokens: int = 0
    by_task: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.dropped_completion_truncated + self.dropped_empty_completion

    def fill(self, seq_len: int) -> float:
        """Share of row capacity that holds real tokens (1.0 = no padding at all)."""
        return self.tokens / max(1, self.rows * seq_len)

    def as_dict(self, seq_len: int) -> dict[str, Any]:
        out = asdict(self)
        out["dropped"] = self.dropped
        out["fill"] = round(self.fill(seq_len), 4)
        return out

    def _count(self, task: str, key: str) -> None:
        per_task = self.by_task.setdefault(task, {})
        per_task[key] = per_task.get(key, 0) + 1


def build_example(
    prompt_ids: Sequence[int], completion_ids: Sequence[int], seq_len: int
) -> tuple[TokenizedExample | None, str]:
    """Join prompt and completion tokens, labels on the completion only.

    Returns the example (or ``None``) and what happened: ``"kept"``,
    ``"truncated"``, ``"dropped_completion_truncated"`` or ``"dropped_empty_completion"``.
    """
    if not completion_ids:
        return None, "dropped_empty_completion"
    room = seq_len - len(prompt_ids)
    if room <= 0:
        return None, "dropped_completion_truncated"
    kept = list(completion_ids[:room])
    ids = list(prompt_ids) + kept
    labels = [IGNORE_INDEX] * len(prompt_ids) + kept
    if len(ids) < 2:  # one token alone predicts nothing (labels shift by one)
        return None, "dropped_completion_truncated"
    outcome = "truncated" if len(kept) < len(completion_ids) else "kept"
    return TokenizedExample(ids, labels), outcome


def trim_fim_prompt(
    tokenizer: Any, fmt: FimFormat, prompt: str, budget: int
) -> tuple[str, list[int]] | None:
    """``prompt`` (text and token ids) with its prefix start and suffix end cut so that it
    fits in ``budget`` tokens; None if it is not a FIM prompt of ``fmt`` or cannot fit."""
    try:
        prefix, suffix, order = fmt.parse_prompt(prompt)
    except FimFormatError:
        return None
    ids = tokenizer.encode(prompt)
    for _ in range(8):
        if len(ids) <= budget:
            return prompt, list(ids)
        keep = budget / len(ids) * 0.95
        prefix = prefix[len(prefix) - int(len(prefix) * keep) :]
        suffix = suffix[: int(len(suffix) * keep)]
        prompt = fmt.build_prompt(prefix, suffix, order)
        ids = tokenizer.encode(prompt)
    return (prompt, list(ids)) if len(ids) <= budget else None


def tokenize_examples(
    tokenizer: Any,
    rows: Iterable[dict[str, str]],
    seq_len: int,
    stats: PackingStats,
    fim: FimFormat | None = None,
) -> list[TokenizedExample]:
    """Tokenize ``rows`` (``prompt``, ``completion``, ``task``) and update ``stats``.

    The prompt is encoded exactly as the serving engine encodes a prompt
    (``tokenizer.encode(text)``), and the completion separately without special
    tokens, so the label boundary is exact and training matches serving.
    """
    out: list[TokenizedExample] = []
    for row in rows:
        prompt_ids = tokenizer.encode(row["prompt"]) if row["prompt"] else []
        completion_ids = tokenizer.encode(row["completion"], add_special_tokens=False)
        if not row["prompt"]:
            # LM rows: keep a leading BOS when the model's tokenizer adds one.
            with_special = tokenizer.encode(row["completion"])
            if len(with_special) > len(completion_ids) and with_special[1:] == completion_ids:
                prompt_ids = with_special[:1]
        overflow = len(prompt_ids) + len(completion_ids) > seq_len
        if overflow and fim is not None and row.get("task") == "fim":
            budget = seq_len - min(len(completion_ids), seq_len // 2)
            trimmed = trim_fim_prompt(tokenizer, fim, row["prompt"], budget)
            if trimmed is not None and len(trimmed[1]) < len(prompt_ids):
                prompt_ids = trimmed[1]
                stats.context_trimmed += 1
        example, outcome = build_example(prompt_ids, completion_ids, seq_len)
        stats.examples += 1
        setattr(stats, outcome, getattr(stats, outcome) + 1)
        if outcome == "truncated":
            stats.kept += 1
        stats._count(row.get("task", "?"), outcome)
        if example is not None:
            out.append(example)
    return out


def pack_lengths(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Group item indices into bins of total length at most ``capacity`` (best fit, longest first).

    Deterministic: ties keep the input order. Items longer than ``capacity``
    get a bin of their own.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    # (remaining space, bin index), kept sorted to find the tightest bin with room.
    free: list[tuple[int, int]] = []
    for i in order:
        need = lengths[i]
        pos = bisect.bisect_left(free, (need, -1))
        if pos < len(free):
            room, b = free.pop(pos)
            bins[b].append(i)
            bisect.insort(free, (room - need, b))
        else:
            bins.append([i])
            bisect.insort(free, (capacity - need, len(bins) - 1))
    return bins


def pack_examples(
    examples: Sequence[TokenizedExample], seq_len: int, pack: bool = True
) -> list[dict[str, list[int]]]:
    """Rows of ``input_ids``, ``labels`` and ``lengths`` (the example lengths in the row).

    With ``pack=False`` every example is a row of its own (the padded-batch baseline).
    """
    groups = (
        pack_lengths([len(e.input_ids) for e in examples], seq_len)
        if pack
        else [[i] for i in range(len(examples))]
    )
    rows = []
    for group in groups:
        ids: list[int] = []
        labels: list[int] = []
        for i in group:
            ids += examples[i].input_ids
            labels += examples[i].labels
        rows.append(
            {
                "input_ids": ids,
                "labels": labels,
                "lengths": [len(examples[i].input_ids) for i in group],
            }
        )
    return rows


def update_row_stats(stats: PackingStats, rows: Sequence[dict[str, list[int]]]) -> None:
    stats.rows += len(rows)
    for row in rows:
        stats.tokens += len(row["input_ids"])
        stats.label_tokens += sum(1 for t in row["labels"] if t != IGNORE_INDEX)
