"""Inline completion inside a freshly typed ``\"\"\"`` under a ``def`` or ``class``.

Pure. :func:`docstring_site` recognises the place: the cursor line is the
indentation, optionally a string prefix, and an opening triple quote (plus
what the user typed after it), directly below a Python definition's header;
after the cursor there is nothing, or the closing quotes the editor
auto-inserted. The completion pipeline then completes in multi-line mode,
stops generating at the closing quotes, and :func:`finish_docstring` shapes
the result: the docstring's lines at the body's indentation, nothing that
could close the literal early, and the closing quotes added when the editor
did not insert them (on their own line for a multi-line docstring).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..completion.postprocess import FilterContext, Suggestion, postprocess
from ..completion.postprocess.drop_low_quality import drop_low_quality
from ..completion.postprocess.match_indentation import match_file_indentation
from ..completion.postprocess.max_lines import limit_max_lines
from ..completion.postprocess.stop_at_blank_lines import stop_at_blank_lines
from ..completion.postprocess.trim import trim
from ..lsp.positions import line_content

LOOKBACK_LINES = 30
_OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<prefix>[rRuU]?)(?P<quote>\"\"\"|''')(?P<typed>.*)$")
_HEADER = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+def|def|class)[ \t]")
_TRAILING_COMMENT = re.compile(r"[ \t]+#[^\"']*$")

# Docstring lines are prose at one indentation: no scope or auto-closing rules.
DOCSTRING_FILTERS = (
    trim,
    match_file_indentation,
    stop_at_blank_lines,
    limit_max_lines,
    drop_low_quality,
)


@dataclass(frozen=True)
class DocstringSite:
    quote: str
    indent: str
    closed: bool
    """The closing quotes already follow the cursor (the editor auto-closed them)."""

    @property
    def stops(self) -> tuple[str, ...]:
        return ('"""', "'''")


def _code(line: str) -> str:
    return _TRAILING_COMMENT.sub("", line).rstrip()


def docstring_site(lines: Sequence[str], line: int, col: int) -> DocstringSite | None:
    """The docstring being typed at (line, Python column) of ``lines``, or None."""
    if not 0 <= line < len(lines):
        return None
    text = line_content(lines[line])
    before, after = text[:col], text[col:]
    match = _OPENING.match(before)
    if (
        match is None
        or match["quote"] in match["typed"]
        or match["quote"][0] in match["typed"][-1:]
    ):
        return None
    quote, indent = match["quote"], match["indent"]
    rest = after.strip()
    if rest not in ("", quote):
        return None
    previous = next((i for i in range(line - 1, -1, -1) if line_content(lines[i]).strip()), None)
    if previous is None or not _code(line_content(lines[previous])).endswith(":"):
        return None
    for i in range(previous, max(-1, previous - LOOKBACK_LINES), -1):
        header = _HEADER.match(line_content(lines[i]))
        if header is None:
            continue
        joined = "\n".join(_code(line_content(lines[j])) for j in range(i, previous + 1))
        # The def's own colon must end the code above: ``def f():`` then ``if x:`` is a block.
        if len(header["indent"]) < len(indent) and _first_header_colon(joined) == len(joined) - 1:
            return DocstringSite(quote, indent, closed=rest == quote)
        return None
    return None


def _first_header_colon(code: str) -> int:
    """Index of the first ``:`` outside brackets and strings (-1 when there is none)."""
    depth, quote = 0, ""
    for i, ch in enumerate(code):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ":" and depth == 0:
            return i
    return -1


def finish_docstring(raw: str, ctx: FilterContext, site: DocstringSite) -> Suggestion | None:
    """The suggestion for a docstring from the model's raw text."""
    text = raw
    for stop in site.stops:
        cut = text.find(stop)
        if cut != -1:
            text = text[:cut]
    suggestion = postprocess(text, ctx, DOCSTRING_FILTERS)
    if suggestion is None:
        return None
    lines = [line.rstrip().rstrip("\\") for line in suggestion.text.split("\n")]
    rest = [line for line in lines[1:] if line.strip()]
    if rest:  # keep the relative indentation (sections), anchored at the docstring's
        least = min(len(line) - len(line.lstrip(" \t")) for line in rest)
        lines[1:] = [site.indent + line[least:] if line.strip() else "" for line in lines[1:]]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return None
    if lines[-1].endswith(site.quote[0]):
        lines[-1] += "."  # a quote right before the closing ones would end the literal early
    body = "\n".join(lines)
    multi = len(lines) > 1
    if site.closed:
        return Suggestion(body + ("\n" + site.indent if multi else ""))
    return Suggestion(body + ("\n" + site.indent if multi else "") + site.quote)
