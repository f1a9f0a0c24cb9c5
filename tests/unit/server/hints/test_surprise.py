"""Surprise hints from token scores: which tokens are flagged, and with what replacement."""

from __future__ import annotations

import re

from codegen.core.engine import TokenScore
from codegen.server.hints.surprise import (
    compatible,
    find_surprise_hints,
    is_whole_token,
    line_surprise,
    surprise_scores,
    token_kind,
    z_scores,
)

TEXT = """def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value  # unchanged
"""


def scored(text: str, odd: dict[str, tuple[float, str]] | None = None) -> list[TokenScore]:
    """Every word/symbol of ``text`` as a token with log-probability -1 (top: itself),
    except the ``odd`` ones ("line:token" -> (logprob, top token))."""
    odd = odd or {}
    scores = []
    for match in re.finditer(r"\s*(\w+|[^\w\s]+)", text):
        start, end = match.span()
        line = text.count("\n", 0, match.start(1))
        key = f"{line}:{match.group(1)}"
        logprob, top = odd.get(key, (-1.0 - 0.1 * (len(scores) % 3), match.group(1)))
        scores.append(TokenScore(text[start:end], start, end, logprob, " " + top.strip(), -0.5))
    return scores


def test_a_wrong_operator_gets_a_hint_naming_the_likely_one():
    hints = find_surprise_hints(TEXT, scored(TEXT, {"3:>": (-9.0, ">=")}), 2.0, 3.0)
    (hint,) = hints
    assert (hint.line, hint.original, hint.replacement) == (3, ">", ">=")
    assert TEXT[hint.start : hint.end] == ">"
    assert hint.message == "did you mean `>=` instead of `>`?"
    assert hint.z < -2.0 and hint.margin > 3.0


def test_both_thresholds_must_hold():
    odd = {"3:>": (-9.0, ">=")}
    assert find_surprise_hints(TEXT, scored(TEXT, odd), z_threshold=50.0, min_margin=0.0) == []
    assert find_surprise_hints(TEXT, scored(TEXT, odd), z_threshold=0.5, min_margin=20.0) == []


def test_the_replacement_must_be_the_same_kind_of_token():
    # "value" -> "(" is a change of structure, not a wrong variable
    odd = {"5:value": (-9.0, "("), "1:low": (-9.0, "high")}
    (hint,) = find_surprise_hints(TEXT, scored(TEXT, odd), 1.5, 3.0)
    assert (hint.original, hint.replacement) == ("low", "high")
    assert compatible("1", "0") and compatible("i", "0") and compatible("<", "<=")
    assert not compatible("x", "(") and not compatible("x", "x") and not compatible("x", " ")
    assert [token_kind(t) for t in ("x_1", "10", "<=", "", "a.b")] == [
        "word",
        "number",
        "symbol",
        "space",
        "mixed",
    ]


def test_comments_and_strings_are_skipped_and_one_hint_per_line():
    comment = TEXT.index("# unchanged")
    odd = {"5:unchanged": (-20.0, "changed"), "1:value": (-9.0, "low"), "1:low": (-8.0, "high")}
    hints = find_surprise_hints(
        TEXT, scored(TEXT, odd), 1.5, 3.0, skip=[(comment, comment + len("# unchanged"))]
    )
    assert [(h.line, h.original) for h in hints] == [(1, "value")]


def test_max_hints_keeps_the_most_surprising_and_accept_can_refuse():
    odd = {"1:low": (-7.0, "high"), "3:high": (-12.0, "low"), "5:value": (-9.0, "low")}
    hints = find_surprise_hints(TEXT, scored(TEXT, odd), 1.0, 3.0, max_hints=2)
    assert [h.line for h in hints] == [3, 5]
    refused = find_surprise_hints(
        TEXT, scored(TEXT, odd), 1.0, 3.0, accept=lambda new_text, line: line != 3
    )
    assert [h.line for h in refused] == [5, 1]


def test_pieces_of_words_are_never_replaced():
    assert is_whole_token("a value b", 2, 7)
    assert not is_whole_token("a values b", 2, 7)
    assert not is_whole_token("a xvalue b", 3, 8)
    text = "total = subtotal + 1\n" * 20
    start = text.index("sub") + 3
    piece = TokenScore("total", start, start + 5, -30.0, "sum", -0.1)
    scores = [s for s in scored(text) if not start - 3 <= s.start < start + 5] + [piece]
    assert find_surprise_hints(text, sorted(scores, key=lambda s: s.start), 1.0, 1.0) == []


def test_short_or_flat_files_give_nothing():
    short = "x = 1\n"
    assert find_surprise_hints(short, scored(short, {"0:1": (-9.0, "2")}), 0.1, 0.1) == []
    flat = [TokenScore(" x", i * 2, i * 2 + 2, -1.0, " y", 0.0) for i in range(40)]
    assert find_surprise_hints(" x" * 40, flat, 0.1, 0.1) == []


def test_line_ranking_puts_the_odd_line_first():
    ranking = line_surprise(TEXT, scored(TEXT, {"3:>": (-9.0, ">=")}))
    assert min(ranking, key=ranking.get) == 3
    assert set(ranking) == set(range(6))


def test_a_token_is_judged_against_its_own_other_places_in_the_file():
    text = "".join(f"a{i} = b{i} + c\n" for i in range(12))
    odd = {f"{i}:a{i}": (-12.0 - i % 2, f"a{i}") for i in range(12)}  # fresh names: unsure
    odd.update({f"{i}:c": (-1.0, "c") for i in range(12)})
    odd["7:c"] = (-9.0, "b7")  # this `c` is far less likely than the other eleven
    scores = scored(text, odd)
    (hint,) = find_surprise_hints(text, scores, 1.5, 3.0)
    assert (hint.line, hint.original, hint.replacement) == (7, "c", "b7")
    # among all words it would not stand out: the fresh names are far less likely still
    odd_c = next(i for i, s in enumerate(scores) if s.logprob == -9.0)
    assert surprise_scores(scores)[odd_c] < -1.5 < z_scores(scores)[odd_c]
