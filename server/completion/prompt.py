"""Assemble the model prompt: snippets from other files, then the FIM prompt.

The FIM layout itself comes from :mod:`codegen.core.fim`, the one definition
shared with training and eval. Snippets go before it with the family's file
separator token when it has one (repository-level format), otherwise as
comments in the file's language at the top of the prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from codegen.core.fim import FimFormat

from .snippets import Snippet

_HASH_COMMENT = {"python", "ruby", "shellscript", "bash", "sh", "yaml", "toml", "perl", "r"}
_DASH_COMMENT = {"lua", "sql", "haskell"}
# Families whose models were trained with file separators between files.
_FILE_SEP_FAMILIES = {"qwen", "starcoder"}


def comment_marker(language_id: str) -> str:
    if language_id in _HASH_COMMENT:
        return "#"
    if language_id in _DASH_COMMENT:
        return "--"
    return "//"


def snippets_as_comments(snippets: Sequence[Snippet], language_id: str) -> str:
    mark = comment_marker(language_id)
    blocks = []
    for snip in snippets:
        body = "\n".join(f"{mark} {line}".rstrip() for line in snip.text.split("\n"))
        blocks.append(f"{mark} Path: {snip.path}\n{body}\n")
    return "".join(blocks)


def build_prompt(
    fim: FimFormat,
    prefix: str,
    suffix: str,
    snippets: Sequence[Snippet] = (),
    path: str = "",
    language_id: str = "",
    order: str | None = None,
) -> str:
    """The full prompt after which the model writes the middle (``order`` None: the
    format's own :attr:`~codegen.core.fim.FimFormat.default_order`)."""
    if not snippets:
        return fim.build_prompt(prefix, suffix, order)
    if fim.file_sep_token and fim.name in _FILE_SEP_FAMILIES:
        sep = fim.file_sep_token
        files = "".join(f"{sep}{snip.path}\n{snip.text}\n" for snip in snippets)
        return f"{files}{sep}{path}\n" + fim.build_prompt(prefix, suffix, order)
    return fim.build_prompt(snippets_as_comments(snippets, language_id) + prefix, suffix, order)
