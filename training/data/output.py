"""Writing the results of `codegen-train data`: dataset, stats, manifest, gate rows and
next-edit cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from codegen.core.errors import CodegenError

COLUMNS: tuple[str, ...] = ("task", "prompt", "completion", "text", "path", "language", "split")


class OutputError(CodegenError):
    """The output directory cannot be used."""


def _dataset(rows: list[dict[str, str]], name: str) -> Any:
    import datasets
    import pyarrow as pa
    from datasets.table import InMemoryTable

    features = datasets.Features({c: datasets.Value("string") for c in COLUMNS})
    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS})
    info = datasets.DatasetInfo(features=features)
    # A fingerprint from the content (instead of a random one) keeps repeated runs byte-identical.
    return datasets.Dataset(InMemoryTable(table), info=info, fingerprint=name)


def _content_fingerprint(rows: list[dict[str, str]], split: str) -> str:
    import hashlib

    digest = hashlib.sha256(split.encode())
    for row in rows:
        digest.update(
            json.dumps(row, sort_keys=True, ensure_ascii=False).encode(
                "utf-8", errors="surrogatepass"
            )
        )
    return digest.hexdigest()[:16]


def write_outputs(
    out: Path,
    rows: dict[str, list[dict[str, str]]],
    manifest: list[dict[str, Any]],
    stats: dict[str, Any],
    gate_rows: list[dict[str, Any]] | None = None,
    progress: bool = True,
    next_edit_cases: list[dict[str, Any]] | None = None,
) -> None:
    """Write ``out/dataset`` (a DatasetDict with train/eval), ``stats.json`` and
    ``manifest.jsonl``, ``gate.jsonl`` when given rows for it and ``next_edit.jsonl``
    when given next-edit cases (a stale one from an earlier run is removed otherwise)."""
    import datasets

    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; pass a directory")
    out.mkdir(parents=True, exist_ok=True)
    target = out / "dataset"
    if target.exists():
        if not (target / "dataset_dict.json").is_file():
            raise OutputError(
                f"{target} exists and is not a dataset written by codegen-train; move it away"
            )
        shutil.rmtree(target)
    splits = {
        split: _dataset(split_rows, _content_fingerprint(split_rows, split))
        for split, split_rows in rows.items()
    }
    was_enabled = datasets.is_progress_bar_enabled()
    if not progress:
        datasets.disable_progress_bars()
    try:
        # An empty split needs one (empty) shard, or it cannot be loaded back.
        empty = {split: 1 for split, split_rows in rows.items() if not split_rows}
        datasets.DatasetDict(splits).save_to_disk(str(target), num_shards=empty)
    finally:
        if was_enabled:
            datasets.enable_progress_bars()
    (out / "stats.json").write_text(
        json.dumps(stats, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    _write_jsonl(out / "manifest.jsonl", manifest)
    for name, extra in (("gate.jsonl", gate_rows), ("next_edit.jsonl", next_edit_cases)):
        if extra is not None:
            _write_jsonl(out / name, extra)
        else:
            (out / name).unlink(missing_ok=True)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
