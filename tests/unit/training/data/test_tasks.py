"""Task builders: FIM, docstring, synthetic fixes, commit fixes."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from codegen.core.fim import get_fim_format
from codegen.core.syntax import node_spans
from codegen.training.data.example import clip_prefix, clip_suffix, line_windows
from codegen.training.data.tasks.commits import (
    fix_context,
    iter_commit_fixes,
    parse_single_hunk_diff,
)
from codegen.training.data.tasks.docstring import DocstringConfig, build_docstring_examples
from codegen.training.data.tasks.fim import FimConfig, build_fim_examples, line_hole, syntax_hole
from codegen.training.data.tasks.fix import (
    FixConfig,
    build_fix_examples,
    build_fix_prompt,
    find_bugs,
)

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")

FIXTURE = TESTS / "fixtures" / "sample_repo" / "quillbook"
LEASES = (FIXTURE / "leases.py").read_text()
TINY = get_fim_format("tiny")


def test_windows_cover_the_text_on_line_boundaries() -> None:
    windows = line_windows(LEASES, 500)
    assert windows[0][0] == 0 and windows[-1][1] == len(LEASES)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert all(LEASES[end - 1] == "\n" for _, end in windows)
    assert all(end - start <= 500 for start, end in windows)
    assert clip_prefix("a\nbb\nccc", 9, 5) == "ccc"
    assert clip_suffix("a\nbb\nccc", 0, 5) == "a\nbb\n"


@pytest.mark.parametrize("seed", range(5))
def test_fim_examples_round_trip_to_the_original_window(seed: int) -> None:
    config = FimConfig(window_chars=700, examples_per_window=3, fim_rate=0.8, spm_rate=0.5)
    examples = build_fim_examples(LEASES, "leases.py", "python", TINY, config, random.Random(seed))
    windows = {LEASES[a:b] for a, b in line_windows(LEASES, 700)}
    assert {e.task for e in examples} <= {"fim", "lm"}
    for example in examples:
        assert example.completion.endswith(TINY.eot_token)
        middle = example.completion[: -len(TINY.eot_token)]
        if example.task == "lm":
            assert example.prompt == "" and middle in windows
            continue
        prefix, suffix, _order = TINY.parse_prompt(example.prompt)
        assert middle.strip()
        assert prefix + middle + suffix in windows


def test_fim_rates_and_orders_are_respected() -> None:
    text = LEASES * 8
    config = FimConfig(window_chars=600, examples_per_window=1, fim_rate=1.0, spm_rate=0.0)
    examples = build_fim_examples(text, "x.py", "python", TINY, config, random.Random(0))
    assert examples and all(e.task == "fim" for e in examples)
    assert all(TINY.parse_prompt(e.prompt)[2] == "psm" for e in examples)
    config = FimConfig(window_chars=600, examples_per_window=1, fim_rate=1.0, spm_rate=1.0)
    examples = build_fim_examples(text, "x.py", "python", TINY, config, random.Random(0))
    assert all(TINY.parse_prompt(e.prompt)[2] == "spm" for e in examples)
    config = FimConfig(window_chars=600, examples_per_window=3, fim_rate=0.0)
    examples = build_fim_examples(text, "x.py", "python", TINY, config, random.Random(0))
    assert len(examples) == len(line_windows(text, 600)) and all(e.task == "lm" for e in examples)


def test_line_and_syntax_holes_are_aligned() -> None:
    rng = random.Random(3)
    for _ in range(30):
        a, b = line_hole(LEASES, 0, len(LEASES), rng) or (0, 0)
        assert b == len(LEASES) or LEASES[b] == "\n" or LEASES[b - 1] == "\n"
    spans = node_spans(LEASES, "python")
    starts_ends = {(s.start, s.end) for s in spans}
    for _ in range(30):
        hole = syntax_hole(spans, 0, len(LEASES), 200, rng)
        assert hole in starts_ends and hole[1] - hole[0] <= 200


def test_docstring_examples_are_fim_of_the_docstring_in_the_served_order() -> None:
    examples = build_docstring_examples(LEASES, "leases.py", "python", TINY, DocstringConfig())
    assert len(examples) == 5
    first = examples[0]
    prefix, suffix, order = TINY.parse_prompt(first.prompt)
    assert order == TINY.default_order == "spm"  # what the server's docstring writer sends
    assert prefix.endswith("def settle_rent(folio: Folio, tenant: str) -> Entry | None:\n    ")
    assert first.completion == '"""Settle the open rent balance of one tenant."""' + TINY.eot_token
    assert suffix.startswith('\n    qb_guard(folio, "settle")')


def test_docstring_length_filters_and_jsdoc() -> None:
    short = 'def f(x):\n    """Tiny."""\n    return x\n'
    assert build_docstring_examples(short, "a.py", "python", TINY, DocstringConfig()) == []
    stub = 'def f(x):\n    """A docstring long enough to pass."""\n'
    assert build_docstring_examples(stub, "a.py", "python", TINY, DocstringConfig()) == []
    js = "/** Adds two numbers together. */\nfunction add(a, b) {\n  return a + b;\n}\n"
    (example,) = build_docstring_examples(js, "a.js", "javascript", TINY, DocstringConfig())
    prefix, suffix, _ = TINY.parse_prompt(example.prompt)
    assert prefix == "" and suffix.startswith("\nfunction add(a, b) {")
    assert example.completion.startswith("/** Adds two numbers together. */")


def test_every_fix_kind_is_found() -> None:
    source = (
        "def f(items, limit):\n"
        "    total = 0\n"
        "    for item in items:\n"
        "        if item < limit and True:\n"
        "            total += item\n"
        "    return total\n"
    )
    kinds = {bug.kind for bug, _, _ in find_bugs(source, "python")}
    assert kinds == {"operator_swap", "off_by_one", "wrong_variable", "wrong_literal"}


@pytest.mark.parametrize("seed", range(4))
def test_fix_examples_change_exactly_one_token_on_the_answer_line(seed: int) -> None:
    examples = build_fix_examples(
        LEASES, "leases.py", "python", TINY, FixConfig(per_file=3), random.Random(seed)
    )
    assert len(examples) == 3
    for example in examples:
        assert example.task == "fix"
        fixed_line = example.completion.removesuffix("\n" + TINY.eot_token)
        assert fixed_line in LEASES.split("\n")
        code = example.prompt.split("\n", 1)[1].rsplit("# Corrected line:", 1)[0]
        code_lines = code.split("\n")
        original_start = LEASES.split("\n").index(code_lines[0])
        original = LEASES.split("\n")[original_start : original_start + len(code_lines)]
        differing = [(o, c) for o, c in zip(original, code_lines, strict=False) if o != c]
        assert len(differing) == 1
        assert differing[0][0] == fixed_line


def test_fix_prompt_comment_style() -> None:
    assert build_fix_prompt("x = 1", "python").startswith("# Fix the bug")
    assert build_fix_prompt("x := 1", "go").endswith("// Corrected line:\n")


DIFF = """diff --git a/pkg/m.py b/pkg/m.py
index 1..2 100644
--- a/pkg/m.py
+++ b/pkg/m.py
@@ -7 +7 @@ def f(x):
-    return x - 1
+    return x + 1
"""


def test_parse_single_hunk_diff() -> None:
    assert parse_single_hunk_diff(DIFF) == (
        "pkg/m.py",
        6,
        ["    return x - 1"],
        ["    return x + 1"],
    )
    two_files = DIFF + DIFF.replace("pkg/m.py", "pkg/n.py")
    assert parse_single_hunk_diff(two_files) is None
    added_only = DIFF.replace("-    return x - 1\n", "").replace("@@ -7 +7 @@", "@@ -6,0 +7 @@")
    assert parse_single_hunk_diff(added_only) is None
    whitespace = DIFF.replace("x + 1", "x - 1 ")
    assert parse_single_hunk_diff(whitespace) is None


def test_fix_context_prefers_the_enclosing_function() -> None:
    source = "import os\n\n\ndef f(x):\n    y = x\n    return y - 1\n\n\nZ = 3\n"
    assert fix_context(source, "python", 5, 1) == "def f(x):\n    y = x\n    return y - 1\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_commit_fixes_from_a_real_repository(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path), *args],
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    (tmp_path / "m.py").write_text("def f(x):\n    y = x * 2\n    return y - 1\n")
    git("add", "m.py")
    git("commit", "-q", "-m", "first")
    (tmp_path / "m.py").write_text("def f(x):\n    y = x * 2\n    return y + 1\n")
    git("commit", "-q", "-am", "fix sign")
    (tmp_path / "m.py").write_text("def f(x):\n    z = x * 3\n    return z + 1\n\n\nW = 1\n")
    git("commit", "-q", "-am", "too big")
    (fix,) = list(iter_commit_fixes(tmp_path, max_commits=10))
    assert (fix.path, fix.first_line, fix.removed, fix.added) == (
        "m.py",
        2,
        ("    return y - 1",),
        ("    return y + 1",),
    )
    assert fix.before == "def f(x):\n    y = x * 2\n    return y - 1\n"


def test_spm_share_defaults_to_the_served_order() -> None:
    from codegen.core.fim import QWEN
    from codegen.training.data.tasks.fim import DEFAULT_ORDER_SHARE, spm_share

    assert spm_share(FimConfig(), TINY) == DEFAULT_ORDER_SHARE
    assert spm_share(FimConfig(), QWEN) == pytest.approx(1 - DEFAULT_ORDER_SHARE)
    assert spm_share(FimConfig(spm_rate=0.3), TINY) == 0.3


@pytest.mark.parametrize("fmt_name", ["tiny", "qwen"])
def test_held_out_holes_are_line_completions_in_the_served_order(fmt_name: str) -> None:
    from codegen.training.data.tasks.fim import build_eval_fim_examples

    fmt = get_fim_format(fmt_name)
    config = FimConfig(window_chars=400)
    examples = build_eval_fim_examples(LEASES, "leases.py", "python", fmt, config, random.Random(1))
    lines = [line for line in LEASES.splitlines() if line.strip()]
    assert 0.3 * len(lines) < len(examples) <= len(lines)
    at_indent = 0
    for example in examples:
        prefix, suffix, order = fmt.parse_prompt(example.prompt)
        middle = fmt.middle_of(example.completion)
        assert order == fmt.default_order
        assert "\n" not in middle and middle.strip()
        assert prefix + middle + suffix in LEASES  # a real cut of the file
        assert suffix == "" or suffix.startswith("\n")  # the middle ends its line
        assert len(prefix) <= 280 and len(prefix) + len(suffix) <= 400
        line_start = prefix[prefix.rfind("\n") + 1 :]
        at_indent += not line_start.strip()
    assert 0 < at_indent < len(examples)  # some holes start the line, most are mid-line
    again = build_eval_fim_examples(LEASES, "leases.py", "python", fmt, config, random.Random(1))
    assert again == examples
