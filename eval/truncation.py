"""How a generated FIM middle is cut before it is scored, one named rule each.

Generation already stops at the model's FIM end token (any sentinel) or EOS. The
default rule, ``reference``, then cuts nothing more: it is the protocol of
bigcode-evaluation-harness's ``santacoder_fim`` / ``starcoder_fim`` tasks (keep the
text up to the first end-of-text / file-separator token) and of
human-eval-infilling (score ``prompt + completion + suffix`` as is), the protocol
the published HumanEval-infilling figures use. Middles that come from elsewhere
(``codegen-eval samples``) may still hold such a token; ``reference`` cuts there.

The other rules are options, named in every report:

- ``none``: the middle exactly as given, even with end tokens in it.
- ``first-line``: ``reference``, then keep the first line that has code (with its
  newline): the single-line rule of InCoder-style line infilling.
- ``suffix-overlap``: ``reference``, then drop trailing lines that repeat the start of
  the suffix, the commonest way a FIM model spoils a correct middle (it writes the
  code after the hole again). This is our own post-processing, not a benchmark's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codegen.core.errors import ConfigError
from codegen.core.fim import FIM_FORMATS

END_MARKERS: tuple[str, ...] = tuple(
    sorted({token for fmt in FIM_FORMATS.values() for token in fmt.sentinels})
    + ["<|filename|>", "<fim-prefix>", "<fim-suffix>", "<fim-middle>", "<fim-pad>"]
)
"""Every FIM sentinel and end-of-text token of the formats we know, and SantaCoder's
(which bigcode-evaluation-harness stops at): a middle ends at the first of them."""


@dataclass(frozen=True)
class Truncation:
    name: str
    description: str
    apply: Callable[[str, str], str]
    """``(middle, suffix) -> middle to score``."""


def cut_at_end_marker(middle: str) -> str:
    """``middle`` up to the first FIM sentinel or end-of-text token in it."""
    cut = len(middle)
    for marker in END_MARKERS:
        index = middle.find(marker, 0, cut)
        if index != -1:
            cut = index
    return middle[:cut]


def keep_first_line(middle: str) -> str:
    """The first line with code in it, newline included; leading blank lines are kept
    so that the code stays where the model put it."""
    start = 0
    while True:
        end = middle.find("\n", start)
        if end == -1:
            return middle
        if middle[start:end].strip():
            return middle[: end + 1]
        start = end + 1


def drop_suffix_overlap(middle: str, suffix: str) -> str:
    """``middle`` without its last lines when they equal the suffix's first lines (the
    longest such overlap, compared without trailing whitespace; blank lines alone
    never count as an overlap)."""
    lines = middle.splitlines(keepends=True)
    head = [line.rstrip() for line in suffix.splitlines()]
    for size in range(min(len(lines), len(head)), 0, -1):
        tail = [line.rstrip() for line in lines[-size:]]
        if tail == head[:size] and any(tail):
            return "".join(lines[:-size])
    return middle


TRUNCATIONS: dict[str, Truncation] = {
    t.name: t
    for t in (
        Truncation(
            "reference",
            "stop at the FIM end token or EOS, nothing else (bigcode-evaluation-harness "
            "santacoder_fim/starcoder_fim; human-eval-infilling)",
            lambda middle, suffix: cut_at_end_marker(middle),
        ),
        Truncation("none", "the middle exactly as given", lambda middle, suffix: middle),
        Truncation(
            "first-line",
            "reference, then only the first line with code (single-line rule)",
            lambda middle, suffix: keep_first_line(cut_at_end_marker(middle)),
        ),
        Truncation(
            "suffix-overlap",
            "reference, then drop trailing lines that repeat the suffix (ours)",
            lambda middle, suffix: drop_suffix_overlap(cut_at_end_marker(middle), suffix),
        ),
    )
}
DEFAULT_TRUNCATION = "reference"


def get_truncation(name: str) -> Truncation:
    try:
        return TRUNCATIONS[name]
    except KeyError:
        raise ConfigError(
            f"unknown truncation {name!r}; choose one of {', '.join(TRUNCATIONS)}"
        ) from None
