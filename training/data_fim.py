"""Fill-in-the-middle examples: character-level, line-aware and syntax-aligned holes.

Each line-aligned window of a file becomes, with probability ``fim_rate``, a
FIM example (otherwise a plain ``lm`` example). The hole is cut in one of three
ways, mirroring what users ask for:

- ``char``: two random cut points (robustness to any cursor position);
- ``line``: the rest of a line, or whole lines (typing at the end of a line,
  or on an empty line);
- ``syntax``: a whole statement, expression or block from tree-sitter
  (:func:`codegen.core.syntax.node_spans`).

Prompts come from ``core``'s :class:`~codegen.core.fim.FimFormat`, so the
sentinels and order trained on are those served.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from codegen.core.fim import FimFormat
from codegen.core.syntax import Span, node_spans

from .data_example import Example, line_windows


@dataclass(frozen=True)
class FimConfig:
    fim_rate: float = 0.9
    spm_rate: float = 0.5
    window_chars: int = 2000
    examples_per_window: int = 3
    max_middle_chars: int = 800
    char_weight: float = 0.2
    line_weight: float = 0.4
    syntax_weight: float = 0.4


def char_hole(start: int, end: int, max_middle: int, rng: random.Random) -> tuple[int, int]:
    a = rng.randrange(start, end)
    b = rng.randrange(a, min(end, a + max_middle) + 1)
    return a, b


def _code_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(line start, line end without newline)`` of the non-blank lines in ``[start, end)``."""
    lines = []
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline == -1 else newline
        if text[pos:stop].strip():
            lines.append((pos, stop))
        pos = stop + 1
    return lines


def line_hole(text: str, start: int, end: int, rng: random.Random) -> tuple[int, int] | None:
    """Rest of a line (cursor inside it, maybe a few more lines), or whole lines."""
    lines = _code_lines(text, start, end)
    if not lines:
        return None
    index = rng.randrange(len(lines))
    first, line_end = lines[index]
    last_end = lines[min(index + rng.choice((0, 0, 1, 2, 4)), len(lines) - 1)][1]
    if rng.random() < 0.5:
        indent = len(text[first:line_end]) - len(text[first:line_end].lstrip())
        return rng.randrange(first + indent, line_end + 1), last_end
    return first, min(last_end + 1, end)


def syntax_hole(
    spans: list[Span], start: int, end: int, max_middle: int, rng: random.Random
) -> tuple[int, int] | None:
    inside = [
        s for s in spans if start <= s.start and s.end <= end and s.end - s.start <= max_middle
    ]
    if not inside:
        return None
    span = rng.choice(inside)
    return span.start, span.end


def build_fim_examples(
    text: str,
    path: str,
    language: str,
    fmt: FimFormat,
    config: FimConfig,
    rng: random.Random,
) -> list[Example]:
    """``examples_per_window`` draws per window: a FIM example with a fresh hole, or (at
    most once per window) the plain window as an ``lm`` example."""
    examples: list[Example] = []
    spans_cache: list[list[Span]] = []  # parsed on first use only
    for start, end in line_windows(text, config.window_chars):
        window = text[start:end]
        if not window.strip():
            continue
        lm_done = False
        for _ in range(config.examples_per_window):
            if rng.random() < config.fim_rate:
                hole = _choose_hole(text, language, start, end, config, rng, spans_cache)
                if hole is not None:
                    a, b = hole
                    order = "spm" if rng.random() < config.spm_rate else "psm"
                    prompt, completion = fmt.build_training_example(
                        text[start:a], text[a:b], text[b:end], order
                    )
                    examples.append(Example("fim", prompt, completion, path, language))
                    continue
            if not lm_done:
                examples.append(Example("lm", "", window + fmt.eot_token, path, language))
                lm_done = True
    return examples


def _choose_hole(
    text: str,
    language: str,
    start: int,
    end: int,
    config: FimConfig,
    rng: random.Random,
    spans_cache: list[list[Span]],
) -> tuple[int, int] | None:
    """A non-blank ``[a, b)`` hole inside the window, cut by a randomly chosen method."""
    modes = ("char", "line", "syntax")
    weights = (config.char_weight, config.line_weight, config.syntax_weight)
    mode = rng.choices(modes, weights)[0]
    hole: tuple[int, int] | None = None
    if mode == "syntax":
        if not spans_cache:
            spans_cache.append(node_spans(text, language))
        hole = syntax_hole(spans_cache[0], start, end, config.max_middle_chars, rng)
    if mode == "line" or (mode == "syntax" and hole is None):
        hole = line_hole(text, start, end, rng)
    if hole is None or not text[hole[0] : hole[1]].strip():
        hole = char_hole(start, end, config.max_middle_chars, rng)
    return hole if text[hole[0] : hole[1]].strip() else None
