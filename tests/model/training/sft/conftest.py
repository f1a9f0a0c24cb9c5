"""Fixtures for the sft tests: a small ``codegen-train data``-shaped dataset and fast settings."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from codegen.core.fim import get_fim_format

_NAMES = ("ledger", "folio", "slot", "entry", "quill", "stamp")


def _source_file(rng: random.Random, index: int) -> str:
    lines = [f'"""Module {index}."""', "", "from quill import qb_guard, qb_open", ""]
    for j in range(3):
        a, b = rng.sample(_NAMES, 2)
        lines += [
            f"def settle_{index}_{j}({a}, {b}):",
            f'    qb_guard({a}, "settle")',
            f"    with {a}.hold({b}) as slot:",
            f"        return slot.tally(kind={j})",
            "",
        ]
    return "\n".join(lines) + "\n"


def _fim_rows(text: str, path: str, split: str, rng: random.Random, count: int) -> list[dict]:
    fmt = get_fim_format("tiny")
    rows = []
    lines = text.splitlines(keepends=True)
    for _ in range(count):
        k = rng.randrange(3, len(lines) - 1)
        prefix, middle, suffix = "".join(lines[:k]), lines[k], "".join(lines[k + 1 :])
        order = rng.choice(("psm", "spm"))
        prompt, completion = fmt.build_training_example(prefix, middle, suffix, order)
        rows.append(_row("fim", prompt, completion, path, split))
    return rows


def _row(task: str, prompt: str, completion: str, path: str, split: str) -> dict:
    return {
        "task": task,
        "prompt": prompt,
        "completion": completion,
        "text": prompt + completion,
        "path": path,
        "language": "python",
        "split": split,
    }


def write_sft_data(out: Path, train_files: int = 6, eval_files: int = 2, seed: int = 0) -> Path:
    """A dataset laid out like ``codegen-train data`` output: FIM, docstring and LM rows."""
    import datasets

    rng = random.Random(seed)
    eot = get_fim_format("tiny").eot_token
    splits: dict[str, list[dict]] = {"train": [], "eval": []}
    manifest = []
    for i in range(train_files + eval_files):
        split = "train" if i < train_files else "eval"
        path = f"pkg/mod{i}.py"
        text = _source_file(rng, i)
        splits[split] += _fim_rows(text, path, split, rng, 3)
        splits[split].append(_row("lm", "", text[:200] + eot, path, split))
        splits[split].append(
            _row("docstring", f"def settle_{i}(folio):\n", '    """Settle."""\n' + eot, path, split)
        )
        manifest.append({"path": path, "accepted": True, "reason": "", "split": split})
    out.mkdir(parents=True, exist_ok=True)
    datasets.DatasetDict(
        {k: datasets.Dataset.from_list(v) for k, v in splits.items()}
    ).save_to_disk(str(out / "dataset"))
    (out / "stats.json").write_text(json.dumps({"config": {"fim_format": "tiny"}}))
    with (out / "manifest.jsonl").open("w") as handle:
        for row in manifest:
            handle.write(json.dumps(row) + "\n")
    return out


@pytest.fixture(scope="session")
def sft_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sft_data(tmp_path_factory.mktemp("sft-data"))


def fast_config(base: Path, data: Path, out: Path, **overrides: object):
    """An :class:`SftConfig` small enough for a few seconds of CPU."""
    from codegen.training.sft.config import SftConfig

    settings: dict = {
        "max_steps": 4,
        "eval_every": 2,
        "seq_len": 160,
        "batch_size": 2,
        "lr": 5e-3,
        "lora_r": 4,
        "lora_alpha": 8,
        "fim_eval_examples": 2,
        "eval_examples": 8,
        "device": "cpu",
        "progress": False,
    }
    settings.update(overrides)
    return SftConfig(base=str(base), data=str(data), out=str(out), **settings)


@pytest.fixture
def fast_sft_config():
    return fast_config
