"""The Neovim plugin end to end: headless Neovim 0.12, the plugin, the real codegen-lsp.

Each test types into a buffer as a user would (keys sent over Neovim's RPC socket),
waits for the ghost text, accepts it and checks the buffer.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

NVIM_TESTS = Path(__file__).parent / "nvim"
PLUGIN = Path(__file__).resolve().parents[2] / "editors" / "nvim"


def ready(session, timeout: float = 30) -> dict:
    """Waits until the server attached to the buffer has its model loaded."""
    return session.wait(
        lambda: (s := session.lua_json("codegen_e2e.status()")).get("state") == "ready" and s,
        timeout,
        "the codegen server did not attach or load its model",
    )


@pytest.fixture
def python_file(tmp_path: Path) -> Path:
    path = tmp_path / "main.py"
    path.write_text("def answer():\n    \n")
    return path


@pytest.mark.parametrize("inline", ["native", "fallback"])
def test_ghost_text_is_shown_and_accepted_with_tab(start_nvim, python_file, inline) -> None:
    nvim = start_nvim(python_file, inline=inline)
    assert ready(nvim)["model"] == "fake"
    nvim.send("2GAret")
    ghost = nvim.wait(lambda: nvim.ghost(), 15, "no ghost text")
    assert ghost == "urn 42"
    nvim.send("<Tab>")
    nvim.wait(
        lambda: nvim.buffer() == "def answer():\n    return 42",
        5,
        f"Tab did not accept: {nvim.buffer()!r}",
    )


@pytest.mark.parametrize("inline", ["native", "fallback"])
def test_accept_word_then_dismiss(start_nvim, python_file, inline) -> None:
    nvim = start_nvim(python_file, inline=inline)
    ready(nvim)
    nvim.send("2GAret")
    nvim.wait(lambda: nvim.ghost(), 15, "no ghost text")
    nvim.send("<M-Right>")
    nvim.wait(
        lambda: nvim.buffer() == "def answer():\n    return",
        5,
        f"accept word: {nvim.buffer()!r}",
    )
    # Accepting asks again; the next suggestion is dismissed with <C-]>.
    nvim.wait(lambda: nvim.ghost(), 15, "no ghost text after accept")
    nvim.send("<C-]>")
    nvim.wait(lambda: nvim.ghost() == "", 5, "<C-]> did not dismiss")
    # Without a suggestion, Tab is a Tab again.
    nvim.send("<Tab>")
    nvim.wait(
        lambda: re.fullmatch(r"def answer\(\):\n    return[ \t]+", nvim.buffer()),
        5,
        f"Tab without suggestion: {nvim.buffer()!r}",
    )


def test_ghost_text_from_a_tiny_real_model(start_nvim, python_file, answer_42_model_dir) -> None:
    nvim = start_nvim(python_file, model=str(answer_42_model_dir))
    status = ready(nvim, timeout=120)
    assert status["device"] == "cpu" and status["fimFormat"] == "tiny"
    nvim.send("2GAreturn ")
    ghost = nvim.wait(nvim.ghost, 60, "no ghost text from the tiny model")
    assert ghost == "42"
    nvim.send("<Tab>")
    nvim.wait(
        lambda: nvim.buffer() == "def answer():\n    return 42",
        5,
        f"Tab did not accept: {nvim.buffer()!r}",
    )


def test_checkhealth_reports_server_and_model(start_nvim, python_file, codegen_lsp) -> None:
    nvim = start_nvim(python_file)
    ready(nvim)
    nvim.send(":checkhealth codegen<CR>")
    report = nvim.wait(
        lambda: (t := nvim.buffer()) and "model loaded" in t and t,
        15,
        "no health report",
    )
    assert f"server: {codegen_lsp} --stdio" in report
    assert "model loaded: fake on " in report
    assert "next-edit suggestions: on (normal mode: <Tab> jumps to the edit" in report
    assert "the server offers next edits (textDocument/copilotInlineEdit)" in report
    assert "codegen is not installed" not in report and "ERROR" not in report


def test_status_command_shows_the_model(start_nvim, python_file) -> None:
    nvim = start_nvim(python_file)
    ready(nvim)
    nvim.send(":CodegenStatus<CR>")
    message = nvim.wait(lambda: nvim.expr("execute('messages')"), 5, "no message")
    assert "codegen: ready" in message and "fake" in message


def test_docstring_command_applies_the_servers_code_action(start_nvim, tmp_path) -> None:
    code = tmp_path / "calc.py"
    code.write_text("def ratio(a, b):\n    return a / b\n")
    nvim = start_nvim(code, model="fake:Divide a by b.")
    ready(nvim)
    nvim.send("1G:CodegenDocstring<CR>")
    text = nvim.wait(lambda: '"""' in (b := nvim.buffer()) and b, 15, "no docstring written")
    assert text.startswith('def ratio(a, b):\n    """Divide a by b.')
    assert text.endswith('    """\n    return a / b')


def test_explain_puts_traceback_frames_in_the_quickfix_list(start_nvim, tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("")  # the workspace root
    code = tmp_path / "calc.py"
    code.write_text("def ratio(a, b):\n    return a / b\n")
    traceback = (
        "Traceback (most recent call last):\n"
        f'  File "{code}", line 2, in ratio\n'
        "    return a / b\n"
        "ZeroDivisionError: division by zero\n"
    )
    nvim = start_nvim(code)
    ready(nvim)
    nvim.expr(f"setreg('\"', {json.dumps(traceback)})")
    nvim.send(":CodegenExplain<CR>")
    items = nvim.wait(lambda: json.loads(nvim.expr("json_encode(getqflist())")), 15, "no quickfix")
    assert [(i["lnum"], "ZeroDivisionError" in i["text"]) for i in items] == [(2, True)]
    assert nvim.expr("bufname(getqflist()[0].bufnr)") == str(code)


def test_lua_helpers(nvim: str) -> None:
    done = subprocess.run(
        [nvim, "--clean", "--headless", "-l", str(NVIM_TESTS / "unit_spec.lua"), str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1])["passed"] > 0
