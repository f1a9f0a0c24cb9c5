"""LSP positions <-> Python string indices, exactly, in utf-16, utf-8 or utf-32.

LSP counts a line's characters in the negotiated encoding's code units and
ends lines only at ``\\n``, ``\\r\\n`` or ``\\r`` (not at the other separators
``str.splitlines`` knows, such as form feed or U+2028). Everything here is
pure and clamps out-of-range input instead of raising.
"""

from __future__ import annotations

import re

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
ENCODINGS = (UTF16, UTF8, UTF32)

_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_EOL_RE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines with their terminators kept; always at least one (possibly empty) line.

    A text ending in a terminator has a final empty line, as editors show it.
    """
    lines = _LINE_RE.findall(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


def line_ending(text: str) -> str:
    """The document's line terminator: the one rule for every edit the server makes.

    Of ``\\r\\n``, ``\\n`` and a lone ``\\r`` (the terminators LSP knows), the
    one that ends the most lines of the *whole* text; a tie goes to the one
    that occurs first; a text without any terminator gives ``\\n``. Counting is
    done with ``str.count`` over the entire text (no prefix sample), so a long
    CRLF file is CRLF however many lines it has.
    """
    crlf = text.count("\r\n")
    counts = {"\r\n": crlf, "\n": text.count("\n") - crlf, "\r": text.count("\r") - crlf}
    best = max(counts.values())
    if best == 0:
        return "\n"
    tied = [eol for eol, n in counts.items() if n == best]
    if len(tied) > 1:
        for match in _EOL_RE.finditer(text):
            if match.group() in tied:
                return match.group()
    return tied[0]


def with_lf(line: str) -> str:
    """``line`` ending in exactly one ``"\n"`` whatever its terminator (or none); the
    common LF line comes back as is, without a copy."""
    if line[-1:] == "\n" and line[-2:-1] != "\r":
        return line
    return line_content(line) + "\n"


def line_content(line: str) -> str:
    """``line`` without its terminator."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _unit_len(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


def units_len(text: str, encoding: str = UTF16) -> int:
    """Length of ``text`` in the encoding's code units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF16:
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
    return len(text.encode("utf-8"))


def column_to_index(content: str, units: int, encoding: str = UTF16) -> int:
    """Python index in ``content`` for a column given in code units.

    Past the end clamps to the end; negative clamps to 0; a column inside a
    character (e.g. between the two halves of a surrogate pair) rounds down.
    """
    if units <= 0:
        return 0
    if encoding == UTF32 or content.isascii():
        return min(units, len(content))
    seen = 0
    for index, ch in enumerate(content):
        seen += _unit_len(ch, encoding)
        if seen > units:
            return index
    return len(content)


def index_to_column(content: str, index: int, encoding: str = UTF16) -> int:
    """Column in code units for the Python index ``index`` in ``content``."""
    return units_len(content[: max(0, index)], encoding)
