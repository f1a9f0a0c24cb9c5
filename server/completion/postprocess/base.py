"""The values every post-processing filter takes and returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

OPENERS = ("(", "[", "{", ":")
CLOSERS = {")": "(", "]": "[", "}": "{"}
QUOTES = ('"', "'", "`")
TAB_WIDTH = 4


@dataclass(frozen=True)
class Suggestion:
    text: str
    cover: int = 0
    """How many characters right after the cursor (on its line) the text replaces."""

    def with_text(self, text: str) -> Suggestion:
        return replace(self, text=text)


@dataclass(frozen=True)
class FilterContext:
    """The code around the cursor, with ``\\n`` line endings."""

    prefix: str
    suffix: str
    mode: str = "multi"
    """``single`` or ``multi``."""
    indent_unit: str = "    "
    """One indentation level of the file: a tab or some spaces."""
    eol: str = "\n"
    max_lines: int = 12
    max_blank_lines: int = 1
    min_length: int = 2

    @property
    def line_prefix(self) -> str:
        return self.prefix[self.prefix.rfind("\n") + 1 :]

    @property
    def line_suffix(self) -> str:
        end = self.suffix.find("\n")
        return self.suffix if end == -1 else self.suffix[:end]


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_width(whitespace: str) -> int:
    return sum(TAB_WIDTH if ch == "\t" else 1 for ch in whitespace)


def is_blank(line: str) -> bool:
    return not line.strip()


def cut_lines(lines: list[str], keep: int) -> str:
    """The first ``keep`` lines joined, without trailing whitespace."""
    return "\n".join(lines[:keep]).rstrip()


_INDENT = re.compile(r"^([ \t]*)[^ \t\r\n\f\v]", re.MULTILINE)


def detect_indent_unit(lines: list[str], limit: int = 2000) -> str:
    """The file's indentation unit: a tab, or the most common space step (default 4).

    Reads the first ``limit`` lines; one regex pass over their text finds every
    non-blank line's leading whitespace (this runs on every completion request)."""
    tabs = spaces = 0
    steps: dict[int, int] = {}
    previous = 0
    for ws in _INDENT.findall("".join(lines[:limit])):
        if ws.startswith("\t"):
            tabs += 1
            width = previous
        else:
            if ws:
                spaces += 1
            width = len(ws)
        if width > previous:
            steps[width - previous] = steps.get(width - previous, 0) + 1
        previous = width
    if tabs > spaces:
        return "\t"
    step = max(steps, key=lambda k: (steps[k], -k)) if steps else 4
    return " " * (step if 1 < step <= 8 else 4)
