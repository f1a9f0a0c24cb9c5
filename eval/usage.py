"""``codegen-eval usage``: what the acceptance log says about the suggestions users saw.

The log is the opt-in JSONL the language server writes (``acceptanceLog.enabled``; its
format is :mod:`codegen.core.usage_log`). For every group of shown suggestions (all of
them, per language, per adapter, per time bucket) the report gives:

- the **accept rate**: taken (accepted whole or in part) over shown;
- **partial accepts**: how many suggestions ended partly taken, and the median and
  mean characters taken from them;
- **retained characters** at 30 s and 120 s after the accept, as Copilot's
  "accepted-and-retained characters": the sum of ``retained_chars`` over the taken
  suggestions measured at that delay, and its ratio to the characters those
  suggestions gave (a suggestion the log ends before measuring is left out of both);
- **latency** p50 and p95 in ms (``latency_ms``: request to answer, every shown
  suggestion that has one, cache hits included).

Time buckets are UTC hours when the log spans less than two days, days up to 60 days,
ISO weeks beyond. Outputs: ``report.md``, ``metrics.json`` (the same figures) and
``usage.png``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from codegen.core.errors import CodegenError
from codegen.core.usage_log import RETAIN_DELAYS_S, ReadStats, Suggestion, collect, read_records

BUCKETS = ("auto", "hour", "day", "week")
BASE = "(base model)"
"""The adapter group of suggestions made without an adapter."""
_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%G-W%V"}


class UsageError(CodegenError):
    """The acceptance log is missing or holds nothing to report."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def figures(suggestions: Sequence[Suggestion]) -> dict[str, Any]:
    """Every figure for one group of shown suggestions."""
    taken = [s for s in suggestions if s.taken]
    partial = [s.partial_chars for s in taken if not s.accepted]
    retained = {}
    for delay in RETAIN_DELAYS_S:
        measured = [(s, r) for s in taken if (r := s.retained_at(delay)) is not None]
        given = sum(s.taken_chars for s, _ in measured)
        kept = sum(r.retained_chars for _, r in measured)
        retained[f"{delay:g}s"] = {
            "measured": len(measured),
            "accepted_chars": given,
            "retained_chars": kept,
            "ratio": _rounded(kept / given if given else None),
        }
    latencies = [
        float(s.latency_ms)
        for s in suggestions
        if isinstance(s.latency_ms, (int, float)) and not isinstance(s.latency_ms, bool)
    ]
    return {
        "shown": len(suggestions),
        "accepted": sum(s.accepted for s in suggestions),
        "partial": len(partial),
        "taken": len(taken),
        "accept_rate": _rounded(len(taken) / len(suggestions) if suggestions else None),
        "partial_chars": {
            "count": len(partial),
            "median": _rounded(statistics.median(partial) if partial else None, 2),
            "mean": _rounded(statistics.mean(partial) if partial else None, 2),
        },
        "accepted_chars": sum(s.taken_chars for s in taken),
        "retained": retained,
        "latency_ms": {
            "count": len(latencies),
            "p50": _rounded(percentile(latencies, 50), 2),
            "p95": _rounded(percentile(latencies, 95), 2),
        },
    }


def grouped(
    suggestions: Iterable[Suggestion], key: Callable[[Suggestion], str]
) -> dict[str, dict[str, Any]]:
    """:func:`figures` per value of ``key``, in sorted order of the values."""
    groups: dict[str, list[Suggestion]] = {}
    for s in suggestions:
        groups.setdefault(key(s), []).append(s)
    return {name: figures(groups[name]) for name in sorted(groups)}


def pick_bucket(suggestions: Sequence[Suggestion], bucket: str = "auto") -> str:
    """``hour`` under two days of log, ``day`` up to 60 days, ``week`` beyond."""
    if bucket != "auto":
        return bucket
    span_days = (suggestions[-1].ts - suggestions[0].ts) / 86_400
    return "hour" if span_days < 2 else "day" if span_days <= 60 else "week"


def usage_metrics(logs: Sequence[Path], bucket: str = "auto") -> dict[str, Any]:
    """The report's figures for ``logs``; :class:`UsageError` when there are none."""
    stats = ReadStats()
    try:
        records = read_records(logs, stats)
    except FileNotFoundError as err:
        raise UsageError(f"{err}; pass the file codegen-lsp writes (acceptanceLog.path)") from None
    except OSError as err:
        raise UsageError(f"cannot read the acceptance log: {err}") from None
    everything = collect(records)
    shown = sorted((s for s in everything if s.shown), key=lambda s: s.ts)
    names = ", ".join(str(p) for p in logs)
    if not shown:
        raise UsageError(
            f"no shown suggestions in {names} ({stats.records} records, {stats.skipped} "
            "unreadable lines): turn acceptanceLog.enabled on in the editor and use it a while"
        )
    unit = pick_bucket(shown, bucket)
    fmt = _FORMATS[unit]
    return {
        "logs": [str(p) for p in logs],
        "records": stats.records,
        "unreadable_lines": stats.skipped,
        "suggestions": len(everything),
        "not_shown": len(everything) - len(shown),
        "from": _utc(shown[0].ts),
        "to": _utc(shown[-1].ts),
        "bucket": unit,
        "overall": figures(shown),
        "by_language": grouped(shown, lambda s: s.language or "(unknown)"),
        "by_adapter": grouped(shown, lambda s: s.adapter or BASE),
        "over_time": grouped(shown, lambda s: time.strftime(fmt, time.gmtime(s.ts))),
    }


def _utc(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def _cell(value: float | None, fmt: str = "{:.1%}") -> str:
    return "-" if value is None else fmt.format(value)


HEADER = (
    "| {} | shown | taken | accept rate | partial: n / median / mean chars | accepted chars "
    "| retained 30 s | retained 120 s | latency p50 / p95 ms |\n|---|---|---|---|---|---|---|---|---|"
)


def _row(name: str, f: dict[str, Any]) -> str:
    p, lat = f["partial_chars"], f["latency_ms"]
    kept = [
        f"{r['retained_chars']} ({_cell(r['ratio'])})" if r["measured"] else "-"
        for r in f["retained"].values()
    ]
    return (
        f"| {name} | {f['shown']} | {f['taken']} | {_cell(f['accept_rate'])} | "
        f"{p['count']} / {_cell(p['median'], '{:g}')} / {_cell(p['mean'], '{:g}')} | "
        f"{f['accepted_chars']} | {kept[0]} | {kept[1]} | "
        f"{_cell(lat['p50'], '{:g}')} / {_cell(lat['p95'], '{:g}')} |"
    )


def render_report(m: dict[str, Any]) -> str:
    lines = [
        "# Suggestions in use",
        "",
        f"Logs: {', '.join(m['logs'])}: {m['records']} records, {m['unreadable_lines']} "
        f"unreadable lines skipped; {m['overall']['shown']} suggestions shown from "
        f"{m['from']} to {m['to']}.",
        "",
        "Accept rate: taken (whole or in part) over shown. Retained: characters of the "
        "taken suggestions still in the document 30 s and 120 s after the accept, and "
        "their share of the characters taken (suggestions measured at that delay only).",
        "",
        "## Overall",
        "",
        HEADER.format("suggestions"),
        _row("all", m["overall"]),
    ]
    for title, key, label in (
        ("By language", "by_language", "language"),
        ("By adapter", "by_adapter", "adapter"),
        (f"Over time (per {m['bucket']}, UTC)", "over_time", m["bucket"]),
    ):
        lines += ["", f"## {title}", "", HEADER.format(label)]
        lines += [_row(name, f) for name, f in m[key].items()]
    lines += ["", "![usage](usage.png)", ""]
    return "\n".join(lines)


def plot_usage(m: dict[str, Any], out: Path) -> Path:
    """Accept rate and retained ratios over time, shown per bucket, latency over time, and
    the accept rate per language and adapter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(m["over_time"])
    rows = list(m["over_time"].values())
    xs = range(len(names))
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    ax = axes[0][0]
    ax.plot(xs, [_nan(r["accept_rate"]) for r in rows], marker="o", label="accept rate")
    for delay, style in zip(rows[0]["retained"], ("--", ":"), strict=True):
        values = [_nan(r["retained"][delay]["ratio"]) for r in rows]
        ax.plot(xs, values, marker=".", linestyle=style, label=f"retained chars at {delay}")
    ax.set_ylim(0, 1.05)
    ax.set_title("Accept rate and retained-character ratio")
    ax.legend(loc="lower left", fontsize=8)
    axes[0][1].bar(xs, [r["shown"] for r in rows], color="C7", label="shown")
    axes[0][1].bar(xs, [r["taken"] for r in rows], color="C2", label="taken")
    axes[0][1].set_title("Suggestions shown and taken")
    axes[0][1].legend(fontsize=8)
    ax = axes[1][0]
    for q in ("p50", "p95"):
        ax.plot(xs, [_nan(r["latency_ms"][q]) for r in rows], marker="o", label=q)
    ax.set_title("Latency (ms)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    for ax in (axes[0][0], axes[0][1], axes[1][0]):
        _time_ticks(ax, names, m["bucket"])
    adapters = {f"adapter: {k}" if k != BASE else k: v for k, v in m["by_adapter"].items()}
    groups = {**m["by_language"], **adapters}
    ax = axes[1][1]
    ax.barh(list(groups)[::-1], [_nan(g["accept_rate"]) for g in groups.values()][::-1])
    ax.set_xlim(0, 1)
    ax.set_title("Accept rate by language and adapter")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _time_ticks(ax: Any, names: list[str], bucket: str) -> None:
    step = max(1, len(names) // 8)
    ticks = list(range(0, len(names), step))
    labels = [names[i][5:] if bucket != "week" else names[i] for i in ticks]
    ax.set_xticks(ticks, labels, rotation=30, fontsize=8, ha="right")
    ax.set_xlabel(f"{bucket} (UTC)")


def run_usage(logs: Sequence[Path], out: Path, bucket: str = "auto") -> dict[str, Any]:
    """Write ``report.md``, ``metrics.json`` and ``usage.png`` for ``logs`` to ``out``."""
    metrics = usage_metrics(logs, bucket)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create the output directory {out}: {err}") from None
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "report.md").write_text(render_report(metrics))
    plot_usage(metrics, out / "usage.png")
    return metrics
