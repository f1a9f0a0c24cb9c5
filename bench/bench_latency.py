"""Latency discipline and edit-aware context, through the real language server.

Every measurement drives ``codegen-lsp`` over stdio (as an editor does) with a real tiny
transformers model in process: ``builtin:tiny`` when it is cached (a pretrained toy that
writes Python-shaped code), else a random tiny model; the JSON says which. Each arm is
its own server process; the arms of a latency measurement run side by side and take
turns place by place (their order alternating), so machine noise hits both alike.

1. **speculation**: a suggestion is shown at ``x = |`` in a realistic file (a module of
   this repository), the client waits as a user reading it (``--read-s``), accepts it
   (``didChange`` inserting its text) and requests at the new cursor. The latency of
   that request with ``completion.speculate`` on, against the same script with it off
   (a fresh model call, with the KV cache of the shown suggestion's prompt). Goal: >= 20x.
2. **deadline**: multi-line requests (a function body removed, the cursor on its first
   line, ``maxNewTokens`` fixed) with ``completion.deadlineMs`` off and on; p50/p95 of the
   request and the mean suggestion length. The deadline defaults to a fraction of the
   p50 measured without it on a few calibration places (the JSON states it).
3. **prefill**: the user works at one place, jumps elsewhere in the file and pastes a
   function, pauses (``--pause-s``, longer than ``completion.prefillAfterMs``), then
   requests at the end of the paste; with background prefill on, against off.
4. **recent edits**: FIM exact match on holes whose answer is a name the user has just
   written in another file: the user opens ``A`` and pastes a new function into it,
   then opens ``B`` whose hole is the rest of the line ``x = A.|`` (the call with its
   arguments); ``B`` never names it, so without ``A``'s text it cannot be guessed. Arms:
   snippets and recent edits off (baseline); recent edits on (snippets off); snippets on
   alone (open files as context: does it already find ``A``?); both on; and with ``A``
   closed after the edit (snippets only see open files, the ring keeps closed ones).

Prints one JSON object.

    python bench/bench_latency.py [--parts 1,2,3,4] [--repeats 12] [--prefill-repeats 6]
                                  [--closed-arms] [--model SPEC] [--threads 1]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "codegen.server.cli"]
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT / "core" / "transformers_engine.py"


def pick_model(tmp: Path, given: str | None) -> tuple[str, str]:
    """``(spec, description)``: ``given``, else builtin:tiny when cached, else a random
    tiny model."""
    from codegen.core.builtin import builtin_dir, is_built
    from codegen.core.builtin.tiny import make_random_model

    if given:
        return given, given
    if is_built(builtin_dir("tiny")):
        return "builtin:tiny", f"builtin:tiny ({builtin_dir('tiny').name})"
    path = make_random_model(tmp / "random-tiny", seed=0)
    return str(path), "random tiny (make_random_model): does not copy names, expect 0 matches"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank quantile (as ``codegen.status`` computes it)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_ms": round(pct(values, 0.5), 1),
            "p95_ms": round(pct(values, 0.95), 1)}  # fmt: skip


def ratio(slow: float, fast: float) -> float | None:
    return round(slow / fast, 1) if fast > 0 else None


# -- a client ------------------------------------------------------------------------------
class Editor:
    """One server process and the few editor actions the scripts need."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.versions: dict[str, int] = {}

    @classmethod
    async def start(
        cls, model: str, options: dict[str, Any], args: Any, warm_up: bool = True
    ) -> Editor:
        threads = str(args.threads)
        env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        command = [*SERVER, "--model", model, "--device", args.device]
        client = await ClientServerConfig(server_command=command, server_env=env).start()
        await client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options={"codegen": {"completion": options}},
            )
        )
        editor = cls(client)
        for _ in range(6000):
            state = (await editor.status())["state"]
            if state == "ready":
                if warm_up:
                    await editor.warm_up()
                return editor
            if state == "failed":
                raise RuntimeError(f"the server could not load {model}")
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not load {model} in 5 minutes")

    async def warm_up(self) -> None:
        """One untimed request: the first model call of a process is slower than the rest."""
        uri = "file:///work/warm_up.py"
        self.open(uri, "def main():\n    total = \n")
        await self.complete(uri, 1, 12)
        self.close(uri)

    async def stop(self) -> None:
        await self.client.shutdown_session()
        await self.client.stop()

    async def status(self) -> dict[str, Any]:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )

    async def counters(self) -> dict[str, int]:
        return dict((await self.status())["latency"]["counters"])

    def open(self, uri: str, text: str) -> None:
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )

    def close(self, uri: str) -> None:
        """Closing also cancels the document's speculation or prefill still running."""
        self.versions.pop(uri, None)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

    def insert(self, uri: str, line: int, char: int, text: str) -> tuple[int, int]:
        """Insert ``text`` at (line, char); return the cursor after it."""
        self.versions[uri] += 1
        pos = types.Position(line, char)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.versions[uri], uri=uri),
                [types.TextDocumentContentChangePartial(types.Range(pos, pos), text)],
            )
        )
        if "\n" not in text:
            return line, char + len(text)
        return line + text.count("\n"), len(text.rsplit("\n", 1)[1])

    async def complete(self, uri: str, line: int, char: int) -> tuple[float, str | None]:
        """An invoked inline completion: (milliseconds, the first suggestion or None)."""
        start = time.perf_counter()
        answer = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, char),
            )
        )
        ms = (time.perf_counter() - start) * 1000
        items = answer.items if answer is not None else []
        text = items[0].insert_text if items else None
        return ms, text if isinstance(text, str) else None


async def side_by_side(arms: dict[str, Editor], places: list[Any], script: Any) -> None:
    """``script(name, editor, place, index)`` for every place on every arm, taking turns
    (the first arm alternates) so that the machine's load falls on both alike."""
    names = list(arms)
    for i, place in enumerate(places):
        for name in names if i % 2 == 0 else names[::-1]:
            await script(name, arms[name], place, i)
            await asyncio.sleep(0.1)


# -- places in a realistic file ----------------------------------------------------------------
def assignment_places(lines: list[str], count: int) -> list[tuple[str, int, int]]:
    """``x = |`` inside function bodies: (document with the rest of that line removed,
    line, column), spread over the file."""
    found = []
    for i, line in enumerate(lines):
        head, sep, rest = line.partition(" = ")
        if (line.startswith("        ") and sep and head.strip().isidentifier()
                and rest.strip() and "#" not in line):  # fmt: skip
            col = len(head) + len(sep)
            found.append(("".join(lines[:i] + [line[:col] + "\n"] + lines[i + 1 :]), i, col))
    return spread(found, count)


def body_places(source: str, lines: list[str], count: int) -> list[tuple[str, int, int]]:
    """A function whose body (after its docstring) is removed: the cursor on the empty
    first line of the body, where a multi-line suggestion is asked for."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        if len(body) < 2 or node.end_lineno is None:
            continue
        first = body[0].lineno - 1
        indent = " " * body[0].col_offset
        text = "".join(lines[:first] + [indent + "\n"] + lines[node.end_lineno :])
        found.append((text, first, len(indent)))
    return spread(sorted(found, key=lambda p: p[1]), count)


def gap_places(source: str, count: int) -> list[int]:
    """Blank lines between top-level definitions (where a function is pasted)."""
    tree = ast.parse(source)
    gaps = []
    for before, after in zip(tree.body, tree.body[1:], strict=False):
        first = min([after.lineno] + [d.lineno for d in getattr(after, "decorator_list", [])])
        if before.end_lineno is not None and first - 1 > before.end_lineno:
            gaps.append(first - 2)  # 0-based: the blank line just above the next definition
    return spread(gaps, count)


def spread(items: list[Any], count: int) -> list[Any]:
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


# -- 1. speculation ------------------------------------------------------------------------------
async def bench_speculation(model: str, lines: list[str], args: argparse.Namespace) -> Any:
    base = {"maxContextTokens": args.context_tokens}
    arms = {
        "speculate": await Editor.start(model, {**base, "speculate": True}, args),
        "baseline_fresh_call": await Editor.start(model, base, args),
    }
    places = assignment_places(lines, args.repeats)
    latency: dict[str, dict[int, float]] = {name: {} for name in arms}
    from_memory: dict[str, set[int]] = {name: set() for name in arms}
    awaited = {name: 0 for name in arms}
    with_text = {name: 0 for name in arms}
    uri = "file:///work/engine.py"

    async def script(name: str, editor: Editor, place: Any, i: int) -> None:
        text, line, col = place
        editor.open(uri, text)
        _, shown = await editor.complete(uri, line, col)
        if shown:
            await asyncio.sleep(args.read_s)  # the user reads the suggestion
            before = await editor.counters()
            new_line, new_col = editor.insert(uri, line, col, shown)  # accepts it
            ms, follow = await editor.complete(uri, new_line, new_col)
            after = await editor.counters()
            latency[name][i] = ms
            with_text[name] += follow is not None
            if after.get("answers.cache", 0) > before.get("answers.cache", 0):
                from_memory[name].add(i)
            awaited[name] += after.get("speculation.awaited", 0) - before.get(
                "speculation.awaited", 0
            )
        editor.close(uri)

    await side_by_side(arms, places, script)
    counters = {name: await editor.counters() for name, editor in arms.items()}
    for editor in arms.values():
        await editor.stop()
    hits = sorted(from_memory["speculate"])

    def compare(keys: list[int]) -> dict[str, Any]:
        spec = [latency["speculate"][k] for k in keys if k in latency["speculate"]]
        fresh = [latency["baseline_fresh_call"][k] for k in keys
                 if k in latency["baseline_fresh_call"]]  # fmt: skip
        return {
            "speculate": summary(spec),
            "baseline_fresh_call": summary(fresh),
            "speedup_p50": ratio(pct(fresh, 0.5), pct(spec, 0.5)),
            "speedup_p95": ratio(pct(fresh, 0.95), pct(spec, 0.95)),
        }

    return {
        "places": len(places),
        "context_tokens": args.context_tokens,
        "read_s": args.read_s,
        "accepted": len(latency["speculate"]),
        "follow_up_from_memory": len(hits),
        "follow_up_has_suggestion": with_text,
        "speculation_still_running_at_accept": awaited["speculate"],
        "speculation_counters": {
            k: v for k, v in counters["speculate"].items() if k.startswith("speculation")
        },
        "request_after_accept_all": compare(sorted(latency["speculate"])),
        "request_after_accept_where_speculation_had_a_suggestion": compare(hits),
        "target_speedup": 20,
    }


# -- 2. deadline -------------------------------------------------------------------------------
async def bench_deadline(model: str, source: str, lines: list[str], args: Any) -> Any:
    base = {"maxContextTokens": args.context_tokens, "maxNewTokens": args.max_new_tokens}
    places = body_places(source, lines, args.repeats + args.calibration)
    calibration, places = places[: args.calibration], places[args.calibration :]
    uri = "file:///work/engine.py"
    off = await Editor.start(model, base, args)
    deadline_ms = args.deadline_ms
    calibration_ms: list[float] = []
    for text, line, col in calibration:
        off.open(uri, text)
        calibration_ms.append((await off.complete(uri, line, col))[0])
        off.close(uri)
    if not deadline_ms:
        deadline_ms = max(50, round(pct(calibration_ms, 0.5) * args.deadline_fraction))
    arms = {
        "deadline": await Editor.start(model, {**base, "deadlineMs": deadline_ms}, args),
        "baseline_no_deadline": off,
    }
    latency: dict[str, list[float]] = {name: [] for name in arms}
    chars: dict[str, list[int]] = {name: [] for name in arms}
    lines_out: dict[str, list[int]] = {name: [] for name in arms}

    async def script(name: str, editor: Editor, place: Any, _: int) -> None:
        text, line, col = place
        editor.open(uri, text)
        ms, shown = await editor.complete(uri, line, col)
        latency[name].append(ms)
        chars[name].append(len(shown or ""))
        lines_out[name].append(len(shown.split("\n")) if shown else 0)
        editor.close(uri)

    await side_by_side(arms, places, script)
    fired = (await arms["deadline"].counters()).get("deadline", 0)
    for editor in arms.values():
        await editor.stop()
    on, no = latency["deadline"], latency["baseline_no_deadline"]
    return {
        "places": len(places),
        "max_new_tokens": args.max_new_tokens,
        "deadline_ms": deadline_ms,
        "deadline_chosen_as": (
            "given"
            if args.deadline_ms
            else f"{args.deadline_fraction} x p50 of {len(calibration_ms)} calibration requests "
            f"without it ({round(pct(calibration_ms, 0.5))} ms)"
        ),  # fmt: skip
        "request": {name: summary(v) for name, v in latency.items()},
        "mean_suggestion_chars": {n: round(statistics.mean(v), 1) for n, v in chars.items()},
        "mean_suggestion_lines": {n: round(statistics.mean(v), 2) for n, v in lines_out.items()},
        "empty_suggestions": {n: v.count(0) for n, v in chars.items()},
        "deadline_fired": fired,
        "slowest_request": {
            name: {
                "ms": round(max(v), 1),
                "chars": chars[name][v.index(max(v))],
                "lines": lines_out[name][v.index(max(v))],
            }  # fmt: skip
            for name, v in latency.items()
            if v
        },
        "p95_ratio_no_deadline_over_deadline": ratio(pct(no, 0.95), pct(on, 0.95)),
        "p50_ratio_no_deadline_over_deadline": ratio(pct(no, 0.5), pct(on, 0.5)),
    }


# -- 3. background prefill ---------------------------------------------------------------------
PASTES = [
    'def clamp(value, low, high):\n    """``value`` limited to [low, high]."""\n'
    "    return max(low, min(value, high))\n\n\n",
    'def chunked(items, size):\n    """``items`` in lists of ``size``."""\n'
    "    return [items[i : i + size] for i in range(0, len(items), size)]\n\n\n",
    'def first_line(text: str) -> str:\n    """The first non-blank line of ``text``."""\n'
    "    for line in text.splitlines():\n        if line.strip():\n"
    '            return line\n    return ""\n\n\n',
    "def merge_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:\n"
    "    out = dict(a)\n    for key, value in b.items():\n"
    "        out[key] = out.get(key, 0) + value\n    return out\n\n\n",
]


async def bench_prefill(model: str, source: str, lines: list[str], args: Any) -> Any:
    base = {"maxContextTokens": args.prefill_context_tokens}
    on = {**base, "prefillAfterMs": args.prefill_after_ms}
    arms = {
        "prefill": await Editor.start(model, on, args),
        "baseline_no_prefill": await Editor.start(model, base, args),
    }
    gaps = gap_places(source, args.prefill_repeats)
    work_at = assignment_places(lines, len(gaps))
    latency: dict[str, list[float]] = {name: [] for name in arms}
    with_text = {name: 0 for name in arms}
    uri = "file:///work/engine.py"
    text = "".join(lines)

    async def script(name: str, editor: Editor, place: Any, i: int) -> None:
        gap = place
        editor.open(uri, text)
        # The user was working elsewhere (the KV cache holds that prompt) ...
        _, line, col = work_at[(i + len(work_at) // 2) % len(work_at)]
        await editor.complete(uri, line, col)
        # ... jumps, pastes a function, pauses, and asks at the end of the paste.
        cursor = editor.insert(uri, gap, 0, PASTES[i % len(PASTES)])
        await asyncio.sleep(args.pause_s)
        ms, shown = await editor.complete(uri, *cursor)
        latency[name].append(ms)
        with_text[name] += shown is not None
        editor.close(uri)

    await side_by_side(arms, gaps, script)
    counters = await arms["prefill"].counters()
    for editor in arms.values():
        await editor.stop()
    with_, without = latency["prefill"], latency["baseline_no_prefill"]
    saved = [b - a for a, b in zip(with_, without, strict=True)]
    return {
        "places": len(gaps),
        "max_context_tokens": args.prefill_context_tokens,
        "prefill_after_ms": args.prefill_after_ms,
        "pause_s": args.pause_s,
        "request_after_pause": {name: summary(v) for name, v in latency.items()},
        "answers_with_suggestion": with_text,
        "prefills": {k: v for k, v in counters.items() if k.startswith("prefill")},
        "saved_ms_p50_paired": round(statistics.median(saved), 1) if saved else None,
        "speedup_p50": ratio(pct(without, 0.5), pct(with_, 0.5)),
        "speedup_p95": ratio(pct(without, 0.95), pct(with_, 0.95)),
    }


# -- 4. recently edited ranges as context ------------------------------------------------------
# (module A, the function the user writes into it, its parameters, its body; the module B
# calling it, the caller and the variable the call's result goes to)
# fmt: off
CASES = [
    ("quotas", "resolve_tenant_quota", "tenant_id, plan", "PLAN_QUOTAS.get(plan, 0) + EXTRA.get(tenant_id, 0)",
     "uploads", "check_upload", "limit"),
    ("ledger", "settle_open_entries", "account, cutoff", "[e for e in account.entries if e.date <= cutoff]",
     "closing", "close_month", "settled"),
    ("pricing", "apply_volume_discount", "price, quantity", "price * (0.9 if quantity >= 100 else 1.0)",
     "orders", "order_total", "unit"),
    ("shipping", "estimate_parcel_weight", "items, packaging", "sum(i.weight for i in items) + packaging",
     "dispatch", "book_courier", "weight"),
    ("tokens", "rotate_signing_key", "keyring, now", "keyring.newest() if keyring.age(now) < 30 else keyring.rotate()",
     "sessions", "sign_session", "key"),
    ("geo", "snap_to_grid_cell", "lat, lon", "(round(lat * 100) / 100, round(lon * 100) / 100)",
     "tracking", "record_position", "cell"),
    ("payroll", "prorate_monthly_salary", "salary, days_worked", "salary * days_worked / 30",
     "payslips", "draft_payslip", "gross"),
    ("inventory", "reserve_stock_units", "sku, count", "STOCK[sku].reserve(count)",
     "checkout", "hold_cart", "reservation"),
    ("alerts", "escalate_stale_incident", "incident, minutes", "incident.page_oncall() if minutes > 15 else None",
     "monitor", "watch_incidents", "page"),
    ("reports", "summarize_weekly_usage", "usage, week", "{day: usage[day] for day in week}",
     "digest", "email_digest", "table"),
    ("search", "rank_by_term_overlap", "query, documents", "sorted(documents, key=lambda d: -len(query & d.terms))",
     "frontend", "render_results", "ranked"),
    ("billing", "accrue_late_interest", "invoice, days_late", "invoice.amount * 0.001 * days_late",
     "dunning", "send_reminder", "interest"),
]
# fmt: on

A_TEXT = '''"""{module}: shared helpers."""

import logging

log = logging.getLogger(__name__)


def describe(value):
    """A short human-readable form of ``value``."""
    return repr(value)[:80]


def validate(value):
    if value is None:
        raise ValueError("missing value")
    return value

'''
B_PREFIX = '''"""{caller_module}: the {caller} step."""

import {module}


def {caller}({params}, verbose=False):
    """Run {caller} and log the outcome."""
    if verbose:
        print("starting {caller}")
    {var} = {module}.'''
B_SUFFIX = """
    if {var} is None:
        return None
    return {var}


def main():
    print({caller}(None, None))
"""


def recent_cases() -> list[dict[str, Any]]:
    out = []
    for module, name, params, body, caller_module, caller, var in CASES:
        fields = dict(module=module, caller_module=caller_module, caller=caller,
                      params=params, var=var)  # fmt: skip
        prefix = B_PREFIX.format(**fields)
        out.append({
            "a_uri": f"file:///work/app/{module}.py",
            "a_text": A_TEXT.format(**fields),
            "a_edit": f'\ndef {name}({params}):\n    """Written just now."""\n    return {body}\n',
            "b_uri": f"file:///work/app/{caller_module}.py",
            "b_text": prefix + B_SUFFIX.format(**fields),
            "b_cursor": (prefix.count("\n"), len(prefix.rsplit("\n", 1)[1])),
            "b_offset": len(prefix),
            "expected": f"{name}({params})",
            "name": name,
        })  # fmt: skip
    return out


RECENT_ARMS = {
    "baseline_no_context": (False, False, False),
    "recent_edits": (False, True, False),
    "snippets_only": (True, False, False),
    "snippets_and_recent_edits": (True, True, False),
    "a_closed_snippets_only": (True, False, True),
    "a_closed_snippets_and_recent_edits": (True, True, True),
}
"""Arm -> (``completion.snippets.enabled``, ``completion.recentEdits.enabled``, close A
after the edit, before opening B). The ``a_closed`` arms run with ``--closed-arms``."""


async def recent_arm(model: str, arm: str, cases: list[dict[str, Any]], args: Any) -> list[str]:
    """The first line of the suggestion at every hole, in one server with ``arm``'s options."""
    snippets, recent, close_a = RECENT_ARMS[arm]
    options = {
        "maxContextTokens": args.context_tokens,
        "snippets": {"enabled": snippets},
        "recentEdits": {"enabled": recent},
    }
    # No warm-up request: its document would be one more recently visited range.
    editor = await Editor.start(model, options, args, warm_up=False)
    out = []
    for case in cases:
        editor.open(case["a_uri"], case["a_text"])
        editor.insert(case["a_uri"], case["a_text"].count("\n"), 0, case["a_edit"])  # user writes
        if close_a:
            editor.close(case["a_uri"])
        editor.open(case["b_uri"], case["b_text"])
        _, shown = await editor.complete(case["b_uri"], *case["b_cursor"])
        out.append((shown or "").split("\n")[0].strip())
        editor.close(case["b_uri"])
    await editor.stop()
    return out


def copy_probe(model: str, cases: list[dict[str, Any]], args: Any) -> float:
    """The easiest copy there is, in process: the new function three lines above the hole
    in the same prompt. The share of holes the model completes exactly: what any context
    source can at best get out of this model."""
    import torch

    from codegen.core.engine import GenerationConfig
    from codegen.core.load import load_engine

    torch.set_num_threads(args.threads)
    engine = load_engine(model, device=args.device)
    config = GenerationConfig(max_new_tokens=24, stop=["\n"])
    hits = 0
    for case in cases:
        prefix = case["a_edit"].lstrip("\n") + "\n\n" + case["b_text"][: case["b_offset"]]
        prompt = engine.fim.build_prompt(prefix, case["b_text"][case["b_offset"] :])
        hits += engine.generate(prompt, config).text.strip() == case["expected"]
    return round(hits / len(cases), 3)


async def bench_recent_edits(model: str, args: Any) -> Any:
    cases = recent_cases()[: args.holes]
    arms = [a for a in RECENT_ARMS if args.closed_arms or not RECENT_ARMS[a][2]]
    shown = {arm: await recent_arm(model, arm, cases, args) for arm in arms}
    base = shown["baseline_no_context"]
    results = {
        arm: {
            "exact_match": round(
                sum(s == c["expected"] for s, c in zip(out, cases, strict=True)) / len(cases), 3
            ),
            "name_match": round(
                sum(s.startswith(c["name"]) for s, c in zip(out, cases, strict=True)) / len(cases),
                3,
            ),
            "differs_from_baseline": sum(s != b for s, b in zip(out, base, strict=True)),
        }
        for arm, out in shown.items()
    }
    return {
        "holes": len(cases),
        "max_context_tokens": args.context_tokens,
        "arms": results,
        "recent_edits_gain_exact_match": round(
            results["recent_edits"]["exact_match"] - results["baseline_no_context"]["exact_match"],
            3,
        ),
        "model_copy_probe_exact_match": copy_probe(model, cases, args),
        "examples": {arm: out[:2] for arm, out in shown.items()},
        "expected_examples": [c["expected"] for c in cases[:2]],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        help="model spec (default: builtin:tiny when cached, else a random tiny model); "
        "a local directory or cached Hugging Face id of a real FIM model for part 4",
    )
    parser.add_argument("--device", default="cpu", help="codegen-lsp --device (default: cpu)")
    parser.add_argument("--parts", default="1,2,3,4", help="which measurements (default: all)")
    parser.add_argument("--repeats", type=int, default=12, help="places per arm for parts 1 and 2")
    parser.add_argument("--prefill-repeats", type=int, default=6, help="places per arm for part 3")
    parser.add_argument("--file", default=str(DEFAULT_FILE), help="the realistic file (parts 1-3)")
    parser.add_argument(
        "--context-tokens", type=int, default=384,
        help="completion.maxContextTokens for parts 1, 2, 4 (builtin:tiny was trained on "
        "256-token windows)",
    )  # fmt: skip
    parser.add_argument("--holes", type=int, default=len(CASES), help="part 4: holes (at most 12)")
    parser.add_argument(
        "--closed-arms",
        action="store_true",
        help="part 4: also the arms with A closed before B is opened",
    )
    parser.add_argument("--read-s", type=float, default=1.5, help="part 1: reading a suggestion")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="part 2: token budget")
    parser.add_argument(
        "--deadline-ms",
        type=int,
        default=0,
        help="part 2: completion.deadlineMs (default: a fraction of the p50 without)",
    )
    parser.add_argument(
        "--deadline-fraction",
        type=float,
        default=0.25,
        help="part 2: the default deadline as a fraction of that p50",
    )
    parser.add_argument("--calibration", type=int, default=3, help="part 2: calibration places")
    parser.add_argument(
        "--prefill-context-tokens",
        type=int,
        default=1500,
        help="part 3: completion.maxContextTokens (the server's default)",
    )
    parser.add_argument("--prefill-after-ms", type=int, default=300, help="part 3: the option")
    parser.add_argument("--pause-s", type=float, default=3.0, help="part 3: the user's pause")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads per server (default 1: a tiny model gains nothing from a second "
        "thread on a busy 2-core machine)",
    )  # fmt: skip
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",")}
    source = Path(args.file).read_text()
    lines = source.splitlines(keepends=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model, described = pick_model(Path(tmp), args.model)
        result: dict[str, Any] = {
            "bench": "latency",
            "model": described,
            "file": str(Path(args.file).resolve().relative_to(ROOT))
            if Path(args.file).resolve().is_relative_to(ROOT) else args.file,
            "threads": args.threads,
        }  # fmt: skip
        if "1" in parts:
            result["speculation"] = await bench_speculation(model, lines, args)
        if "2" in parts:
            result["deadline"] = await bench_deadline(model, source, lines, args)
        if "3" in parts:
            result["prefill"] = await bench_prefill(model, source, lines, args)
        if "4" in parts:
            result["recent_edits"] = await bench_recent_edits(model, args)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
