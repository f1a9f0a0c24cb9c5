"""Docstring examples: write a definition's docstring, framed as fill-in-the-middle.

The prefix is the code up to where the docstring goes (for Python, after the
header and the body's indentation; elsewhere, before the definition), the
middle is the docstring or doc comment exactly as written, and the suffix is
the rest of the definition. Serving asks the same question with an empty
middle, so one model and one prompt format do both.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.core.fim import FimFormat
from codegen.core.syntax import Definition, find_definitions

from ..example import Example, clip_prefix


@dataclass(frozen=True)
class DocstringConfig:
    min_doc_chars: int = 16
    max_doc_chars: int = 1200
    min_body_lines: int = 1
    max_definition_chars: int = 4000
    context_chars: int = 1500


def _worth_it(text: str, defn: Definition, config: DocstringConfig) -> bool:
    doc = defn.docstring
    if doc is None or not config.min_doc_chars <= len(doc.text.strip()) <= config.max_doc_chars:
        return False
    if defn.end - defn.start > config.max_definition_chars:
        return False
    # Lines of the definition after the docstring that hold code: a docstring of an
    # empty stub teaches little about describing code.
    tail = text[max(doc.end, defn.signature_end_offset) : defn.end]
    return sum(1 for line in tail.split("\n") if line.strip()) >= config.min_body_lines


def build_docstring_examples(
    text: str, path: str, language: str, fmt: FimFormat, config: DocstringConfig
) -> list[Example]:
    """One PSM example per definition whose docstring passes the length filters."""
    examples = []
    for defn in find_definitions(text, language):
        if not _worth_it(text, defn, config):
            continue
        doc = defn.docstring
        assert doc is not None
        prefix = clip_prefix(text, doc.start, config.context_chars)
        suffix = text[doc.end : max(defn.end, doc.end)]
        if not suffix.endswith("\n") and defn.end < len(text):
            suffix += "\n"
        prompt, completion = fmt.build_training_example(prefix, text[doc.start : doc.end], suffix)
        examples.append(Example("docstring", prompt, completion, path, language))
    return examples
