"""Read the output of ``codegen-train data`` for fine-tuning.

``DIR/dataset`` is a ``datasets.DatasetDict`` with ``train`` and ``eval`` splits
whose rows have ``task``, ``prompt`` and ``completion``; ``DIR/manifest.jsonl``
identifies the input files (its hash goes into the adapter's ``codegen.json``);
``DIR/stats.json`` records the FIM format the prompts were built with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.core.errors import CodegenError

REQUIRED_COLUMNS = ("task", "prompt", "completion")


class DataError(CodegenError):
    """The training data directory is missing or malformed."""


@dataclass
class SftData:
    train: Any
    eval: Any
    manifest_sha256: str | None
    fim_format: str | None
    path: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_fim_format(data_dir: Path) -> str | None:
    stats = data_dir / "stats.json"
    if not stats.is_file():
        return None
    try:
        config = json.loads(stats.read_text()).get("config", {})
    except ValueError:
        raise DataError(
            f"{stats}: not valid JSON; rebuild the data with codegen-train data"
        ) from None
    value = config.get("fim_format") if isinstance(config, dict) else None
    return str(value) if value else None


def load_sft_data(data_dir: str) -> SftData:
    """Load and validate a ``codegen-train data`` output directory."""
    root = Path(data_dir).expanduser()
    hint = "create it with: codegen-train data --source PATH --out " + str(data_dir)
    if not root.is_dir():
        raise DataError(f"--data {data_dir}: no such directory; {hint}")
    target = root / "dataset"
    if not (target / "dataset_dict.json").is_file():
        raise DataError(
            f"--data {data_dir}: no dataset/ written by codegen-train data in it; {hint}"
        )
    import datasets

    try:
        dataset = datasets.load_from_disk(str(target))
    except (OSError, ValueError) as err:
        raise DataError(f"--data {data_dir}: unreadable dataset ({err}); {hint}") from None
    for split in ("train", "eval"):
        if split not in dataset:
            raise DataError(f"--data {data_dir}: the dataset has no {split!r} split; {hint}")
        missing = [c for c in REQUIRED_COLUMNS if c not in dataset[split].column_names]
        if missing:
            raise DataError(f"--data {data_dir}: {split} rows lack {', '.join(missing)}; {hint}")
    if len(dataset["train"]) == 0:
        raise DataError(f"--data {data_dir}: the train split is empty; add sources to the data")
    manifest = root / "manifest.jsonl"
    return SftData(
        train=dataset["train"],
        eval=dataset["eval"],
        manifest_sha256=file_sha256(manifest) if manifest.is_file() else None,
        fim_format=_data_fim_format(root),
        path=str(root.resolve()),
    )
