"""Silence the known, harmless messages third-party libraries print in our command lines.

Each entry names one message a user cannot act on, and why it is harmless; anything
else still shows. :func:`codegen.core.cli_errors.run_cli` installs them, so every
command line (codegen-lsp, codegen-train, codegen-eval and the demo scripts) gets
the same filters; progress bars are untouched.
"""

from __future__ import annotations

import logging
import warnings

KNOWN_WARNINGS: tuple[tuple[type[Warning], str], ...] = (
    # PEFT's prepare_model_for_kbit_training and the Trainer still call transformers'
    # old gradient-checkpointing names; transformers 5 warns that they go away in v6.
    (
        FutureWarning,
        r"`(gradient_checkpointing_enable|gradient_checkpointing_disable|"
        r"is_gradient_checkpointing)` is deprecated",
    ),
)
"""(category, message regex) of warnings to ignore."""

KNOWN_LOG_RECORDS: dict[str, tuple[str, ...]] = {
    # On CPUs with AVX512-BF16 bitsandbytes tries, when imported, to fetch a faster
    # 4-bit kernel from the Hugging Face hub through the `kernels` package; without it
    # (or offline) it logs this and uses the AVX512-BF16 kernel it ships.
    "bitsandbytes.backends.cpu.ops": (
        "Failed to load CPU gemm_4bit_forward from kernels-community",
    ),
}
"""Logger name -> starts of the messages (format strings) to drop from it."""


class _DropKnown(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


def quiet_third_party() -> None:
    """Install the filters for :data:`KNOWN_WARNINGS` and :data:`KNOWN_LOG_RECORDS`
    (idempotent; call it before the libraries are imported)."""
    for category, message in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name, prefixes in KNOWN_LOG_RECORDS.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropKnown) for f in logger.filters):
            logger.addFilter(_DropKnown(prefixes))
