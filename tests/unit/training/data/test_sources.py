"""Source walking (.gitignore like git/ripgrep, vendored trees), JSONL and saved datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.training.data.sources import DataSourceError, iter_source


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _listing(root: Path) -> dict[str, str | None]:
    return {f.path: f.skip_reason for f in iter_source(root, "python", 10_000)}


def test_nested_gitignores_negations_and_directories(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            ".gitignore": "*.log\n!keep.log\nbuild/\n/secret.py\n",
            "a.py": "x = 1\n",
            "debug.log": "log",
            "keep.log": "kept",
            "secret.py": "ignored at the root only",
            "pkg/secret.py": "not ignored: the pattern is anchored to the root",
            "pkg/.gitignore": "local_*.py\n!local_ok.py\n",
            "pkg/local_settings.py": "x = 2\n",
            "pkg/local_ok.py": "x = 3\n",
            "pkg/sub/local_deep.py": "x = 4\n",
            "pkg/sub/trace.log": "log",
            "other/local_settings.py": "x = 5\n",
            "tools/build/gen.py": "x = 6\n",
        },
    )
    assert _listing(tmp_path) == {
        ".gitignore": None,
        "a.py": None,
        "debug.log": "gitignored",
        "keep.log": None,
        "other/local_settings.py": None,
        "pkg/.gitignore": None,
        "pkg/local_ok.py": None,
        "pkg/local_settings.py": "gitignored",
        "pkg/secret.py": None,
        "pkg/sub/local_deep.py": "gitignored",
        "pkg/sub/trace.log": "gitignored",
        "secret.py": "gitignored",
        "tools/build/": "vendored directory",
    }


def test_ignored_directory_is_reported_once_and_not_entered(tmp_path: Path) -> None:
    _write(tmp_path, {".gitignore": "out/\n", "out/a.py": "x", "out/deep/b.py": "y", "c.py": "z"})
    assert _listing(tmp_path) == {".gitignore": None, "c.py": None, "out/": "gitignored directory"}


def test_vendored_trees_and_git_dir(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "node_modules/x/index.js": "module.exports = 1;\n",
            "src/vendor/lib.go": "package lib\n",
            "third_party/t.py": "x",
            ".venv/lib/site.py": "x",
            "__pycache__/m.pyc": b"\x00",
            ".git/config": "[core]\n",
            ".git/info/exclude": "excluded.py\n",
            "excluded.py": "x",
            "src/main.go": "package main\n",
        },
    )
    assert _listing(tmp_path) == {
        ".venv/": "vendored directory",
        "__pycache__/": "vendored directory",
        "excluded.py": "gitignored",
        "node_modules/": "vendored directory",
        "src/main.go": None,
        "src/vendor/": "vendored directory",
        "third_party/": "vendored directory",
    }


def test_walk_is_sorted_and_reads_bytes(tmp_path: Path) -> None:
    _write(tmp_path, {"b.py": "b", "a/z.py": "z", "a/b.py": "ab"})
    files = list(iter_source(tmp_path, "python", 10_000))
    assert [f.path for f in files] == ["a/b.py", "a/z.py", "b.py"]
    assert files[0].data == b"ab"


def test_too_large_files_are_not_read(tmp_path: Path) -> None:
    _write(tmp_path, {"big.py": "x" * 200})
    (item,) = iter_source(tmp_path, "python", 100)
    assert item.data is None and item.skip_reason is not None and "too large" in item.skip_reason


def test_jsonl_rows(tmp_path: Path) -> None:
    rows = [
        {"text": "x = 1\n", "path": "a/x.py"},
        {"content": "y = 2\n"},
        {"other": 1},
        "not an object",
    ]
    file = tmp_path / "corpus.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    items = list(iter_source(file, "python", 10_000))
    assert [(i.path, i.data, i.skip_reason, i.language_hint) for i in items] == [
        ("a/x.py", b"x = 1\n", None, "python"),
        ("#2", b"y = 2\n", None, "python"),
        ("#3", None, "no text or content field", None),
        ("#4", None, "not a JSON object", None),
        ("#5", None, "invalid JSON", None),
    ]


def test_saved_dataset(tmp_path: Path) -> None:
    import datasets

    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list([{"content": "a = 1\n", "path": "m.py"}]),
            "test": datasets.Dataset.from_list([{"content": "b = 2\n", "path": ""}]),
        }
    ).save_to_disk(str(tmp_path / "ds"))
    items = list(iter_source(tmp_path / "ds", "go", 10_000))
    assert [(i.path, i.data, i.language_hint) for i in items] == [
        ("test#0", b"b = 2\n", "go"),
        ("m.py", b"a = 1\n", "go"),
    ]


def test_missing_source_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        list(iter_source(tmp_path / "nope", "python", 100))
