"""Known third-party noise is dropped, exactly; everything else still shows."""

from __future__ import annotations

import logging
import warnings

import pytest

from codegen.core.cli_errors import run_cli
from codegen.core.quiet import quiet_third_party

BNB = "bitsandbytes.backends.cpu.ops"


@pytest.fixture
def quiet():
    logger = logging.getLogger(BNB)
    before = list(logger.filters)
    with warnings.catch_warnings():
        quiet_third_party()
        quiet_third_party()  # idempotent
        yield
    logger.filters[:] = before


def test_the_known_warnings_are_ignored_and_others_still_show(quiet) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_third_party()  # installed filters go first, ahead of "default"
        for name in ("gradient_checkpointing_enable", "is_gradient_checkpointing", "other_thing"):
            message = f"`{name}` is deprecated and will be removed in v6."
            warnings.warn(message, FutureWarning, stacklevel=1)
        warnings.warn("`gradient_checkpointing_enable` is deprecated", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == [
        "`other_thing` is deprecated and will be removed in v6.",
        "`gradient_checkpointing_enable` is deprecated",
    ]


def test_the_bitsandbytes_kernel_hub_message_is_dropped(quiet, caplog) -> None:
    logger = logging.getLogger(BNB)
    assert sum(1 for f in logger.filters if type(f).__name__ == "_DropKnown") == 1
    with caplog.at_level(logging.WARNING, logger=BNB):
        logger.warning(
            "Failed to load CPU gemm_4bit_forward from kernels-community: %s. Please make "
            "sure you already `pip install kernels` and the kernels >= 0.11.1",
            ImportError("No module named 'kernels'"),
        )
        logger.warning("Some other bitsandbytes warning")
    assert [r.getMessage() for r in caplog.records] == ["Some other bitsandbytes warning"]


def test_run_cli_installs_the_filters() -> None:
    logger = logging.getLogger(BNB)
    before = list(logger.filters)
    try:
        with warnings.catch_warnings():
            assert run_cli(lambda: 0, "prog") == 0
            assert any(type(f).__name__ == "_DropKnown" for f in logger.filters)
    finally:
        logger.filters[:] = before
