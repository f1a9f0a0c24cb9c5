"""Exact/near deduplication, decontamination and the train/eval split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.training.data.decontam import (
    BenchmarkItem,
    ContaminationIndex,
    DecontaminationError,
    humaneval_items,
    jsonl_items,
)
from codegen.training.data.dedup import DuplicateIndex, exact_key
from codegen.training.data.split import assign_splits

BASE = "\n".join(
    f"def handler_{i}(request, store):\n    value = store.get(request.key_{i}, default={i})\n"
    f"    if value > {i * 3}:\n        return store.put(request.key_{i}, value - {i})\n    return None\n"
    for i in range(12)
)


def test_exact_duplicates_ignore_trailing_whitespace() -> None:
    index = DuplicateIndex()
    assert index.check("a.py", BASE) is None
    assert index.check("b.py", BASE.replace("\n", "  \n") + "\n\n") == ("exact", "a.py")
    assert exact_key("x = 1") != exact_key("x = 2")


def test_near_duplicate_found_and_distinct_file_kept() -> None:
    index = DuplicateIndex()
    assert index.check("a.py", BASE) is None
    edited = BASE.replace("default=3", "default=33").replace("handler_7", "handler_seven")
    assert index.check("b.py", edited) == ("near", "a.py")
    other = "\n".join(f"class Model{i}:\n    size = {i}\n    name = 'm{i}'\n" for i in range(30))
    assert index.check("c.py", other) is None


def test_near_duplicate_points_to_the_first_kept_file() -> None:
    index = DuplicateIndex()
    assert index.check("first.py", BASE) is None
    assert index.check("second.py", BASE + "\n# one more line\n") == ("near", "first.py")
    assert index.check("third.py", BASE + "\n# another line\n") == ("near", "first.py")


def test_humaneval_problem_is_caught_but_unrelated_code_is_not() -> None:
    items = humaneval_items()
    assert len(items) == 164
    index = ContaminationIndex(items, n=10, threshold=0.5)
    copied = "import math\n\n" + items[10].text + "\n\nprint('done')\n"
    match = index.match(copied)
    assert match is not None and match.name == "HumanEval/10" and match.benchmark == "HumanEval"
    assert index.match(BASE) is None


def test_partial_overlap_below_threshold_is_kept() -> None:
    item = BenchmarkItem("bench", "t1", BASE)
    index = ContaminationIndex([item], n=10, threshold=0.5)
    quarter = BASE[: len(BASE) // 4]
    assert index.match(quarter) is None
    assert index.match(BASE[: len(BASE) * 3 // 4]) == item


def test_jsonl_benchmark_items(tmp_path: Path) -> None:
    file = tmp_path / "bench.jsonl"
    rows = [
        {"task_id": "X/1", "prompt": "def f():\n", "canonical_solution": "    return 1\n"},
        {"text": "y"},
    ]
    file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items = jsonl_items(file)
    assert [(i.benchmark, i.name, i.text) for i in items] == [
        ("bench.jsonl", "X/1", "def f():\n    return 1\n"),
        ("bench.jsonl", "#2", "y"),
    ]
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(DecontaminationError):
        jsonl_items(tmp_path / "bad.jsonl")


def test_split_is_stable_and_roughly_proportional() -> None:
    keys = [f"src/file_{i}.py" for i in range(2000)]
    splits = assign_splits(keys, 0.1, seed=0)
    share = sum(s == "eval" for s in splits.values()) / len(keys)
    assert 0.07 < share < 0.13
    # Adding files never moves existing ones.
    more = assign_splits(keys + [f"new_{i}.py" for i in range(100)], 0.1, seed=0)
    assert all(more[k] == splits[k] for k in keys)
    assert assign_splits(keys, 0.1, seed=1) != splits


def test_split_keeps_one_eval_file_for_small_corpora() -> None:
    splits = assign_splits(["a.py", "b.py", "c.py"], 0.01, seed=0)
    assert sorted(splits.values()) == ["eval", "train", "train"]
    assert set(assign_splits(["a.py", "b.py"], 0.0, seed=0).values()) == {"train"}
