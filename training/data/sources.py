"""Input sources: folders and git repositories, JSONL files, HF datasets on disk.

Folders are walked in sorted order. ``.gitignore`` files apply to their own
subtree wherever they are (later, deeper patterns win, ``!`` re-includes), as
git and ripgrep do; an ignored or vendored directory is not entered and is
reported once. Every document yields one :class:`InputFile`, so the manifest
can list each of them with its fate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from codegen.core.errors import CodegenError

VENDORED_DIRS = frozenset(
    {
        "node_modules",
        "vendor",
        "third_party",
        "third-party",
        "venv",
        ".venv",
        "dist",
        "build",
        "__pycache__",
        "site-packages",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "bower_components",
    }
)
_SILENT_DIRS = frozenset({".git", ".hg", ".svn"})


class DataSourceError(CodegenError):
    """A ``--source`` that does not exist or cannot be read."""


@dataclass(frozen=True)
class InputFile:
    """One input document. ``data`` is ``None`` when it was skipped before reading."""

    source: str
    path: str
    """Relative to its source, with ``/`` separators (``dir/`` for a skipped directory)."""
    data: bytes | None
    skip_reason: str | None = None
    language_hint: str | None = None
    """Language to assume when ``path`` has no known extension (rows of JSONL/HF sources)."""


@dataclass(frozen=True)
class _Ignore:
    base: str  # directory of the .gitignore, relative, "" or "dir/"
    spec: pathspec.GitIgnoreSpec


def _load_ignore(file: Path, base: str) -> _Ignore | None:
    try:
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _Ignore(base, pathspec.GitIgnoreSpec.from_lines(lines))


def is_ignored(rules: list[_Ignore], rel_path: str, is_dir: bool) -> bool:
    """Whether ``rel_path`` is ignored by ``rules`` (outermost first; the deepest match wins)."""
    decision = False
    for rule in rules:
        if not rel_path.startswith(rule.base):
            continue
        sub = rel_path[len(rule.base) :] + ("/" if is_dir else "")
        result = rule.spec.check_file(sub)
        if result.include is not None:
            decision = result.include
    return decision


def walk_folder(root: Path, label: str, max_bytes: int) -> Iterator[InputFile]:
    """Files under ``root`` in sorted order, honouring ``.gitignore`` and skipping vendored trees."""
    rules: list[_Ignore] = []
    exclude = root / ".git" / "info" / "exclude"
    if exclude.is_file():
        rule = _load_ignore(exclude, "")
        if rule:
            rules.append(rule)
    yield from _walk(root, "", rules, label, max_bytes)


def _walk(
    folder: Path, rel: str, rules: list[_Ignore], label: str, max_bytes: int
) -> Iterator[InputFile]:
    gitignore = folder / ".gitignore"
    if gitignore.is_file():
        rule = _load_ignore(gitignore, rel)
        if rule:
            rules = [*rules, rule]
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        yield InputFile(label, rel or "./", None, f"unreadable directory ({err.strerror})")
        return
    for entry in entries:
        path = rel + entry.name
        if entry.is_symlink():
            yield InputFile(label, path, None, "symlink")
        elif entry.is_dir():
            if entry.name in _SILENT_DIRS:
                continue
            if entry.name in VENDORED_DIRS:
                yield InputFile(label, path + "/", None, "vendored directory")
            elif is_ignored(rules, path, is_dir=True):
                yield InputFile(label, path + "/", None, "gitignored directory")
            else:
                yield from _walk(Path(entry.path), path + "/", rules, label, max_bytes)
        elif entry.is_file():
            if is_ignored(rules, path, is_dir=False):
                yield InputFile(label, path, None, "gitignored")
                continue
            size = entry.stat().st_size
            if size > max_bytes:
                yield InputFile(label, path, None, f"too large ({size} bytes > {max_bytes})")
                continue
            try:
                yield InputFile(label, path, Path(entry.path).read_bytes())
            except OSError as err:
                yield InputFile(label, path, None, f"unreadable ({err.strerror})")


def _row_document(label: str, row: object, fallback_path: str, hint: str) -> InputFile:
    if not isinstance(row, dict):
        return InputFile(label, fallback_path, None, "not a JSON object")
    text = row.get("text", row.get("content"))
    path = row.get("path") or row.get("max_stars_repo_path")
    path = str(path) if path else fallback_path
    if not isinstance(text, str):
        return InputFile(label, path, None, "no text or content field")
    return InputFile(label, path, text.encode("utf-8", errors="surrogatepass"), None, hint)


def iter_jsonl(file: Path, label: str, default_language: str) -> Iterator[InputFile]:
    """One document per line with a ``text`` or ``content`` field (``path`` optional)."""
    with file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fallback = f"#{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                yield InputFile(label, fallback, None, "invalid JSON")
                continue
            yield _row_document(label, row, fallback, default_language)


def is_hf_dataset_dir(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()


def iter_hf_dataset(folder: Path, label: str, default_language: str) -> Iterator[InputFile]:
    """Rows of a dataset saved with ``save_to_disk`` (every split of a ``DatasetDict``)."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as err:  # datasets raises many kinds for a broken folder
        raise DataSourceError(f"cannot load the dataset in {folder}: {err}") from err
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
    for split, dataset in sorted(splits, key=lambda item: item[0]):
        prefix = f"{split}#" if split else "#"
        for number, row in enumerate(dataset):
            yield _row_document(label, row, f"{prefix}{number}", default_language)


def is_git_repository(folder: Path) -> bool:
    return (folder / ".git").exists()


def iter_source(source: Path, default_language: str, max_bytes: int) -> Iterator[InputFile]:
    """Documents of one ``--source``: a folder, a git repository, a JSONL file or an HF dataset."""
    label = str(source)
    if not source.exists():
        raise DataSourceError(
            f"source {source} does not exist; pass a folder, a .jsonl file or a saved dataset"
        )
    if source.is_dir():
        if is_hf_dataset_dir(source):
            yield from iter_hf_dataset(source, label, default_language)
        else:
            yield from walk_folder(source, label, max_bytes)
    elif source.suffix == ".jsonl":
        yield from iter_jsonl(source, label, default_language)
    else:
        yield InputFile(label, source.name, source.read_bytes())
