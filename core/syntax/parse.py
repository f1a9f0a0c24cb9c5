"""Languages, parsing and position conversion for the tree-sitter helpers.

Tree-sitter works on UTF-8 bytes and (row, byte column) points; the rest of
codegen works on Python ``str`` indices. :class:`TextIndex` converts between
the two, so no caller ever sees a byte offset. Public names are re-exported by
:mod:`codegen.core.syntax`.
"""

from __future__ import annotations

import importlib
import threading
from bisect import bisect_left
from functools import cache, lru_cache
from pathlib import PurePath
from typing import Any

import numpy as np
import tree_sitter

from ..errors import CodegenError

LANGUAGES: tuple[str, ...] = ("python", "javascript", "typescript", "tsx", "go", "rust")
"""Language names accepted by :func:`parse` (``tsx`` is TypeScript with JSX)."""

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
}

_LSP_IDS: dict[str, str] = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "go": "go",
    "rust": "rust",
}

# (wheel module, function returning the grammar) for each language.
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
}

C_LIKE: frozenset[str] = frozenset({"javascript", "typescript", "tsx", "go", "rust"})


class UnsupportedLanguageError(CodegenError):
    """A language name that has no tree-sitter grammar here."""


def language_for_path(path: str | PurePath) -> str | None:
    """The language of a file from its extension, or ``None`` when unsupported."""
    return _EXTENSIONS.get(PurePath(path).suffix.lower())


def language_for_id(lsp_language_id: str) -> str | None:
    """The language for an LSP ``languageId`` (e.g. ``typescriptreact`` -> ``tsx``)."""
    return _LSP_IDS.get(lsp_language_id.lower())


@cache
def get_language(language: str) -> tree_sitter.Language:
    """The cached tree-sitter ``Language`` for one of :data:`LANGUAGES`."""
    module_name, function_name = _GRAMMARS.get(language, (None, None))
    if module_name is not None and function_name is not None:
        grammar = importlib.import_module(module_name)
        return tree_sitter.Language(getattr(grammar, function_name)())
    raise UnsupportedLanguageError(
        f"no syntax support for language {language!r}; supported: {', '.join(LANGUAGES)}"
    )


# A Parser holds mutable state, so each thread (LSP worker, executor) gets its own.
_local = threading.local()


def _parser(language: str) -> tree_sitter.Parser:
    parsers: dict[str, tree_sitter.Parser] = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = tree_sitter.Parser(get_language(language))
    return parser


def parse(source: str, language: str, old_tree: tree_sitter.Tree | None = None) -> tree_sitter.Tree:
    """Parse ``source``; pass the edited previous tree as ``old_tree`` to reparse incrementally."""
    data = source.encode("utf-8", errors="surrogatepass")
    if old_tree is None:
        return _parser(language).parse(data)
    return _parser(language).parse(data, old_tree)


@lru_cache(maxsize=16)
def cached_parse(source: str, language: str) -> tree_sitter.Tree:
    """Like :func:`parse`, memoised for read-only queries made on every keystroke.

    Never ``edit`` the returned tree: it is shared between callers.
    """
    return parse(source, language)


class TextIndex:
    """Converts between ``str`` offsets, UTF-8 byte offsets and tree-sitter points."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.data = source.encode("utf-8", errors="surrogatepass")
        self.ascii = len(self.data) == len(source)
        self._char_starts: np.ndarray | None = None
        self.memo: dict[str, Any] = {}
        """Per-text facts that helpers compute once (e.g. the indentation unit)."""
        self.line_starts = [0]
        pos = source.find("\n")
        while pos != -1:
            self.line_starts.append(pos + 1)
            pos = source.find("\n", pos + 1)

    def _starts(self) -> np.ndarray:
        # Byte offset at which each character starts (plus the total), built only for
        # non-ASCII text; vectorised because it runs on whole files.
        if self._char_starts is None:
            raw = self.source.encode("utf-32-le", errors="surrogatepass")
            cps = np.frombuffer(raw, dtype=np.uint32)
            sizes = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
            self._char_starts = np.concatenate(([0], np.cumsum(sizes)))
        return self._char_starts

    def char_offset(self, byte_offset: int) -> int:
        """The ``str`` index of a byte offset (a byte inside a character maps to its start)."""
        if self.ascii:
            return byte_offset
        return int(np.searchsorted(self._starts(), byte_offset, side="right")) - 1

    def byte_offset(self, char_offset: int) -> int:
        """The UTF-8 byte offset of a ``str`` index."""
        return char_offset if self.ascii else int(self._starts()[char_offset])

    def line_col(self, char_offset: int) -> tuple[int, int]:
        """0-based (line, ``str`` column) of a ``str`` offset."""
        line = bisect_left(self.line_starts, char_offset + 1) - 1
        return line, char_offset - self.line_starts[line]

    def offset(self, line: int, col: int) -> int:
        """``str`` offset of a 0-based (line, ``str`` column), clamped to the text."""
        if line >= len(self.line_starts):
            return len(self.source)
        start = self.line_starts[max(line, 0)]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else None
        limit = len(self.source) if end is None else end
        return min(start + max(col, 0), limit)

    def point(self, char_offset: int) -> tuple[int, int]:
        """The tree-sitter point (row, byte column) of a ``str`` offset."""
        line, _ = self.line_col(char_offset)
        line_byte = self.byte_offset(self.line_starts[line])
        return line, self.byte_offset(char_offset) - line_byte

    def line_text(self, line: int) -> str:
        """Line ``line`` without its newline ('' past the end)."""
        if line < 0 or line >= len(self.line_starts):
            return ""
        end = self.source.find("\n", self.line_starts[line])
        return self.source[self.line_starts[line] : end if end != -1 else None]

    def node_start(self, node: tree_sitter.Node) -> int:
        """``str`` offset where ``node`` starts."""
        return self.char_offset(node.start_byte)

    def node_end(self, node: tree_sitter.Node) -> int:
        """``str`` offset where ``node`` ends (exclusive)."""
        return self.char_offset(node.end_byte)

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.source[self.node_start(node) : self.node_end(node)]


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


def _byte_and_point(text: str, offset: int) -> tuple[int, tuple[int, int]]:
    # Only the text before the offset is encoded: cheap enough for every keystroke.
    line_start = text.rfind("\n", 0, offset) + 1
    row = text.count("\n", 0, offset)
    return _utf8_len(text[:offset]), (row, _utf8_len(text[line_start:offset]))


class SyntaxDocument:
    """A text and its tree, kept in sync by incremental reparsing.

    ``apply_edit`` describes each change to tree-sitter in bytes and points, so
    the reparse reuses every unchanged subtree.
    """

    def __init__(self, text: str, language: str) -> None:
        self.language = language
        self.text = text
        self.tree = parse(text, language)

    def apply_edit(self, start: int, end: int, new_text: str) -> tree_sitter.Tree:
        """Replace ``text[start:end]`` (``str`` offsets) by ``new_text`` and reparse."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"edit range {start}..{end} is outside the text (0..{len(self.text)})")
        new_source = self.text[:start] + new_text + self.text[end:]
        start_byte, start_point = _byte_and_point(self.text, start)
        old_end_byte, old_end_point = _byte_and_point(self.text, end)
        new_end_byte, new_end_point = _byte_and_point(new_source, start + len(new_text))
        self.tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=new_end_point,
        )
        self.text = new_source
        self.tree = parse(new_source, self.language, self.tree)
        return self.tree
