"""Snippets from other open documents that resemble the code around the cursor.

Each document is cut into overlapping windows of lines; a window's score is
the Jaccard similarity of its identifier set with the cursor's neighbourhood.
Identifier sets are cached per document version, so a keystroke costs one
set intersection per window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass(frozen=True)
class Snippet:
    path: str
    start_line: int
    text: str
    score: float


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENT.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


class SnippetIndex:
    """Identifier sets of every window of the open documents, by (uri, version)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[object, list[tuple[int, frozenset[str]]]]] = {}

    def windows(
        self, uri: str, version: object, lines: Sequence[str], size: int
    ) -> list[tuple[int, frozenset[str]]]:
        cached = self._windows.get(uri)
        if cached is not None and cached[0] == (version, size):
            return cached[1]
        step = max(1, size // 2)
        found = [
            (start, identifiers("".join(lines[start : start + size])))
            for start in range(0, max(1, len(lines) - step), step)
        ]
        self._windows[uri] = ((version, size), found)
        return found

    def forget(self, uri: str) -> None:
        self._windows.pop(uri, None)

    def retain(self, uris: set[str]) -> None:
        """Forget the documents not in ``uris`` (closed since)."""
        for uri in [u for u in self._windows if u not in uris]:
            del self._windows[uri]


@dataclass(frozen=True)
class OpenDocument:
    uri: str
    path: str
    version: object
    lines: Sequence[str]


def find_snippets(
    index: SnippetIndex,
    query: str,
    documents: Sequence[OpenDocument],
    count_tokens: Callable[[str], int],
    max_tokens: int = 400,
    window_lines: int = 16,
    min_similarity: float = 0.2,
) -> list[Snippet]:
    """The best-matching windows of ``documents`` for ``query``, within ``max_tokens``."""
    wanted = identifiers(query)
    if not wanted or max_tokens <= 0:
        return []
    scored: list[tuple[float, OpenDocument, int]] = []
    for doc in documents:
        for start, idents in index.windows(doc.uri, doc.version, doc.lines, window_lines):
            score = jaccard(wanted, idents)
            if score >= min_similarity:
                scored.append((score, doc, start))
    scored.sort(key=lambda item: -item[0])
    chosen: list[Snippet] = []
    used = 0
    for score, doc, start in scored:
        if any(s.path == doc.path and abs(s.start_line - start) < window_lines for s in chosen):
            continue
        text = "".join(doc.lines[start : start + window_lines]).rstrip()
        cost = count_tokens(text) + 8
        if used + cost > max_tokens:
            continue
        chosen.append(Snippet(doc.path, start, text, score))
        used += cost
    return chosen
