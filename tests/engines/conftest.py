"""Real serving engines on loopback, started by the tests themselves.

Session fixtures (stable API, used by tests/engines/llamacpp/):

- ``tiny_gguf``: a tiny random HF model and a LoRA adapter with non-zero weights,
  exported to GGUF (f32) by ``codegen-train export --format gguf``'s code path.
  Attributes: ``hf_dir``, ``adapter_dir``, ``model_gguf``, ``lora_gguf``.
- ``llama_server``: llama.cpp's server from the PyPI wheel ``xllamacpp`` (in a child
  process), serving ``tiny_gguf`` on 127.0.0.1 with the LoRA loaded at scale 0 and
  ``LLAMA_SERVER_SLOTS`` parallel slots. Attributes: ``url`` (``http://127.0.0.1:PORT/v1``),
  ``base`` (``http://127.0.0.1:PORT``), ``hf_dir``, ``adapter_dir``, ``lora_name`` (the
  LoRA's file name, as ``GET /lora-adapters`` lists it), ``lora_id``, ``model_gguf``,
  ``lora_gguf``, ``log`` (the server's log file), and ``post``/``get`` helpers.
- ``export_to_gguf``: ``export_to_gguf(hf_dir) -> GgufExport`` for another HF model.
- ``start_llama_server``: ``start_llama_server(GgufExport) -> LlamaServer`` for another
  exported model (stopped at the end of the session).

Nothing here imports heavy modules at import time: the vLLM tier loads this file too,
from its own virtual environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

LLAMA_SERVER_SLOTS = 4
LLAMA_SERVER_CTX_PER_SLOT = 2048
LLAMA_SERVER_THREADS = 2
STARTUP_TIMEOUT_S = 60.0
_CHILD = Path(__file__).with_name("llama_server_process.py")


def _shared_conftest():
    """tests/conftest.py as a module (its ``make_lora_adapter`` is not a fixture)."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("codegen_tests_shared_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class GgufExport:
    """A tiny HF model, its LoRA adapter, and both exported to GGUF."""

    hf_dir: Path
    adapter_dir: Path
    model_gguf: Path
    lora_gguf: Path


@dataclass(frozen=True)
class LlamaServer:
    """A running llama.cpp server (see the module docstring)."""

    url: str
    base: str
    hf_dir: Path
    adapter_dir: Path
    lora_name: str
    lora_id: int
    model_gguf: Path
    lora_gguf: Path
    log: Path

    def post(self, path: str, body: dict, timeout: float = 60.0) -> dict:
        """POST JSON to ``base + path``; the decoded JSON answer."""
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())

    def get(self, path: str, timeout: float = 30.0) -> dict | list:
        """GET ``base + path``; the decoded JSON answer."""
        with urllib.request.urlopen(self.base + path, timeout=timeout) as answer:
            return json.loads(answer.read())


@pytest.fixture(scope="session")
def export_to_gguf(tmp_path_factory: pytest.TempPathFactory):
    """``export_to_gguf(hf_dir) -> GgufExport``: a LoRA with non-zero weights for the model
    in ``hf_dir``, and both exported to f32 GGUF by ``codegen-train export``'s code."""
    from codegen.core.errors import ConfigError
    from codegen.training.export import export_gguf, find_llama_cpp

    try:
        find_llama_cpp(None)
    except ConfigError as err:
        pytest.skip(f"no llama.cpp converters: {err}")
    make_lora_adapter = _shared_conftest().make_lora_adapter

    def export(hf_dir: Path) -> GgufExport:
        root = tmp_path_factory.mktemp("gguf")
        adapter_dir = make_lora_adapter(hf_dir, root / "adapter", seed=0)
        out = root / "export"
        meta = export_gguf(str(hf_dir), str(out), adapter=str(adapter_dir), gguf_type="f32")
        return GgufExport(hf_dir, adapter_dir, out / meta["model_gguf"], out / meta["lora_gguf"])

    return export


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory, export_to_gguf) -> GgufExport:
    from codegen.core.builtin.tiny import make_random_model

    return export_to_gguf(make_random_model(tmp_path_factory.mktemp("tiny-hf") / "hf", seed=0))


def _read_address(child: subprocess.Popen, log: Path) -> str:
    assert child.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([child.stdout], [], [], 0.5)
        if ready:
            line = child.stdout.readline()
            if line:
                return json.loads(line)["address"]
        if child.poll() is not None:
            break
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"llama.cpp server did not start (exit {child.poll()}); log:\n{tail}")


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"llama.cpp server at {base} never became healthy")
        time.sleep(0.1)


@contextmanager
def running_llama_server(
    model_gguf: Path, lora_gguf: Path, hf_dir: Path, adapter_dir: Path, log: Path
) -> Iterator[LlamaServer]:
    """Start llama.cpp's server (xllamacpp) in a child process; stop it on exit."""
    config = {
        "model": str(model_gguf),
        "lora": [str(lora_gguf)],
        "parallel": LLAMA_SERVER_SLOTS,
        "ctx_per_slot": LLAMA_SERVER_CTX_PER_SLOT,
        "threads": LLAMA_SERVER_THREADS,
    }
    with log.open("w") as log_file:
        child = subprocess.Popen(
            [sys.executable, str(_CHILD), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    try:
        base = _read_address(child, log)
        _wait_healthy(base)
        yield LlamaServer(
            url=base + "/v1",
            base=base,
            hf_dir=hf_dir,
            adapter_dir=adapter_dir,
            lora_name=lora_gguf.name,
            lora_id=0,
            model_gguf=model_gguf,
            lora_gguf=lora_gguf,
            log=log,
        )
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.fixture(scope="session")
def start_llama_server(tmp_path_factory: pytest.TempPathFactory):
    """``start_llama_server(GgufExport) -> LlamaServer`` for other models than ``tiny_gguf``;
    every server started is stopped at the end of the session."""
    pytest.importorskip("xllamacpp", reason="xllamacpp (llama.cpp server wheel) not installed")
    with ExitStack() as stack:

        def start(export: GgufExport) -> LlamaServer:
            log = tmp_path_factory.mktemp("llama-server") / "server.log"
            return stack.enter_context(
                running_llama_server(
                    export.model_gguf, export.lora_gguf, export.hf_dir, export.adapter_dir, log
                )
            )

        yield start


@pytest.fixture(scope="session")
def llama_server(tiny_gguf: GgufExport, start_llama_server) -> LlamaServer:
    return start_llama_server(tiny_gguf)
