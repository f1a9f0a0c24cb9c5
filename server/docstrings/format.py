"""Docstring skeletons per style, with slots for the model to fill. Pure.

A skeleton is a list of literal pieces and :class:`Slot` s; the model fills
slots one at a time (summary, each parameter, the return value, each raised
exception) and :func:`clean_slot` makes whatever it wrote safe to put between
triple quotes or inside ``/** */``: one line, no quotes that could close the
literal, no trailing backslash, and no model loop (``Return the the the``,
``guard_guard_guard``: see :mod:`codegen.server.completion.postprocess.loops`;
a slot with one anywhere is dropped whole, not cut). An empty slot keeps a
placeholder (``_summary_``, ``_description_``, as VS Code's autoDocstring
does), so a skeleton with no model at all is still a well-formed docstring.

Styles: ``google`` (default), ``numpy``, ``sphinx`` for Python; JSDoc for
JavaScript/TypeScript whatever the style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..completion.postprocess.loops import find_loops
from .signature import Signature

SUMMARY_PLACEHOLDER = "_summary_"
DESCRIPTION_PLACEHOLDER = "_description_"
MAX_SLOT_CHARS = 100
STYLES = ("google", "numpy", "sphinx")


@dataclass(frozen=True)
class Slot:
    key: str
    """``summary``, ``param:<name>``, ``returns``, ``raises:<name>``."""
    placeholder: str


Piece = str | Slot


@dataclass
class Skeleton:
    pieces: list[Piece] = field(default_factory=list)

    def add(self, *items: Piece) -> None:
        self.pieces.extend(items)

    @property
    def slots(self) -> list[Slot]:
        return [p for p in self.pieces if isinstance(p, Slot)]

    def render(
        self,
        values: dict[str, str],
        upto: int | None = None,
        start: int = 0,
        unfilled: str | None = None,
    ) -> str:
        """The text of pieces ``[start, upto)``. A slot shows its value; one without a usable
        value its placeholder, or ``unfilled`` (when given) if it was never attempted."""
        out = []
        for piece in self.pieces[start:upto]:
            if not isinstance(piece, Slot):
                out.append(piece)
            elif values.get(piece.key):
                out.append(values[piece.key])
            elif unfilled is not None and piece.key not in values:
                out.append(unfilled)
            else:
                out.append(piece.placeholder)
        return "".join(out)


# -- skeletons ---------------------------------------------------------------


def python_skeleton(sig: Signature, style: str, indent: str, quote: str = '"""') -> Skeleton:
    """The docstring literal for ``sig`` with slots, starting at the opening quotes (the
    caller puts ``indent`` before them) and ending with the closing quotes."""
    sk = Skeleton()
    sk.add(quote, Slot("summary", SUMMARY_PLACEHOLDER))
    params = list(sig.params) if sig.kind != "class" else []
    returns = sig.returns is not None and sig.kind != "class"
    raises = list(sig.raises) if sig.kind != "class" else []
    if not (params or returns or raises or sig.yields):
        sk.add(quote)
        return sk
    sub = indent + "    "
    sections: list[list[Piece]] = []
    if style == "numpy":
        if params:
            body: list[Piece] = [f"{indent}Parameters\n{indent}----------\n"]
            for p in params:
                typ = f" : {p.annotation}" if p.annotation else ""
                body += [
                    f"{indent}{p.name}{typ}\n{sub}",
                    Slot(f"param:{p.name}", DESCRIPTION_PLACEHOLDER),
                    "\n",
                ]
            sections.append(body)
        if returns or sig.yields:
            title = "Yields" if sig.yields else "Returns"
            typ = sig.returns or "object"
            sections.append(
                [
                    f"{indent}{title}\n{indent}{'-' * len(title)}\n{indent}{typ}\n{sub}",
                    Slot("returns", DESCRIPTION_PLACEHOLDER),
                    "\n",
                ]
            )
        if raises:
            body = [f"{indent}Raises\n{indent}------\n"]
            for exc in raises:
                body += [
                    f"{indent}{exc}\n{sub}",
                    Slot(f"raises:{exc}", DESCRIPTION_PLACEHOLDER),
                    "\n",
                ]
            sections.append(body)
    elif style == "sphinx":
        body = []
        for p in params:
            body += [
                f"{indent}:param {p.name.lstrip('*')}: ",
                Slot(f"param:{p.name}", DESCRIPTION_PLACEHOLDER),
                "\n",
            ]
            if p.annotation:
                body.append(f"{indent}:type {p.name.lstrip('*')}: {p.annotation}\n")
        if returns or sig.yields:
            body += [
                f"{indent}:{'yields' if sig.yields else 'returns'}: ",
                Slot("returns", DESCRIPTION_PLACEHOLDER),
                "\n",
            ]
            if sig.returns:
                body.append(f"{indent}:rtype: {sig.returns}\n")
        for exc in raises:
            body += [
                f"{indent}:raises {exc}: ",
                Slot(f"raises:{exc}", DESCRIPTION_PLACEHOLDER),
                "\n",
            ]
        sections.append(body)
    else:  # google
        if params:
            body = [f"{indent}Args:\n"]
            for p in params:
                typ = f" ({p.annotation})" if p.annotation else ""
                body += [
                    f"{sub}{p.name}{typ}: ",
                    Slot(f"param:{p.name}", DESCRIPTION_PLACEHOLDER),
                    "\n",
                ]
            sections.append(body)
        if returns or sig.yields:
            title = "Yields" if sig.yields else "Returns"
            typ = f"{sig.returns}: " if sig.returns else ""
            sections.append(
                [f"{indent}{title}:\n{sub}{typ}", Slot("returns", DESCRIPTION_PLACEHOLDER), "\n"]
            )
        if raises:
            body = [f"{indent}Raises:\n"]
            for exc in raises:
                body += [f"{sub}{exc}: ", Slot(f"raises:{exc}", DESCRIPTION_PLACEHOLDER), "\n"]
            sections.append(body)
    for section in sections:
        sk.add("\n\n" if section is sections[0] else "\n", *section)
    sk.add(indent + quote)
    return sk


def jsdoc_skeleton(sig: Signature, indent: str) -> Skeleton:
    """A ``/** ... */`` block for ``sig``; every line starts with ``indent``, and it ends
    with a newline (it goes right before the definition's line). No ``{types}``: in
    TypeScript the annotations already say them, in JavaScript they are unknown."""
    sk = Skeleton()
    sk.add(f"{indent}/**\n{indent} * ", Slot("summary", SUMMARY_PLACEHOLDER), "\n")
    if sig.kind != "class":
        for p in sig.params:
            name = f"[{p.name}]" if p.default is not None else p.name
            sk.add(
                f"{indent} * @param {name} - ",
                Slot(f"param:{p.name}", DESCRIPTION_PLACEHOLDER),
                "\n",
            )
        if sig.returns:
            sk.add(f"{indent} * @returns ", Slot("returns", DESCRIPTION_PLACEHOLDER), "\n")
    sk.add(f"{indent} */\n")
    return sk


# -- cleaning model output ---------------------------------------------------

_CLOSERS = re.compile(r'"""|\'\'\'|\*/|/\*')


def clean_slot(text: str, key: str) -> str:
    """What the model wrote for one slot, safe inside the docstring; "" when unusable."""
    line = text.split("\n", 1)[0]
    line = _CLOSERS.sub(" ", line).replace("\\", " ")
    line = "".join(ch if ch.isprintable() else " " for ch in line)
    line = " ".join(line.split()).lstrip(",.;:)]}>-=| ").strip(" \"'`")
    if find_loops(line):
        return ""
    if len(line) > MAX_SLOT_CHARS:
        line = line[:MAX_SLOT_CHARS].rsplit(" ", 1)[0]
    if sum(ch.isalpha() for ch in line) < 2:
        return ""
    if key == "summary":
        line = line[0].upper() + line[1:]
        if line[-1] not in ".!?":
            line += "."
    return line
