"""Answer from memory: an LRU cache of suggestions and typed-ahead reuse.

- :class:`CompletionCache` maps (prefix tail, suffix head, model, mode, context from
  elsewhere) to the final suggestion, or to "nothing to suggest", so returning to a
  place already completed is instant. "Context from elsewhere" is a fingerprint of what
  the prompt may take from other files (their versions, the recent ranges of other
  documents), so a change there asks the model again instead of answering from stale
  memory; computing it costs microseconds, not a prompt build.
- :class:`TypedAhead` remembers the last suggestion shown per document: when
  the user types characters that match its start, the remainder is the answer
  and the model is not called.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .gating import Scores

if TYPE_CHECKING:
    from codegen.core.syntax import CompletionMode


@dataclass(frozen=True)
class CachedSuggestion:
    text: str
    cover: int
    scores: Scores = Scores()
    """The engine's log-probabilities of the text (the show/no-show gate reads them)."""
    alternatives: tuple[tuple[str, int], ...] = ()
    """Further candidates ``(text, cover)``, deduplicated."""

    @property
    def empty(self) -> bool:
        """The remembered answer is "nothing to suggest here" (post-processing dropped it)."""
        return not self.text


NOTHING = CachedSuggestion("", 0)

PREFIX_TAIL = 1500
SUFFIX_HEAD = 500
"""How much of the text around the cursor the cache and typed-ahead reuse compare."""


def cache_key(
    prefix: str,
    suffix: str,
    model_id: str,
    mode: CompletionMode,
    docstring: bool = False,
    elsewhere: str = "",
) -> tuple[str, ...]:
    """The key of the answer at a place: the text around the cursor, the model, the mode
    (it sets the token limit), whether the cursor is in a fresh docstring (its stops and
    post-processing differ) and ``elsewhere`` (:func:`context_fingerprint`)."""
    flag = "docstring" if docstring else ""
    return prefix[-PREFIX_TAIL:], suffix[:SUFFIX_HEAD], model_id, mode, flag, elsewhere


def context_fingerprint(parts: object) -> str:
    """A short digest of ``parts`` (its ``repr``): what identifies the context a prompt
    may take from other files."""
    return hashlib.blake2b(
        repr(parts).encode("utf-8", "backslashreplace"), digest_size=12
    ).hexdigest()


class CompletionCache:
    """A bounded least-recently-used map from cache keys to suggestions."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], CachedSuggestion] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> CachedSuggestion | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[str, ...], value: CachedSuggestion) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > max(0, self.size):
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Shown:
    """A suggestion as it was made: the text around the cursor then, and the answer."""

    prefix_tail: str
    suffix_head: str
    text: str
    cover: int
    model_id: str


def typed_ahead(shown: Shown, prefix: str, suffix: str, model_id: str) -> CachedSuggestion | None:
    """The rest of ``shown`` if the user has since typed a start of it, else None.

    The code after the cursor must be unchanged, at least one character typed, and
    something must remain. Back where it was shown with nothing typed, the cache answers
    instead: it also checks that the context from other files is the same.
    """
    if model_id != shown.model_id or suffix[:SUFFIX_HEAD] != shown.suffix_head:
        return None
    old = shown.prefix_tail
    for typed_len in range(1, len(shown.text)):
        typed = shown.text[:typed_len]
        if not prefix.endswith(typed):
            continue
        before = prefix[: len(prefix) - typed_len]
        n = min(len(old), len(before))
        if n and before[-n:] == old[-n:] and (n == len(old) or n == len(before)):
            rest = shown.text[typed_len:]
            return CachedSuggestion(rest, shown.cover) if rest.strip() else None
    return None


class TypedAhead:
    """The last suggestion shown for each document."""

    def __init__(self) -> None:
        self._shown: dict[str, Shown] = {}

    def remember(self, uri: str, prefix: str, suffix: str, text: str, cover: int, model_id: str):
        self._shown[uri] = Shown(prefix[-PREFIX_TAIL:], suffix[:SUFFIX_HEAD], text, cover, model_id)

    def lookup(self, uri: str, prefix: str, suffix: str, model_id: str) -> CachedSuggestion | None:
        shown = self._shown.get(uri)
        return None if shown is None else typed_ahead(shown, prefix, suffix, model_id)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)
