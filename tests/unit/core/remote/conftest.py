"""Fixtures: a fake model server per test, and fast client settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codegen.core.remote import ClientSettings

from .fake_server import FakeModelServer

FAST = ClientSettings(timeout_s=5.0, connect_timeout_s=2.0, retries=2, backoff_s=0.02)


@pytest.fixture
def vllm() -> Iterator[FakeModelServer]:
    with FakeModelServer("vllm", models=("base",), loras=("team-a", "team-b")) as server:
        yield server


@pytest.fixture
def llamacpp() -> Iterator[FakeModelServer]:
    with FakeModelServer(
        "llama.cpp", models=("tiny.gguf",), loras=("team-a.gguf", "team-b.gguf")
    ) as server:
        yield server
