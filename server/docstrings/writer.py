"""Write one docstring: where it goes, the skeleton, the model filling its slots.

The model writes each slot as fill-in-the-middle: the prefix is the file up to
the definition's header plus the docstring so far (``def f(x):`` /
indentation / ``\"\"\"`` / what is already filled), the suffix is the rest of
the skeleton, the closing quotes and the body. Each slot is one line, stops
at a newline or anything that would close the literal, and is cleaned
(:func:`~codegen.server.docstrings.format.clean_slot`). The finished edit is
checked to keep the file parsing; if it does not, the skeleton alone (with
placeholders) is used, and if even that fails, no edit is produced.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.core.engine import CancelToken, Engine, GenerationConfig
from codegen.core.syntax import Definition

from ..model.window import fim_window
from ..parse_check import edited_lines, keeps_parsing
from ..source_text import SourceText
from .format import Skeleton, Slot, clean_slot, jsdoc_skeleton, python_skeleton
from .signature import Signature, js_signature, python_signature

JS_LANGUAGES = ("javascript", "typescript", "tsx")
DOC_LANGUAGES = ("python", *JS_LANGUAGES)
SLOT_STOPS = ("\n", '"""', "'''", "*/")


@dataclass(frozen=True)
class DocstringPlan:
    name: str
    insert_start: int
    insert_end: int
    """``text[insert_start:insert_end]`` is replaced by ``lead + docstring + trail``."""
    lead: str
    trail: str
    skeleton: Skeleton
    signature: Signature


@dataclass(frozen=True)
class DocstringEdit:
    name: str
    start: int
    end: int
    new_text: str
    """``\\n`` line endings."""
    filled: int
    """How many slots the model filled (0: the skeleton with placeholders)."""


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def plan_docstring(source: SourceText, defn: Definition, style: str) -> DocstringPlan | None:
    """Where a docstring for ``defn`` goes and its skeleton; None for other languages."""
    text = source.text
    if source.language == "python":
        start_of_line = _line_start(text, defn.start)
        signature = python_signature(text[start_of_line : defn.end], defn.kind, defn.name)
        skeleton = python_skeleton(signature, style, defn.body_indent)
        sig_line = defn.signature_end[0]
        body_first = (
            defn.signature_end_offset
            + len(text[defn.signature_end_offset :])
            - len(text[defn.signature_end_offset :].lstrip(" \t"))
        )
        same_line = defn.body_start_line <= sig_line and text[body_first : body_first + 1] not in (
            "",
            "\n",
            "#",
        )
        header_end_line_start = _line_start(text, defn.signature_end_offset)
        if not text[header_end_line_start : defn.signature_end_offset].strip():
            # A comment after the colon makes the header "end" where the body starts.
            at = header_end_line_start
            trail = "\n\n" if defn.kind == "class" else "\n"
            return DocstringPlan(defn.name, at, at, defn.body_indent, trail, skeleton, signature)
        if same_line:  # def f(): return 1
            return DocstringPlan(
                defn.name,
                defn.signature_end_offset,
                body_first,
                "\n" + defn.body_indent,
                "\n" + defn.body_indent,
                skeleton,
                signature,
            )
        if sig_line + 1 >= len(source.lines):  # header on the last line, no body yet
            end = len(text)
            return DocstringPlan(
                defn.name, end, end, "\n" + defn.body_indent, "", skeleton, signature
            )
        at = source.offset(sig_line + 1, 0)
        # PEP 257: a blank line after a class docstring, before the first method.
        next_line = source.lines[sig_line + 1]
        trail = "\n\n" if defn.kind == "class" and next_line.strip() else "\n"
        return DocstringPlan(defn.name, at, at, defn.body_indent, trail, skeleton, signature)
    if source.language in JS_LANGUAGES:
        at = _line_start(text, defn.start)
        line = source.lines[defn.start_line]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        header = text[defn.start : defn.signature_end_offset]
        signature = js_signature(header, defn.kind, defn.name, source.language != "javascript")
        return DocstringPlan(
            defn.name, at, at, "", "", jsdoc_skeleton(signature, indent), signature
        )
    return None


def render_edit(plan: DocstringPlan, values: dict[str, str]) -> str:
    return plan.lead + plan.skeleton.render(values) + plan.trail


def write_docstring(
    engine: Engine | None,
    source: SourceText,
    plan: DocstringPlan,
    max_new_tokens: int = 40,
    cancel: CancelToken | None = None,
    max_context_tokens: int = 1500,
) -> DocstringEdit | None:
    """The docstring edit for ``plan``, slots filled by ``engine`` (None: skeleton only).

    Returns None when cancelled, or when not even the skeleton keeps the file parsing.
    """
    values: dict[str, str] = {}
    if engine is not None:
        config = GenerationConfig(
            max_new_tokens=max_new_tokens, stop=(*engine.fim.stop_strings, *SLOT_STOPS)
        )
        before, after = source.text[: plan.insert_start], source.text[plan.insert_end :]
        pieces = plan.skeleton.pieces
        for index, piece in enumerate(pieces):
            if not isinstance(piece, Slot):
                continue
            if cancel is not None and cancel.cancelled:
                return None
            prefix = before + plan.lead + plan.skeleton.render(values, upto=index)
            rest = plan.skeleton.render(values, start=index + 1, unfilled="")
            prefix, suffix = fim_window(
                prefix, rest + plan.trail + after, engine.count_tokens, max_context_tokens
            )
            result = engine.generate(engine.fim.build_prompt(prefix, suffix), config, cancel)
            if result.finish_reason == "cancelled":
                return None
            values[piece.key] = clean_slot(result.text, piece.key)
    filled = sum(1 for value in values.values() if value)
    for attempt, count in ((values, filled), ({}, 0)):
        new_text = render_edit(plan, attempt)
        after_edit = source.text[: plan.insert_start] + new_text + source.text[plan.insert_end :]
        edited = edited_lines(source.text, plan.insert_start, new_text)
        if keeps_parsing(source.text, after_edit, source.language, edited):
            return DocstringEdit(plan.name, plan.insert_start, plan.insert_end, new_text, count)
    return None


def apply_edits(text: str, edits: list[DocstringEdit]) -> str:
    """``text`` with non-overlapping ``edits`` (offsets into ``text``) applied."""
    out = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: edit.start] + edit.new_text + out[edit.end :]
    return out


def needs_docstring(definitions: list[Definition], defn: Definition) -> bool:
    """No docstring yet, and not a helper nested inside a function."""
    if defn.docstring is not None:
        return False
    return not any(
        other.kind != "class" and other.start < defn.start and defn.end <= other.end
        for other in definitions
    )
