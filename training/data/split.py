"""Train/eval assignment by file: a stable hash of the file's key, not its position."""

from __future__ import annotations

import hashlib

Split = str  # "train" | "eval"


def split_score(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by ``key`` and ``seed``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode("utf-8", errors="surrogatepass")).hexdigest()
    return int(digest[:13], 16) / 16**13


def assign_splits(keys: list[str], eval_fraction: float, seed: int) -> dict[str, Split]:
    """``key -> "train"|"eval"``; at least one eval file when ``eval_fraction > 0`` and there are two files.

    The hash keeps a file in the same split when other files are added or removed.
    """
    splits = {key: "eval" if split_score(key, seed) < eval_fraction else "train" for key in keys}
    if eval_fraction > 0 and len(keys) >= 2 and "eval" not in splits.values():
        splits[min(keys, key=lambda k: split_score(k, seed))] = "eval"
    if len(keys) >= 2 and "train" not in splits.values():
        splits[max(keys, key=lambda k: split_score(k, seed))] = "train"
    return splits
