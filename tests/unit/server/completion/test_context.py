"""Context windows under a token budget, snippets from other files, prompts."""

from __future__ import annotations

from codegen.core.fim import QWEN, TINY
from codegen.server.completion.context import build_context
from codegen.server.completion.prompt import build_prompt
from codegen.server.completion.should_complete import AUTOMATIC, INVOKED, should_complete
from codegen.server.completion.snippets import OpenDocument, SnippetIndex, find_snippets, jaccard
from codegen.server.completion.syntax_mode import completion_mode, heuristic_mode
from codegen.server.lsp.positions import split_lines


def count(text: str) -> int:
    return len(text.split()) + text.count("\n")


def test_context_respects_budget_and_ratio():
    lines = split_lines("".join(f"value_{i} = compute({i})\r\n" for i in range(3000)))
    window = build_context(lines, 1500, 5, count, max_tokens=300, prefix_ratio=0.7)
    assert count(window.prefix) <= 210
    assert count(window.suffix) <= 90
    assert window.prefix.endswith("value_1499 = compute(1499)\nvalue")
    assert window.suffix.startswith("_1500 = compute(1500)\nvalue_1501")
    assert "\r" not in window.prefix + window.suffix
    assert window.first_line < 1500


def test_context_small_file_is_whole():
    lines = split_lines("a = 1\nb = \nc = 3\n")
    window = build_context(lines, 1, 4, count)
    assert window.prefix == "a = 1\nb = "
    assert window.suffix == "\nc = 3\n"
    assert window.first_line == 0


def test_snippets_pick_the_similar_window_within_budget():
    other = split_lines(
        "".join(f"unrelated_{i} = {i}\n" for i in range(40))
        + "def load_user(user_id, database):\n    return database.fetch_user(user_id)\n"
        + "".join(f"noise_{i} = {i}\n" for i in range(40))
    )
    docs = [OpenDocument("file:///o.py", "o.py", 1, other)]
    index = SnippetIndex()
    query = "def save_user(user_id, database):\n    user = database.fetch_user(user_id)"
    found = find_snippets(index, query, docs, count, max_tokens=200, window_lines=8)
    assert found and "fetch_user" in found[0].text
    assert found[0].path == "o.py"
    assert find_snippets(index, query, docs, count, max_tokens=0) == []
    assert jaccard(frozenset({"abc"}), frozenset()) == 0.0


def test_prompt_puts_snippets_before_the_fim_prompt():
    from codegen.server.completion.snippets import Snippet

    snip = Snippet("util.py", 0, "def helper():\n    pass", 0.5)
    plain = build_prompt(TINY, "x = ", "\n", [], "a.py", "python")
    assert plain == TINY.build_prompt("x = ", "\n")
    commented = build_prompt(TINY, "x = ", "\n", [snip], "a.py", "python")
    prefix, suffix, _ = TINY.parse_prompt(commented)
    assert prefix.startswith("# Path: util.py\n# def helper():") and prefix.endswith("x = ")
    repo = build_prompt(QWEN, "x = ", "\n", [snip], "a.py", "python")
    assert repo.startswith("<|file_sep|>util.py\ndef helper()")
    assert repo.endswith(QWEN.build_prompt("x = ", "\n"))


def test_should_complete_is_strict_for_automatic_triggers():
    assert should_complete("single", "x = ", "", AUTOMATIC) == "single"
    assert should_complete("single", "foo(", ")", AUTOMATIC) == "single"
    assert should_complete("single", "x = ", " + y", AUTOMATIC) == "none"
    assert should_complete("none", "pri", "nt", AUTOMATIC) == "none"
    assert should_complete("none", "pri", "nt", INVOKED) == "single"
    assert should_complete("multi", "", "", INVOKED) == "multi"


def test_completion_mode_tree_sitter_and_heuristic():
    lines = split_lines("def f(x):\n    \n")
    assert completion_mode(lines, 1, 4, "python") == "multi"
    lines = split_lines("y = pri\n")
    assert completion_mode(lines, 0, 5, "python") == "none"
    assert heuristic_mode("if x {", "", "") == "multi"
    assert heuristic_mode("a = ", "", "") == "single"
    assert heuristic_mode("", "", "for (;;) {") == "multi"
