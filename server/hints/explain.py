"""Explain and fix: the model proposes a replacement for the lines a diagnostic points at.

First the file is scored in one forward pass: if a token on those lines is a
surprise hint (:mod:`.surprise_hints`: far less likely than the file's
tokens, with a much likelier alternative), replacing it is the fix, explained
as "the model expects X here, not Y". Otherwise the model rewrites the lines:
fill-in-the-middle with the offending lines as the hole; above the hole,
comments in the file's language carry the diagnostic's message and the
original lines and end with ``Fix:``, which the model continues with a
one-line explanation before writing the replacement lines. The output is
re-indented, cut to a sane length and kept only if the file still parses
(:mod:`.parse_check`) and something changed. Failing that, the token the
model most prefers another to on those lines is replaced. When nothing gives a
valid edit there is no fix: an edit is only ever offered, never applied, and
never offered broken.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from codegen.core.engine import CancelToken, Engine, GenerationConfig, TokenScore

from ..model.window import fim_window
from ..parse_check import edited_lines, keeps_parsing
from .prose import prose_ranges
from .surprise import compatible, find_surprise_hints, is_whole_token

MAX_EXTRA_LINES = 3
MAX_QUOTED_LINES = 6
MAX_EXPLANATION = 90
_HASH_COMMENT = {"python", "ruby", "shellscript", "bash", "sh", "yaml", "toml", "perl", "r"}
_PROMPT_LABELS = ("Problem:", "Was:", "Fix:")


@dataclass(frozen=True)
class ProposedFix:
    start_line: int
    end_line: int
    """Inclusive; 0-based."""
    new_lines: tuple[str, ...]
    explanation: str
    origin: str
    """``model`` (the rewrite) or ``scores`` (the token fallback)."""


def comment_mark(language: str | None) -> str:
    return "#" if language in _HASH_COMMENT or language is None else "//"


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def fix_prompt_parts(
    lines: Sequence[str], start: int, end: int, message: str, language: str | None
) -> tuple[str, str]:
    """(prefix, suffix) around the hole that replaces ``lines[start..end]``."""
    indent = indent_of(lines[start])
    mark = comment_mark(language)
    note = [f"{indent}{mark} Problem: {one_line(message, 200)}"]
    note += [
        f"{indent}{mark} Was: {line.strip()}" for line in lines[start : end + 1][:MAX_QUOTED_LINES]
    ]
    note.append(f"{indent}{mark} Fix:")
    head = "".join(line + "\n" for line in lines[:start])
    tail = "".join("\n" + line for line in lines[end + 1 :])
    return head + "\n".join(note), tail


def one_line(text: str, limit: int = MAX_EXPLANATION) -> str:
    """``text`` as one printable line of at most ``limit`` characters."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return (cut or flat[: limit - 1]) + "…"


def clean_explanation(text: str) -> str:
    """The model's explanation, or "" when it is not words."""
    flat = one_line(text.strip().lstrip("#/ ").strip())
    return flat if sum(ch.isalpha() for ch in flat) >= 3 else ""


def parse_fix_output(
    text: str, indent: str, original_count: int, mark: str
) -> tuple[str, list[str]]:
    """(explanation, replacement lines) from what the model wrote after ``Fix:``."""
    first, _, rest = text.partition("\n")
    explanation = clean_explanation(first)
    code = [line.rstrip() for line in rest.split("\n")]
    code = [
        line
        for line in code
        if not (
            line.strip().startswith(mark)
            and line.strip()[len(mark) :].strip().startswith(_PROMPT_LABELS)
        )
    ]
    while code and not code[-1].strip():
        code.pop()
    while code and not code[0].strip():
        code.pop(0)
    code = code[: original_count + MAX_EXTRA_LINES]
    if not code:
        return explanation, []
    shift = indent_of(code[0])
    out = []
    for line in code:
        if not line.strip():
            out.append("")
        elif line.startswith(shift):
            out.append(indent + line[len(shift) :])
        else:
            out.append(indent + line.lstrip(" \t"))
    return explanation, out


def replaced(lines: Sequence[str], start: int, end: int, new_lines: Sequence[str]) -> str:
    return "\n".join([*lines[:start], *new_lines, *lines[end + 1 :]])


def validate_rewrite(
    lines: Sequence[str], start: int, end: int, code: list[str], language: str | None
) -> list[str] | None:
    """``code`` (or its longest leading part that works) if it changes the lines and the
    file keeps parsing; None otherwise. Never fewer lines than it replaces."""
    before = "\n".join(lines)
    original = [line.rstrip() for line in lines[start : end + 1]]
    minimum = end - start + 1
    for keep in range(len(code), minimum - 1, -1):
        candidate = code[:keep]
        if [line.rstrip() for line in candidate] == original:
            continue
        edited = (start, start + len(candidate) - 1)
        if keeps_parsing(before, replaced(lines, start, end, candidate), language, edited):
            return candidate
    return None


def _token_candidates(
    text: str, scores: Sequence[TokenScore], lo: int, hi: int
) -> list[tuple[float, int, str, str]]:
    """(margin, offset, original, replacement) for whole tokens starting in ``[lo, hi)``."""
    options = []
    for s in scores:
        first = s.start + len(s.text) - len(s.text.lstrip())
        if not lo <= first < hi:
            continue
        original, replacement = s.text.strip(), s.top_text.strip()
        if (
            compatible(original, replacement)
            and text[first : first + len(original)] == original
            and is_whole_token(text, first, first + len(original))
        ):
            options.append((s.top_logprob - s.logprob, first, original, replacement))
    return sorted(options, reverse=True)


def token_fix(
    text: str,
    scores: Sequence[TokenScore],
    start: int,
    end: int,
    language: str | None,
) -> ProposedFix | None:
    """The scorer's fallback: on lines ``start..end``, the token the model most strongly
    prefers another to, replaced by it, when the file keeps parsing."""
    lo = sum(len(line) + 1 for line in text.split("\n")[:start])
    hi = lo + sum(len(line) + 1 for line in text.split("\n")[start : end + 1])
    for _, first, original, replacement in _token_candidates(text, scores, lo, hi)[:8]:
        new_text = text[:first] + replacement + text[first + len(original) :]
        if not keeps_parsing(text, new_text, language, edited_lines(text, first, replacement)):
            continue
        return _token_replacement(new_text, start, end, original, replacement)
    return None


def _token_replacement(
    new_text: str, start: int, end: int, original: str, replacement: str
) -> ProposedFix:
    new_lines = new_text.split("\n")[start : end + 1]
    explanation = f"the model expects `{replacement}` here, not `{original}`"
    return ProposedFix(start, end, tuple(new_lines), explanation, "scores")


def surprising_token_fix(
    text: str,
    scores: Sequence[TokenScore],
    start: int,
    end: int,
    language: str | None,
    z_threshold: float,
    min_margin: float,
) -> ProposedFix | None:
    """A surprise hint (:mod:`.surprise_hints`) on lines ``start..end`` as a fix: when the
    model is that sure a token is wrong, its alternative beats any rewrite."""
    hints = find_surprise_hints(
        text,
        scores,
        z_threshold,
        min_margin,
        max_hints=100,
        skip=prose_ranges(text, language),
        accept=lambda new_text, line: keeps_parsing(text, new_text, language, (line, line)),
    )
    for hint in hints:
        if start <= hint.line <= end:
            new_text = text[: hint.start] + hint.replacement + text[hint.end :]
            return _token_replacement(new_text, start, end, hint.original, hint.replacement)
    return None


def propose_fix(
    engine: Engine,
    text: str,
    language: str | None,
    start: int,
    end: int,
    message: str,
    cancel: CancelToken | None = None,
    max_context_tokens: int = 1500,
    z_threshold: float = 2.0,
    min_margin: float = 3.0,
) -> ProposedFix | None:
    """A replacement for lines ``start..end`` of ``text`` (``\\n`` endings) addressing
    ``message``; runs the model (call it on the model worker).

    In order: a surprising token on those lines (one forward pass), the model's
    rewrite (one generation), the token the model most prefers another to.
    """
    lines = text.split("\n")
    start = max(0, min(start, len(lines) - 1))
    end = max(start, min(end, len(lines) - 1))
    scores = engine.score(text)
    strong = surprising_token_fix(text, scores, start, end, language, z_threshold, min_margin)
    if strong is not None or (cancel is not None and cancel.cancelled):
        return strong
    mark = comment_mark(language)
    prefix, suffix = fix_prompt_parts(lines, start, end, message, language)
    prefix, suffix = fim_window(prefix, suffix, engine.count_tokens, max_context_tokens)
    count = end - start + 1
    limit = count + MAX_EXTRA_LINES + 1

    def stop_after_lines(generated: str) -> int | None:
        parts = generated.split("\n")
        return len("\n".join(parts[:limit])) if len(parts) > limit else None

    config = GenerationConfig(
        max_new_tokens=24 + 28 * count,
        stop=engine.fim.stop_strings,
        stop_fn=stop_after_lines,
    )
    result = engine.generate(engine.fim.build_prompt(prefix, suffix), config, cancel)
    if result.finish_reason == "cancelled" or (cancel is not None and cancel.cancelled):
        return None
    explanation, code = parse_fix_output(result.text, indent_of(lines[start]), count, mark)
    valid = validate_rewrite(lines, start, end, code, language) if code else None
    if valid is not None:
        why = explanation or f"rewrite for: {one_line(message, 60)}"
        return ProposedFix(start, end, tuple(valid), why, "model")
    return token_fix(text, scores, start, end, language)


_TITLE_PREFIX = re.compile(r"^codegen:\s*")


def fix_title(fix: ProposedFix) -> str:
    """The code action title: ``codegen: <one-line explanation>``."""
    return "codegen: " + one_line(_TITLE_PREFIX.sub("", fix.explanation))
