"""Redact what leaves the machine: every prompt a remote engine sends.

The detectors are ``codegen-train data``'s secret scanner
(:func:`codegen.core.secrets.secret_spans`); each secret becomes a
``<REDACTED_KIND>`` placeholder. :class:`Redacted` keeps the offset map back
to the original text, so token scores computed on the redacted text land on
the right characters (tokens inside a placeholder are dropped).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..secrets import secret_spans


@dataclass(frozen=True)
class Redacted:
    text: str
    """What is sent."""
    pieces: tuple[tuple[int, int, int], ...]
    """``(start in text, end in text, start in the original)`` of every unchanged piece."""
    count: int
    """Secrets replaced."""

    def to_original(self, start: int, end: int) -> tuple[int, int] | None:
        """The original span of ``text[start:end]``, or None when it touches a placeholder."""
        i = bisect.bisect_right([p[0] for p in self.pieces], start) - 1
        if i < 0:
            return None
        lo, hi, orig = self.pieces[i]
        if start < lo or end > hi:
            return None
        return orig + start - lo, orig + end - lo


def redact_outbound(text: str) -> Redacted:
    """``text`` with every secret the scanner flags replaced by its placeholder."""
    spans = secret_spans(text)
    if not spans:
        return Redacted(text, ((0, len(text), 0),), 0)
    out: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    pos = size = 0
    for start, end, kind in spans:
        out.append(text[pos:start])
        pieces.append((size, size + start - pos, pos))
        size += start - pos
        placeholder = f"<REDACTED_{kind.upper()}>"
        out.append(placeholder)
        size += len(placeholder)
        pos = end
    out.append(text[pos:])
    pieces.append((size, size + len(text) - pos, pos))
    return Redacted("".join(out), tuple(pieces), len(spans))
