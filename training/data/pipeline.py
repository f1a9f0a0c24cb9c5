"""`codegen-train data`: sources -> filtered, redacted, deduplicated, decontaminated examples.

Reads top to bottom as the steps it runs:

1. list every input document of every source, in a fixed order (acceptance logs
   apart: their suggestions are read in step 2b);
2. per document: filters, secret redaction (fail closed), decontamination,
   exact and near deduplication -> one manifest row each;
2b. per suggestion of an acceptance log (``usage_log.py``): its outcome, and for a
   kept one the same redaction, decontamination and deduplication -> one manifest row
   and one gate row each;
3. split the kept files (and the files of kept suggestions) into train/eval by a hash
   of their path;
4. build examples (FIM/LM windows, docstrings, synthetic fixes, commit fixes, and the
   FIM examples of kept suggestions; with ``--tasks next-edit``, the next-edit examples
   of commits, held out by commit, and of accepted next-edit suggestions);
5. redact every example once more, then write dataset, stats, manifest, gate rows and
   the next-edit cases (``next_edit.jsonl``, for ``codegen-eval next-edit``).

Nothing is written before step 5, so a failure never leaves raw text behind.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from codegen.core.fim import FimFormat, get_fim_format
from codegen.core.secrets import Redactor, redact_secrets
from codegen.core.syntax import language_for_path

from .decontam import ContaminationIndex, humaneval_items, jsonl_items
from .dedup import DuplicateIndex
from .example import DEFAULT_TASKS, FILE_TASKS, Example
from .filters import FilterConfig, filter_file
from .output import write_outputs
from .sources import InputFile, is_git_repository, iter_source
from .split import assign_splits, split_score
from .tasks.commits import commit_fix_examples
from .tasks.docstring import DocstringConfig, build_docstring_examples
from .tasks.fim import FimConfig, build_eval_fim_examples, build_fim_examples
from .tasks.fix import FixConfig, build_fix_examples
from .tasks.next_edit import TASK as NEXT_EDIT
from .tasks.next_edit import NextEditConfig, edit_format
from .tasks.next_edit_commits import Hygiene, commit_next_edit_examples
from .usage_log import (
    LogItem,
    LogStats,
    examine_suggestions,
    gate_row,
    is_usage_log,
    log_example,
    manifest_row,
    read_suggestions,
)


@dataclass
class DataConfig:
    """Everything ``codegen-train data`` can be told; defaults match the CLI's."""

    sources: list[Path]
    out: Path
    fim_format: str = "tiny"
    seed: int = 0
    eval_fraction: float = 0.1
    tasks: tuple[str, ...] = DEFAULT_TASKS
    default_language: str = "python"
    filters: FilterConfig = field(default_factory=FilterConfig)
    fim: FimConfig = field(default_factory=FimConfig)
    docstring: DocstringConfig = field(default_factory=DocstringConfig)
    fix: FixConfig = field(default_factory=FixConfig)
    next_edit: NextEditConfig = field(default_factory=NextEditConfig)
    dedup_threshold: float = 0.7
    num_perm: int = 256
    shingle_size: int = 5
    humaneval: bool = True
    decontaminate: list[Path] = field(default_factory=list)
    decontam_ngram: int = 10
    decontam_threshold: float = 0.5
    max_commits: int = 200
    progress: bool = True


@dataclass
class Document:
    source: str
    path: str
    text: str
    language: str
    split: str = "train"


@dataclass
class Stats:
    """Counters that end up in ``stats.json``."""

    files: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    redactions: Counter[str] = field(default_factory=Counter)
    decontamination: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    commit_fixes: Counter[str] = field(default_factory=Counter)
    next_edit: Counter[str] = field(default_factory=Counter)
    examples: dict[str, Counter[str]] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason.split(" (")[0].split(" of ")[0]] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": dict(sorted(self.files.items())),
            "rejected": dict(sorted(self.rejected.items())),
            "redactions": dict(sorted(self.redactions.items())),
            "decontamination": dict(sorted(self.decontamination.items())),
            "duplicates": dict(sorted(self.duplicates.items())),
            "commit_fixes": dict(sorted(self.commit_fixes.items())),
            "next_edit": dict(sorted(self.next_edit.items())),
            "examples": {s: dict(sorted(c.items())) for s, c in sorted(self.examples.items())},
        }


def _key(source: str, path: str) -> str:
    return f"{source}\x00{path}"


def _describe(key: str, source: str) -> str:
    other_source, path = key.split("\x00", 1)
    return path if other_source == source else f"{other_source}:{path}"


def build_contamination_index(config: DataConfig) -> ContaminationIndex:
    items = humaneval_items() if config.humaneval else []
    for path in config.decontaminate:
        items.extend(jsonl_items(path))
    return ContaminationIndex(items, config.decontam_ngram, config.decontam_threshold)


def select_documents(
    files: Iterable[InputFile],
    config: DataConfig,
    contamination: ContaminationIndex,
    stats: Stats,
    redactor: Redactor = redact_secrets,
) -> tuple[list[Document], list[dict[str, Any]]]:
    """The documents worth training on, and one manifest row per input document (input order)."""
    items: list[InputFile] = []
    reasons: list[str | None] = []
    candidates: list[Document | None] = []
    for item in files:
        reason, document = _examine(item, config, contamination, stats, redactor)
        items.append(item)
        reasons.append(reason)
        candidates.append(document)
    _deduplicate(candidates, reasons, config, stats)
    manifest = []
    for item, reason, document in zip(items, reasons, candidates, strict=True):
        stats.files["total"] += 1
        if document is None:
            stats.reject(reason or "rejected")
        else:
            stats.files["accepted"] += 1
        manifest.append(
            {
                "source": item.source,
                "path": item.path,
                "accepted": document is not None,
                "reason": reason,
            }
        )
    return [d for d in candidates if d is not None], manifest


def _deduplicate(
    candidates: list[Document | None], reasons: list[str | None], config: DataConfig, stats: Stats
) -> None:
    """Drop duplicates in place, keeping the shallowest path of each cluster (``a.py`` over
    ``legacy/a.py``) so the kept copy is the canonical one whatever the walk order."""
    dedup = DuplicateIndex(
        config.dedup_threshold, config.num_perm, config.shingle_size, config.seed + 1
    )
    sources = {str(s): n for n, s in enumerate(config.sources)}
    order = sorted(
        (i for i, d in enumerate(candidates) if d is not None),
        key=lambda i: _preference(candidates[i], sources),
    )
    for i in order:
        document = candidates[i]
        assert document is not None
        duplicate = dedup.check(_key(document.source, document.path), document.text)
        if duplicate is not None:
            kind, kept = duplicate
            stats.duplicates[kind] += 1
            reasons[i] = f"{kind} duplicate of {_describe(kept, document.source)}"
            candidates[i] = None


def _preference(document: Document | None, sources: dict[str, int]) -> tuple[int, int, str]:
    assert document is not None
    return sources.get(document.source, len(sources)), document.path.count("/"), document.path


def _examine(
    item: InputFile,
    config: DataConfig,
    contamination: ContaminationIndex,
    stats: Stats,
    redactor: Redactor,
) -> tuple[str | None, Document | None]:
    """Filters, redaction and decontamination of one input: ``(reason, None)`` or ``(None, doc)``."""
    if item.data is None:
        return item.skip_reason or "skipped", None
    language = language_for_path(item.path) or item.language_hint
    text, reason = filter_file(item.path, item.data, config.filters, item.language_hint)
    if text is None or language is None:
        return reason or "unsupported language", None
    try:
        text, found = redactor(text)
    except Exception as err:  # fail closed: a redaction bug must never leak a file
        return f"redaction failed ({type(err).__name__})", None
    stats.redactions.update(found)
    if found:
        stats.files["with_redactions"] += 1
    match = contamination.match(text)
    if match is not None:
        stats.decontamination[match.benchmark] += 1
        return f"contaminated ({match.benchmark} {match.name})", None
    return None, Document(item.source, item.path, text, language)


def document_rng(seed: int, document: Document) -> random.Random:
    """A generator fixed by the document's relative path, so examples depend neither on
    file order nor on where the source folder lives."""
    digest = hashlib.sha256(
        f"{seed}:{document.path}".encode("utf-8", errors="surrogatepass")
    ).hexdigest()
    return random.Random(int(digest[:16], 16))


def build_examples(document: Document, config: DataConfig, fmt: FimFormat) -> list[Example]:
    """All examples of one document for the configured tasks."""
    rng = document_rng(config.seed, document)
    text, path, language = document.text, document.path, document.language
    examples: list[Example] = []
    if "fim" in config.tasks or "lm" in config.tasks:
        fim = config.fim
        held_out = document.split == "eval"
        if held_out and "fim" in config.tasks:
            examples.extend(build_eval_fim_examples(text, path, language, fmt, fim, rng))
        if "fim" not in config.tasks or held_out:
            # Held-out files keep their plain windows as lm rows (for the eval loss).
            fim = FimConfig(**{**fim.__dict__, "fim_rate": 0.0})
        windows = build_fim_examples(text, path, language, fmt, fim, rng)
        examples.extend(e for e in windows if e.task in config.tasks)
    if "docstring" in config.tasks:
        examples.extend(build_docstring_examples(text, path, language, fmt, config.docstring))
    if "fix" in config.tasks:
        examples.extend(build_fix_examples(text, path, language, fmt, config.fix, rng))
    return examples


def commit_examples(
    config: DataConfig,
    documents: list[Document],
    contamination: ContaminationIndex,
    fmt: FimFormat,
    stats: Stats,
) -> list[tuple[Example, str]]:
    """``(fix example, split)`` from small commits of git sources, for files that were kept."""
    if "fix" not in config.tasks or config.max_commits <= 0:
        return []
    found: list[tuple[Example, str]] = []
    for source in config.sources:
        if source.is_dir() and is_git_repository(source):
            kept = {d.path: (d.language, d.split) for d in documents if d.source == str(source)}
            found += commit_fix_examples(
                source, kept, contamination, fmt, config.max_commits, stats.commit_fixes
            )
    return found


def next_edit_commit_examples(
    config: DataConfig,
    documents: list[Document],
    contamination: ContaminationIndex,
    fmt: FimFormat,
    stats: Stats,
) -> tuple[list[tuple[Example, str, dict[str, Any]]], list[dict[str, Any]]]:
    """``([(next-edit example, split, case row)], commit manifest rows)`` from the
    commits of git sources, for files that were kept."""
    if NEXT_EDIT not in config.tasks or config.next_edit.max_commits <= 0:
        return [], []
    found: list[tuple[Example, str, dict[str, Any]]] = []
    rows: list[dict[str, Any]] = []
    for source in config.sources:
        if source.is_dir() and is_git_repository(source):
            kept = {d.path: (d.language, d.split) for d in documents if d.source == str(source)}
            hygiene = Hygiene(kept, contamination, stats.redactions, filters=config.filters)
            bar = partial(tqdm, desc="commits", unit="commit", disable=not config.progress)
            examples, manifest = commit_next_edit_examples(
                source, hygiene, fmt, config.next_edit, config.eval_fraction, config.seed,
                stats.next_edit, bar, by_file=bool(set(config.tasks) & set(FILE_TASKS)),
            )  # fmt: skip
            found += examples
            rows += manifest
    return found, rows


def _clean_next_edit(example: Example, stats: Stats) -> bool:
    """Whether a next-edit example passes the final secret scan. Unlike other rows it is
    dropped, not patched: its case row (the eval's copy of region and events) must stay
    the same text as the prompt."""
    _, late = redact_secrets(example.prompt + "\n" + example.completion)
    if late:
        stats.redactions.update({f"late_{k}": n for k, n in late.items()})
        stats.next_edit["late_redaction"] += 1
    return not late


def _redacted_row(example: Example, split: str, stats: Stats) -> dict[str, str]:
    # The safety net: pieces cut from redacted files could still join into a match.
    _, late = redact_secrets(example.prompt + "\n" + example.completion)
    if late:
        prompt, found_prompt = redact_secrets(example.prompt)
        completion, found_completion = redact_secrets(example.completion)
        stats.redactions.update(
            {f"late_{k}": n for k, n in (found_prompt + found_completion).items()}
        )
        example = Example(example.task, prompt, completion, example.path, example.language)
    return example.row(split)


def run_pipeline(config: DataConfig) -> dict[str, Any]:
    """Run every step and write ``dataset/``, ``stats.json`` and ``manifest.jsonl`` (and
    ``gate.jsonl`` when a source is an acceptance log) under ``config.out``."""
    fmt = get_fim_format(config.fim_format)
    stats = Stats()
    contamination = build_contamination_index(config)
    logs = [source for source in config.sources if is_usage_log(source)]
    files = [
        item
        for source in config.sources
        if source not in logs
        for item in iter_source(source, config.default_language, config.filters.max_bytes)
    ]
    bar = tqdm(files, desc="files", unit="file", disable=not config.progress)
    documents, manifest = select_documents(bar, config, contamination, stats)
    log_stats = LogStats()
    suggestions = examine_log_sources(logs, config, documents, contamination, stats, log_stats)
    # Keyed by relative path: moving the repository must not reshuffle the split.
    keys = {d.path for d in documents} | {
        i.file for i in suggestions if i.parts is not None or i.case is not None
    }
    splits = assign_splits(sorted(keys), config.eval_fraction, config.seed)
    for document in documents:
        document.split = splits[document.path]
    split_of = {(d.source, d.path): d.split for d in documents}
    for row in manifest:
        row["split"] = split_of.get((row["source"], row["path"]))
    stats.files["train"] = sum(d.split == "train" for d in documents)
    stats.files["eval"] = sum(d.split == "eval" for d in documents)
    rows: dict[str, list[dict[str, str]]] = {"train": [], "eval": []}
    for document in tqdm(documents, desc="examples", unit="file", disable=not config.progress):
        for example in build_examples(document, config, fmt):
            rows[document.split].append(_redacted_row(example, document.split, stats))
    for example, split in commit_examples(config, documents, contamination, fmt, stats):
        rows[split].append(_redacted_row(example, split, stats))
    cases: list[dict[str, Any]] = []
    next_edits, commit_rows = next_edit_commit_examples(
        config, documents, contamination, fmt, stats
    )
    manifest += commit_rows
    for example, split, case in next_edits:
        if _clean_next_edit(example, stats):
            rows[split].append(example.row(split))
            cases.append(case)
    gate_rows = []
    edit_fmt = edit_format(fmt, config.next_edit.max_events)
    for item in suggestions:
        split = splits.get(item.file) or _hash_split(item.file, config)
        if item.parts is not None:
            example = log_example(item, split, fmt, config.fim, config.seed)
            rows[split].append(_redacted_row(example, split, stats))
            log_stats.examples[split] += 1
        if item.case is not None:
            example = item.case.example(edit_fmt)
            if _clean_next_edit(example, stats):
                rows[split].append(example.row(split))
                cases.append(item.case.row(split, item.source, "file"))
                log_stats.next_edit_examples[split] += 1
            else:
                item.case, item.reason = None, "log_redaction_failed (late)"
        manifest.append(manifest_row(item, split))
        if item.outcome != "log_incomplete" and item.next_edit is None:
            gate_rows.append(gate_row(item, split))
    for split, split_rows in rows.items():
        stats.examples[split] = Counter(r["task"] for r in split_rows)
    result = stats.as_dict()
    if logs:
        result["log"] = log_stats.as_dict()
    result["config"] = _config_summary(config)
    write_outputs(
        config.out,
        rows,
        manifest,
        result,
        gate_rows=gate_rows if logs else None,
        next_edit_cases=cases if NEXT_EDIT in config.tasks else None,
        progress=config.progress,
    )
    return result


def examine_log_sources(
    logs: list[Path],
    config: DataConfig,
    documents: list[Document],
    contamination: ContaminationIndex,
    stats: Stats,
    log_stats: LogStats,
    redactor: Redactor = redact_secrets,
) -> list[LogItem]:
    """Every suggestion of the acceptance logs with its outcome (reasons counted in
    ``log_stats``); a suggestion in a file of the other sources takes that file's path."""
    if not logs:
        return []
    suggestions = read_suggestions(logs, log_stats)
    items = examine_suggestions(
        tqdm(suggestions, desc="suggestions", unit="suggestion", disable=not config.progress),
        {d.path for d in documents},
        contamination,
        config.fim.window_chars,
        "fim" in config.tasks,
        stats,
        redactor,
        build_next_edit=NEXT_EDIT in config.tasks,
    )
    log_stats.reasons.update(item.reason.split(" (")[0] for item in items)
    return items


def _hash_split(key: str, config: DataConfig) -> str:
    """The split of a file that has no example (for its gate rows): the hash rule alone."""
    return "eval" if split_score(key, config.seed) < config.eval_fraction else "train"


def _config_summary(config: DataConfig) -> dict[str, Any]:
    return {
        "sources": [str(s) for s in config.sources],
        "fim_format": config.fim_format,
        "seed": config.seed,
        "eval_fraction": config.eval_fraction,
        "tasks": list(config.tasks),
        "fim": config.fim.__dict__,
        "docstring": config.docstring.__dict__,
        "fix": config.fix.__dict__,
        "next_edit": config.next_edit.__dict__,
        "filters": config.filters.__dict__,
        "dedup": {
            "threshold": config.dedup_threshold,
            "num_perm": config.num_perm,
            "shingle": config.shingle_size,
        },
        "decontamination": {
            "humaneval": config.humaneval,
            "files": [str(p) for p in config.decontaminate],
            "ngram": config.decontam_ngram,
            "threshold": config.decontam_threshold,
        },
        "max_commits": config.max_commits,
    }
