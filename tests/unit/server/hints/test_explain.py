"""Explain and fix: prompt, parsing the model's output, validation, the order of fallbacks.

The engine here is a scripted stand-in (what the model "wrote" is the input
under test); model behaviour itself is tested end to end with a real model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen.core.engine import GenerationConfig, GenerationResult, TokenScore
from codegen.core.fim import TINY
from codegen.server.hints.explain import (
    ProposedFix,
    clean_explanation,
    fix_prompt_parts,
    fix_title,
    parse_fix_output,
    propose_fix,
    token_fix,
    validate_rewrite,
)

CODE = "def mean(xs):\n    total = sum(xs)\n    return total / len(xs) - 1\n"
LINES = CODE.split("\n")


@dataclass
class ScriptedEngine:
    reply: str
    scores: list[TokenScore] = field(default_factory=list)
    fim = TINY
    name = "scripted"
    prompts: list[str] = field(default_factory=list)

    def generate(self, prompt: str, config: GenerationConfig, cancel=None) -> GenerationResult:
        self.prompts.append(prompt)
        return GenerationResult(self.reply, "eos")

    def score(self, text: str) -> list[TokenScore]:
        return self.scores

    def count_tokens(self, text: str) -> int:
        return len(text) // 3


def token(text: str, needle: str, logprob: float, top: str, occurrence: int = 0) -> TokenScore:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return TokenScore(needle, start, start + len(needle), logprob, top, -0.1)


def test_prompt_quotes_the_message_and_lines_above_a_hole():
    prefix, suffix = fix_prompt_parts(LINES, 2, 2, "result off by one", "python")
    assert prefix == (
        "def mean(xs):\n    total = sum(xs)\n"
        "    # Problem: result off by one\n"
        "    # Was: return total / len(xs) - 1\n"
        "    # Fix:"
    )
    assert suffix == "\n"
    js_prefix, _ = fix_prompt_parts(["  f(x);"], 0, 0, "bad", "javascript")
    assert js_prefix.startswith("  // Problem: bad")


def test_model_output_is_split_reindented_and_cut():
    explanation, code = parse_fix_output(
        " divide by the count only\n  return total / len(xs)\n  # Fix: again\n\n", "    ", 1, "#"
    )
    assert explanation == "divide by the count only"
    assert code == ["    return total / len(xs)"]
    _, many = parse_fix_output("why\n" + "x = 1\n" * 20, "", 1, "#")
    assert len(many) == 4  # the lines it replaces + 3 at most
    assert clean_explanation(" \x00 ?? ") == ""
    assert clean_explanation("x" * 300).endswith("…") and len(clean_explanation("x" * 300)) <= 90


def test_rewrites_that_break_the_file_or_change_nothing_are_refused():
    assert validate_rewrite(LINES, 2, 2, ["    return total / len(xs)"], "python") == [
        "    return total / len(xs)"
    ]
    assert validate_rewrite(LINES, 2, 2, ["    return total / (len(xs)"], "python") is None
    assert validate_rewrite(LINES, 2, 2, ["    return total / len(xs) - 1"], "python") is None
    # a longer rewrite whose tail breaks the file is cut back to the part that works
    kept = validate_rewrite(LINES, 2, 2, ["    return total / len(xs)", "    )"], "python")
    assert kept == ["    return total / len(xs)"]


def test_the_model_rewrite_with_its_explanation():
    engine = ScriptedEngine(" the mean needs no offset\n    return total / len(xs)\n")
    fix = propose_fix(engine, CODE, "python", 2, 2, "off by one")
    assert fix == ProposedFix(
        2, 2, ("    return total / len(xs)",), "the mean needs no offset", "model"
    )
    assert fix_title(fix) == "codegen: the mean needs no offset"
    assert "# Problem: off by one" in engine.prompts[0]


def test_a_surprising_token_wins_over_the_rewrite():
    scores = [token(CODE, " -", -12.0, " +")] + [
        TokenScore(" x", i, i + 1, -1.0 - (i % 3) * 0.2, " x", -0.5) for i in range(30)
    ]
    engine = ScriptedEngine("garbage\n    zzz\n", sorted(scores, key=lambda s: s.start))
    fix = propose_fix(engine, CODE, "python", 2, 2, "wrong result")
    assert fix is not None and fix.origin == "scores"
    assert fix.new_lines == ("    return total / len(xs) + 1",)
    assert fix.explanation == "the model expects `+` here, not `-`"
    assert engine.prompts == []  # no generation needed


def test_unusable_rewrites_fall_back_to_the_scorer_or_to_nothing():
    scores = [token(CODE, "1", -3.0, "0", occurrence=0)]
    engine = ScriptedEngine("why\n    return (((\n", scores)
    fix = propose_fix(engine, CODE, "python", 2, 2, "wrong result")
    assert fix is not None and fix.new_lines == ("    return total / len(xs) - 0",)
    assert propose_fix(ScriptedEngine("why\n    return (((\n"), CODE, "python", 2, 2, "x") is None


def test_token_fix_only_touches_the_lines_and_whole_tokens():
    scores = [token(CODE, "total", -5.0, "sum"), token(CODE, "xs", -5.0, "ys", occurrence=2)]
    fix = token_fix(CODE, scores, 2, 2, "python")
    assert fix is not None and fix.new_lines == ("    return total / len(ys) - 1",)
    assert token_fix(CODE, scores, 0, 0, "python") is None
