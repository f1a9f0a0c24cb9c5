"""The answers from memory: LRU cache, typed-ahead reuse, adaptive debounce."""

from __future__ import annotations

from codegen.server.completion.cache import (
    CachedSuggestion,
    CompletionCache,
    TypedAhead,
    cache_key,
)
from codegen.server.completion.debounce import AdaptiveDebounce


def test_lru_evicts_least_recently_used():
    cache = CompletionCache(size=2)
    a, b, c = (cache_key(p, "", "m", "single") for p in "abc")
    cache.put(a, CachedSuggestion("1", 0))
    cache.put(b, CachedSuggestion("2", 0))
    assert cache.get(a) is not None  # a is now the most recent
    cache.put(c, CachedSuggestion("3", 0))
    assert cache.get(b) is None
    assert cache.get(a).text == "1"
    assert cache_key("x", "", "m", "single") != cache_key("x", "", "other-model", "single")
    assert cache_key("x", "", "m", "single") != cache_key("x", "", "m", "multi")
    assert cache_key("x", "", "m", "single") != cache_key("x", "", "m", "single", elsewhere="b")
    assert cache_key("x", "", "m", "multi") != cache_key("x", "", "m", "multi", docstring=True)


def test_typed_ahead_answers_the_remainder():
    memory = TypedAhead()
    memory.remember("u", "def f(x):\n    ", "\n", "return x + 1", 0, "m")
    assert memory.lookup("u", "def f(x):\n    ret", "\n", "m").text == "urn x + 1"
    assert memory.lookup("u", "def f(x):\n    return x", "\n", "m").text == " + 1"
    # a character that does not match the suggestion
    assert memory.lookup("u", "def f(x):\n    rex", "\n", "m") is None
    # the code after the cursor changed, or another model
    assert memory.lookup("u", "def f(x):\n    ret", "\nz", "m") is None
    assert memory.lookup("u", "def f(x):\n    ret", "\n", "other") is None
    # nothing typed yet: the cache answers (it compares the whole prompt)
    assert memory.lookup("u", "def f(x):\n    ", "\n", "m") is None
    # everything typed: nothing left to suggest
    assert memory.lookup("u", "def f(x):\n    return x + 1", "\n", "m") is None


def test_typed_ahead_with_long_prefixes_compares_tails():
    memory = TypedAhead()
    long_prefix = "x" * 5000 + "\n"
    memory.remember("u", long_prefix, "", "abc", 1, "m")
    found = memory.lookup("u", long_prefix + "a", "", "m")
    assert found == CachedSuggestion("bc", 1)


def test_debounce_waits_longer_than_the_typing_gap():
    d = AdaptiveDebounce(base_ms=40)
    assert d.delay_ms() == 40
    for i in range(10):
        d.observe("u", i * 80.0)
    assert 80 < d.delay_ms() <= 300
    d.observe("u", 10_000.0)  # a pause is not typing
    assert 80 < d.delay_ms() <= 300
    assert AdaptiveDebounce(base_ms=40, adaptive=False).delay_ms() == 40
