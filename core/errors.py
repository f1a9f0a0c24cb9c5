"""One error hierarchy for codegen.

User mistakes raise a subclass of :class:`CodegenError` whose message is one
clear line saying what to do. Command-line entry points turn these into that
line on stderr and exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class CodegenError(Exception):
    """A problem the user can fix; ``str(err)`` is the one line to show them."""

    exit_code = 2


class ConfigError(CodegenError):
    """An invalid option or setting."""


class ModelLoadError(CodegenError):
    """The model or tokenizer could not be loaded (missing path, wrong kind, offline)."""


class AdapterError(CodegenError):
    """An adapter is missing, corrupt, or was trained for another base model."""


class FimFormatError(CodegenError):
    """The tokenizer does not support the requested fill-in-the-middle format."""


class GenerationCancelled(CodegenError):
    """Generation was stopped by its cancellation token."""
