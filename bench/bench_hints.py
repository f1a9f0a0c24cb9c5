"""Surprise hints on files with one injected single-token bug, against a random-line baseline.

Clean Python files (this project's own ``core/``, ``server/``, ``training/``,
``eval/`` by default: code ``builtin:tiny`` never saw; or the standard library,
or any directory) each give ``--trials`` buggy copies with exactly one bug,
chosen with a fixed seed and rotating over three kinds: an operator swap
(``<`` -> ``<=``, ``==`` -> ``!=``, ``+`` -> ``-``, ``and`` -> ``or``...), an
off-by-one (an integer literal +/- 1) and a wrong variable (a local name read
where another local of the same function was). The mutated file still parses.
Each file is scored in one forward pass and
:func:`~codegen.server.hints.surprise.find_surprise_hints` runs with the
server's thresholds (or the ones given); a hint is correct when it is on the
bug's line.

Baseline, same run and same files: hint the same number of lines uniformly at
random among the lines that have code tokens (its expected precision and
recall are computed exactly, and one seeded draw is reported too). Also
reported: top-k accuracy of ranking lines by their most surprising token (no
thresholds) against random ranking, and how many hints the clean originals
get. Exits 1 when the model does not beat the baseline.

    python bench/bench_hints.py                              # builtin:tiny (cached)
    python bench/bench_hints.py --model Qwen/Qwen2.5-Coder-1.5B --device cuda --quantize 4bit
    python bench/bench_hints.py --source stdlib --trials 1 --z-threshold 1.5 --min-margin 2
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import random
import sys
import sysconfig
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("operator", "off_by_one", "variable")
OPERATOR_SWAPS = {
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "==": "!=",
    "!=": "==",
    "+": "-",
    "-": "+",
    "+=": "-=",
    "-=": "+=",
    "and": "or",
    "or": "and",
    "is": "is not",
}


@dataclass(frozen=True)
class Bug:
    kind: str
    line: int
    """0-based."""
    before: str
    after: str


def _offset(lines: list[str], row: int, col: int) -> int:
    return sum(len(line) for line in lines[: row - 1]) + col


def _token_sites(source: str) -> tuple[list[tokenize.TokenInfo], list[tokenize.TokenInfo]]:
    """(operator tokens, integer literal tokens) outside strings and comments."""
    ops, numbers = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.OP and tok.string in OPERATOR_SWAPS:
            ops.append(tok)
        elif tok.type == tokenize.NAME and tok.string in ("and", "or"):
            ops.append(tok)
        elif tok.type == tokenize.NUMBER and tok.string.isdigit():
            numbers.append(tok)
    return ops, numbers


def _variable_sites(tree: ast.AST) -> list[tuple[ast.Name, list[str]]]:
    """Local names read inside functions, with the other locals they could be confused with."""
    sites = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names = {a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg not in ("self", "cls")}
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
                others = sorted(names - {node.id})
                if others:
                    sites.append((node, others))
    return sites


def inject_bug(source: str, kind: str, rng: random.Random) -> tuple[str, Bug] | None:
    """``source`` with one bug of ``kind`` (still valid Python), or None when none fits."""
    lines = source.splitlines(keepends=True)
    try:
        tree = ast.parse(source)
        ops, numbers = _token_sites(source)
    except (SyntaxError, tokenize.TokenError, ValueError):
        return None
    choices: list[tuple[int, int, str, str]] = []  # (row, col, old, new)
    if kind == "operator":
        choices = [(t.start[0], t.start[1], t.string, OPERATOR_SWAPS[t.string]) for t in ops]
    elif kind == "off_by_one":
        for t in numbers:
            value = int(t.string)
            new = value + 1 if value == 0 or rng.random() < 0.5 else value - 1
            choices.append((t.start[0], t.start[1], t.string, str(new)))
    else:
        for node, others in _variable_sites(tree):
            choices.append((node.lineno, node.col_offset, node.id, rng.choice(others)))
    rng.shuffle(choices)
    for row, col, old, new in choices[:50]:
        at = _offset(lines, row, col)
        if source[at : at + len(old)] != old:
            continue
        mutated = source[:at] + new + source[at + len(old) :]
        try:
            ast.parse(mutated)
        except SyntaxError:
            continue
        return mutated, Bug(kind, row - 1, old, new)
    return None


def clean_files(source: str, limit: int, rng: random.Random) -> list[Path]:
    if source == "project":
        roots = [ROOT / name for name in ("core", "server", "training", "eval")]
    elif source == "stdlib":
        roots = [Path(sysconfig.get_paths()["stdlib"])]
    else:
        roots = [Path(source)]
    files = []
    for root in roots:
        for path in sorted(root.rglob("*.py") if source != "stdlib" else root.glob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if 40 <= text.count("\n") <= 400 and "test" not in path.name:
                files.append(path)
    rng.shuffle(files)
    return sorted(files[:limit])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:tiny", help="model spec (default builtin:tiny)")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--quantize", default="none", choices=("4bit", "8bit", "none"))
    parser.add_argument(
        "--source", default="project", help="project | stdlib | a directory of .py files"
    )
    parser.add_argument(
        "--files", type=int, default=200, help="at most this many clean files (default: all)"
    )
    parser.add_argument(
        "--trials", type=int, default=3, help="buggy copies per file (one bug each, kinds rotate)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--z-threshold", type=float, default=None, help="default: server default")
    parser.add_argument("--min-margin", type=float, default=None, help="default: server default")
    parser.add_argument("--max-per-file", type=int, default=None, help="default: server default")
    parser.add_argument("--no-clean", action="store_true", help="skip scoring the clean originals")
    args = parser.parse_args()

    from codegen.core.load import load_engine
    from codegen.server.hints.prose import prose_ranges
    from codegen.server.hints.surprise import find_surprise_hints
    from codegen.server.options import HintOptions

    defaults = HintOptions()
    z = defaults.z_threshold if args.z_threshold is None else args.z_threshold
    margin = defaults.min_margin if args.min_margin is None else args.min_margin
    max_hints = defaults.max_per_file if args.max_per_file is None else args.max_per_file

    rng = random.Random(args.seed)
    engine = load_engine(args.model, quantize=args.quantize, device=args.device)
    started = time.perf_counter()
    rows = []
    for i, path in enumerate(clean_files(args.source, args.files, rng)):
        clean = path.read_text(encoding="utf-8")
        clean_hints = None
        if not args.no_clean:
            clean_hints = len(
                find_surprise_hints(
                    clean, engine.score(clean), z, margin, max_hints, prose_ranges(clean, "python")
                )
            )
        for trial in range(args.trials):
            injected = inject_bug(clean, KINDS[(i + trial) % len(KINDS)], rng)
            if injected is not None:
                rows.append(evaluate(engine, path, *injected, z, margin, max_hints, clean_hints))
    report = summarize(rows, random.Random(args.seed + 1))
    report["config"] = {
        "model": args.model,
        "source": args.source,
        "seed": args.seed,
        "z_threshold": z,
        "min_margin": margin,
        "max_per_file": max_hints,
        "trials": args.trials,
        "seconds": round(time.perf_counter() - started, 1),
    }
    report["per_file"] = rows
    print(json.dumps(report, indent=2))
    return 0 if report["beats_random"] else 1


def evaluate(
    engine: object,
    path: Path,
    buggy: str,
    bug: Bug,
    z: float,
    margin: float,
    max_hints: int,
    clean_hints: int | None,
) -> dict:
    """One buggy file: its hints, and where the bug's line ranks by surprise."""
    from codegen.server.hints.prose import prose_ranges
    from codegen.server.hints.surprise import find_surprise_hints, line_surprise

    skip = prose_ranges(buggy, "python")
    scores = engine.score(buggy)  # type: ignore[attr-defined]
    hints = find_surprise_hints(buggy, scores, z, margin, max_hints, skip)
    ranking = line_surprise(buggy, scores, skip)
    ordered = sorted(ranking, key=lambda line: ranking[line])
    row = {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "kind": bug.kind,
        "bug_line": bug.line,
        "change": f"{bug.before} -> {bug.after}",
        "code_lines": len(ranking),
        "hinted": [h.line for h in hints],
        "hit": bug.line in {h.line for h in hints},
        "fix_exact": any(h.line == bug.line and h.replacement == bug.before for h in hints),
        "rank": ordered.index(bug.line) + 1 if bug.line in ranking else None,
    }
    if clean_hints is not None:
        row["clean_hints"] = clean_hints
    return row


def summarize(rows: list[dict], rng: random.Random) -> dict:
    n = len(rows)
    if n == 0:
        return {"samples": 0, "beats_random": False}
    hints = sum(len(r["hinted"]) for r in rows)
    hits = sum(1 for r in rows if r["hit"])
    # Random baseline: the same number of hinted lines per file, uniform over code lines.
    expected_hits = [len(r["hinted"]) / max(r["code_lines"], 1) for r in rows]
    drawn = 0
    for r in rows:
        k = min(len(r["hinted"]), r["code_lines"])
        drawn += r["bug_line"] in rng.sample(range(r["code_lines"]), k) if k else 0
    model = {
        "precision": round(hits / hints, 4) if hints else 0.0,
        "recall": round(hits / n, 4),
        "hints": hints,
        "exact_fixes": sum(1 for r in rows if r["fix_exact"]),
    }
    baseline = {
        "precision": round(sum(expected_hits) / hints, 4) if hints else 0.0,
        "recall": round(sum(expected_hits) / n, 4),
        "drawn_recall": round(drawn / n, 4),
    }
    ranked = {}
    for k in (1, 3, 5):
        got = sum(1 for r in rows if r["rank"] is not None and r["rank"] <= k) / n
        chance = sum(min(k, r["code_lines"]) / max(r["code_lines"], 1) for r in rows) / n
        ranked[f"top{k}"] = {"model": round(got, 4), "random": round(chance, 4)}
    by_kind = {}
    for kind in KINDS:
        subset = [r for r in rows if r["kind"] == kind]
        if subset:
            by_kind[kind] = {
                "samples": len(subset),
                "recall": round(sum(r["hit"] for r in subset) / len(subset), 4),
                "top5": round(
                    sum(1 for r in subset if r["rank"] is not None and r["rank"] <= 5)
                    / len(subset),
                    4,
                ),
            }
    clean = [r["clean_hints"] for r in rows if "clean_hints" in r]
    beats = model["recall"] > baseline["recall"] and model["precision"] > baseline["precision"]
    return {
        "samples": n,
        "hints": model,
        "random_baseline": baseline,
        "precision_ratio": round(model["precision"] / baseline["precision"], 2)
        if baseline["precision"]
        else None,
        "line_ranking": ranked,
        "by_kind": by_kind,
        "clean_file_hints_mean": round(sum(clean) / len(clean), 3) if clean else None,
        "beats_random": beats,
    }


if __name__ == "__main__":
    sys.exit(main())
