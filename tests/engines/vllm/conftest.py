"""Fixtures of the vLLM tier: the head-64 model, its adapters and one vLLM server per
session (see :mod:`.harness`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import (
    ADAPTERS,
    ATTACH_PORT_ENV,
    ATTACH_ROOT_ENV,
    EXPORTED,
    MAX_LORA_RANK,
    SERVED_MODEL,
    START_TIMEOUT_S,
    VllmModel,
    VllmServer,
    free_port,
    make_head64_model,
    make_lora,
    stop_server,
    vllm_python,
    wait_until_healthy,
)


def export_peft(base: Path, adapter: Path, out: Path) -> str | None:
    """``codegen-train export --format peft`` of ``adapter``; None, or the CLI's error."""
    proc = subprocess.run(
        [sys.executable, "-m", "codegen.training.cli", "export", "--base", str(base),
         "--adapter", str(adapter), "--format", "peft", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if proc.returncode != 0 or not (out / "adapter_config.json").is_file():
        return f"export failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-500:]}"
    return None


@pytest.fixture(scope="session")
def vllm_model(tmp_path_factory: pytest.TempPathFactory) -> VllmModel:
    """The head-64 base, two adapters made here and ``codegen-train export --format peft``
    of the first (served as ``EXPORTED``), in a temporary folder; or, when
    ``CODEGEN_VLLM_MODEL_ROOT`` names one, the folder an attached server was started on."""
    vllm_python()  # skip before building anything when vLLM is not installed
    attached = os.environ.get(ATTACH_ROOT_ENV)
    root = Path(attached) if attached else tmp_path_factory.mktemp("vllm-model")
    adapters = {name: root / name for name in ADAPTERS}
    exported = root / EXPORTED
    if attached:
        return VllmModel(root / "base", adapters, exported, None)
    base = make_head64_model(root / "base")
    for i, path in enumerate(adapters.values()):
        make_lora(base, path, seed=i + 1)
    error = export_peft(base, adapters[ADAPTERS[0]], exported)
    return VllmModel(base, adapters, exported, error)


def server_command(python: Path, model: VllmModel, port: int) -> list[str]:
    """The command line the tests start vLLM with (the server manual shows the same)."""
    lora_modules = [f"{name}={path}" for name, path in model.adapters.items()]
    if model.export_error is None:
        lora_modules.append(f"{EXPORTED}={model.exported}")
    return [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model.base),
        "--served-model-name", SERVED_MODEL,
        "--dtype", "float32",
        "--enforce-eager",
        "--max-model-len", "2048",
        "--enable-lora",
        "--max-lora-rank", str(MAX_LORA_RANK),
        "--max-loras", str(len(lora_modules)),
        "--lora-modules", *lora_modules,
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip


@pytest.fixture(scope="session")
def vllm_server(
    vllm_model: VllmModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    """vLLM serving the head-64 model and its adapters on 127.0.0.1, started once.

    To iterate on these tests without a 1-5 minute start each run, start the server once
    with the command in a previous run's ``server.log`` folder and set
    ``CODEGEN_VLLM_PORT`` and ``CODEGEN_VLLM_MODEL_ROOT``: the tests attach to it.
    """
    python = vllm_python()
    log = tmp_path_factory.mktemp("vllm-log") / "server.log"
    if os.environ.get(ATTACH_PORT_ENV):
        server = VllmServer("127.0.0.1", int(os.environ[ATTACH_PORT_ENV]), None, log, vllm_model)
        wait_until_healthy(server, 10)
        yield server
        return
    port = free_port()
    command = server_command(python, vllm_model, port)
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        VLLM_NO_USAGE_STATS="1",
        DO_NOT_TRACK="1",
        VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
    )
    env.pop("VIRTUAL_ENV", None)
    start = time.monotonic()
    with log.open("wb") as out:
        out.write((" ".join(command) + "\n").encode())
        out.flush()
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = VllmServer("127.0.0.1", port, process, log, vllm_model)
    try:
        wait_until_healthy(server, START_TIMEOUT_S)
        server.start_seconds = time.monotonic() - start
        print(f"\nvLLM started in {server.start_seconds:.1f} s (log: {log})")
        yield server
    finally:
        stop_server(process)
