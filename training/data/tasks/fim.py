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
sentinels and order trained on are those served (most holes in the format's
``default_order``). Held-out files get evaluation holes instead
(:func:`build_eval_fim_examples`): line completions in the served order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from codegen.core.fim import FimFormat
from codegen.core.syntax import Span, node_spans

from ..example import Example, clip_prefix, clip_suffix, line_windows


@dataclass(frozen=True)
class FimConfig:
    fim_rate: float = 0.9
    spm_rate: float | None = None
    """Share of FIM holes in SPM order; None = the order the format is served in
    (:attr:`FimFormat.default_order`) for ``DEFAULT_ORDER_SHARE`` of them."""
    window_chars: int = 2000
    examples_per_window: int = 3
    max_middle_chars: int = 800
    char_weight: float = 0.2
    line_weight: float = 0.4
    syntax_weight: float = 0.4
    eval_line_rate: float = 0.5
    """Held-out files: the share of non-blank lines that become a line-completion hole."""
    eval_line_start_rate: float = 0.3
    """...of which this share start at the line's indentation (the cursor on a fresh line)."""


DEFAULT_ORDER_SHARE = 0.8
"""With ``spm_rate=None``: most holes in the served order, a few in the other one so
that a user who switches ``completion.fimOrder`` still gets sensible completions."""


def spm_share(config: FimConfig, fmt: FimFormat) -> float:
    if config.spm_rate is not None:
        return config.spm_rate
    return DEFAULT_ORDER_SHARE if fmt.default_order == "spm" else 1.0 - DEFAULT_ORDER_SHARE


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
    spm_rate = spm_share(config, fmt)
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
                    order = "spm" if rng.random() < spm_rate else "psm"
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


def build_eval_fim_examples(
    text: str,
    path: str,
    language: str,
    fmt: FimFormat,
    config: FimConfig,
    rng: random.Random,
) -> list[Example]:
    """Held-out holes shaped like the inline completions the server is asked for.

    For ``eval_line_rate`` of the non-blank lines: the rest of the line from a
    random cursor inside it, or (``eval_line_start_rate``) the whole line from
    its indentation, with up to ``window_chars`` of the file around it as
    context (70% before the cursor), in the order the format is served in. This
    is the line-level protocol of repository completion benchmarks (CodeXGLUE,
    CrossCodeEval, RepoBench), and with one hole per few lines a small held-out
    split still gives enough holes for a stable exact-match figure.
    """
    examples: list[Example] = []
    before = int(config.window_chars * 0.7)
    for start, end in _code_lines(text, 0, len(text)):
        if rng.random() >= config.eval_line_rate:
            continue
        first = start + len(text[start:end]) - len(text[start:end].lstrip())
        cut = first if rng.random() < config.eval_line_start_rate else rng.randrange(first, end)
        if not text[cut:end].strip() or end - cut > config.max_middle_chars:
            continue
        prefix = clip_prefix(text, cut, before)
        suffix = clip_suffix(text, end, config.window_chars - len(prefix))
        prompt, completion = fmt.build_training_example(
            prefix, text[cut:end], suffix, fmt.default_order
        )
        examples.append(Example("fim", prompt, completion, path, language))
    return examples
