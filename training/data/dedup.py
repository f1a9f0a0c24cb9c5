"""Exact and near-duplicate detection (MinHash over token shingles + LSH).

Documents are offered in a fixed order; the first of each cluster is kept and
later members are reported as duplicates *of it*, so results are deterministic
and a cluster is never split between train and eval.
"""

from __future__ import annotations

import hashlib
import re

from datasketch import MinHash, MinHashLSH

_TOKEN = re.compile(r"\w+|[^\w\s]")


def code_tokens(text: str) -> list[str]:
    """Identifiers, numbers and single punctuation characters; whitespace dropped."""
    return _TOKEN.findall(text)


def exact_key(text: str) -> str:
    """A hash that ignores trailing whitespace, so re-saved copies count as exact duplicates."""
    normalised = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    return hashlib.sha256(normalised.encode("utf-8", errors="surrogatepass")).hexdigest()


def shingles(tokens: list[str], size: int) -> set[bytes]:
    """Distinct ``size``-token windows (one shingle for shorter texts)."""
    if len(tokens) <= size:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


class DuplicateIndex:
    """Remembers kept documents; :meth:`check` says whether a new one duplicates one of them."""

    def __init__(
        self, threshold: float = 0.7, num_perm: int = 256, shingle_size: int = 5, seed: int = 1
    ) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.seed = seed
        self._exact: dict[str, str] = {}
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._hashes: dict[str, MinHash] = {}
        self._order: dict[str, int] = {}

    def minhash(self, text: str) -> MinHash:
        mh = MinHash(num_perm=self.num_perm, seed=self.seed)
        mh.update_batch(sorted(shingles(code_tokens(text), self.shingle_size)))
        return mh

    def check(self, key: str, text: str) -> tuple[str, str] | None:
        """``("exact"|"near", kept key)`` for a duplicate; otherwise keep ``key`` and return None."""
        digest = exact_key(text)
        if digest in self._exact:
            return "exact", self._exact[digest]
        mh = self.minhash(text)
        candidates = [
            other
            for other in self._lsh.query(mh)
            if self._hashes[other].jaccard(mh) >= self.threshold
        ]
        if candidates:
            return "near", min(candidates, key=self._order.__getitem__)
        self._exact[digest] = key
        self._lsh.insert(key, mh)
        self._hashes[key] = mh
        self._order[key] = len(self._order)
        return None
