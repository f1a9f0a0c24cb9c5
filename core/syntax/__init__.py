"""Tree-sitter syntax helpers shared by the server, training and eval.

Languages: ``python``, ``javascript`` (with JSX), ``typescript``, ``tsx``,
``go`` and ``rust``, from the per-language grammar wheels (nothing is
downloaded at run time).

Conventions: lines are 0-based; columns and offsets are Python ``str``
indices (code points), never UTF-8 bytes and never UTF-16 units; the server
converts LSP positions before calling in.

The implementation lives in ``parse`` (languages, parsing, position
conversion, incremental documents), ``defs`` (definitions, docstrings,
scopes) and ``query`` (errors, completion modes, FIM spans).
"""

from __future__ import annotations

from .defs import (
    Definition,
    DefinitionKind,
    Docstring,
    Scope,
    definition_at,
    enclosing_scope,
    find_definitions,
    is_body_empty,
)
from .parse import (
    LANGUAGES,
    SyntaxDocument,
    TextIndex,
    UnsupportedLanguageError,
    get_language,
    language_for_id,
    language_for_path,
    parse,
)
from .query import (
    CompletionMode,
    Span,
    SpanKind,
    SyntaxIssue,
    completion_mode,
    node_spans,
    syntax_errors,
)

__all__ = [
    "LANGUAGES",
    "CompletionMode",
    "Definition",
    "DefinitionKind",
    "Docstring",
    "Scope",
    "Span",
    "SpanKind",
    "SyntaxDocument",
    "SyntaxIssue",
    "TextIndex",
    "UnsupportedLanguageError",
    "completion_mode",
    "definition_at",
    "enclosing_scope",
    "find_definitions",
    "get_language",
    "is_body_empty",
    "language_for_id",
    "language_for_path",
    "node_spans",
    "parse",
    "syntax_errors",
]
