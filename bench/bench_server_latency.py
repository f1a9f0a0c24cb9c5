"""Language-server latency benchmarks; prints JSON.

1. overhead: end-to-end inline completion time minus engine time, on a
   5,000-line Python file (fake engine: engine time ~0), against a baseline
   request that does no work (unknown document) in the same run.
2. burst: 20 automatic keystroke requests 50 ms apart; generations started
   with the adaptive debounce, against the same burst with debounce off.
3. typed-ahead: a keystroke matching the current suggestion vs a model call
   (fake engine with a realistic per-token delay, or --model DIR for a real one).

    python bench/bench_server_latency.py [--requests 60] [--model DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "codegen.server.cli"]
URI = "file:///bench.py"


def five_thousand_lines() -> str:
    body = []
    for i in range(1250):
        body.append(f"def handler_{i}(request, cache):\n")
        body.append(f"    key = request.path + '{i}'\n")
        body.append("    return cache.get(key)\n")
        body.append("\n")
    return "".join(body)


async def start(*args: str, init: Any = None) -> LanguageClient:
    client = await ClientServerConfig(server_command=[*SERVER, *args]).start()
    caps = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
    await client.initialize_session(
        types.InitializeParams(capabilities=caps, initialization_options=init)
    )
    for _ in range(6000):
        if (await status(client))["state"] in ("ready", "failed"):
            break
        await asyncio.sleep(0.05)
    return client


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


async def status(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="codegen.status")
    )


async def request(client: LanguageClient, uri: str, line: int, char: int, invoked: bool) -> Any:
    kind = types.InlineCompletionTriggerKind
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(kind.Invoked if invoked else kind.Automatic),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, char),
        )
    )


def edit(client: LanguageClient, version: int, line: int, char: int, text: str) -> None:
    pos = types.Position(line, char)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=URI),
            [types.TextDocumentContentChangePartial(types.Range(pos, pos), text)],
        )
    )


def open_doc(client: LanguageClient, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "python", 1, text))
    )


async def bench_overhead(n: int, model: list[str]) -> dict[str, Any]:
    client = await start(*model)
    open_doc(client, five_thousand_lines())
    totals, engines, baseline = [], [], []
    for i in range(n):
        line = 4 * ((i * 37) % 1250) + 3  # a blank line between functions: a fresh key
        t = time.perf_counter()
        await request(client, "file:///unknown.py", line, 0, True)
        baseline.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        await request(client, URI, line, 0, True)
        totals.append((time.perf_counter() - t) * 1000)
    report = await status(client)
    recent = [r for r in report["latency"]["recent"] if r["source"] == "model"]
    engines = [r["engine_ms"] for r in recent][-n:]
    await stop(client)
    engine_p50 = statistics.median(engines) if engines else 0.0
    overhead = [t - e for t, e in zip(totals[-len(engines) :], engines, strict=True)] or totals
    return {
        "file_lines": 5000,
        "requests": n,
        "measured": len(engines),
        "end_to_end_ms_p50": round(statistics.median(totals), 2),
        "engine_ms_p50": round(engine_p50, 2),
        "server_overhead_ms_p50": round(statistics.median(overhead), 2),
        "baseline_empty_request_ms_p50": round(statistics.median(baseline), 2),
        "overhead_vs_empty_request": round(
            statistics.median(overhead) / statistics.median(baseline), 2
        ),
        "target_ms": 10,
        "target_vs_empty_request": 2,
    }


async def burst(args: list[str], init: Any) -> dict[str, Any]:
    client = await start(*args, init=init)
    open_doc(client, "def main():\n    total = \n")
    pending = []
    for i in range(20):
        edit(client, i + 2, 1, 12 + i, "x")
        pending.append(asyncio.ensure_future(request(client, URI, 1, 13 + i, False)))
        await asyncio.sleep(0.05)
    replies = await asyncio.gather(*pending, return_exceptions=True)
    report = await status(client)
    await stop(client)
    return {
        "requests": 20,
        "results": sum(1 for r in replies if not isinstance(r, BaseException)),
        "cancellation_errors": sum(1 for r in replies if isinstance(r, BaseException)),
        "generations_started": report["generations"],
        "last_has_suggestion": bool(
            not isinstance(replies[-1], BaseException) and replies[-1].items
        ),
    }


async def bench_burst() -> dict[str, Any]:
    fake = ["--model", "fake:compute()", "--fake-delay-ms", "20"]
    with_debounce = await burst(fake, None)
    without = await burst(fake, {"completion": {"debounceMs": 0, "adaptiveDebounce": False}})
    return {"adaptive_debounce": with_debounce, "baseline_no_debounce": without, "target_max": 2}


async def bench_typed_ahead(n: int, model: list[str], delay_ms: float) -> dict[str, Any]:
    args = model or ["--model", "fake:result = compute(value)", "--fake-delay-ms", str(delay_ms)]
    init = {"completion": {"temperature": 1.0, "seed": 1, "minLength": 1}} if model else None
    client = await start(*args, init=init)
    model_ms, typed_ms = [], []
    version = 1
    for i in range(n):
        text = f"def step_{i}(value):\n    \n"
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(URI))
        )
        open_doc(client, text)
        t = time.perf_counter()
        first = await request(client, URI, 1, 4, True)
        model_ms.append((time.perf_counter() - t) * 1000)
        if not first.items:
            continue
        suggestion = first.items[0].insert_text
        version += 1
        edit(client, version, 1, 4, suggestion[0])
        t = time.perf_counter()
        second = await request(client, URI, 1, 5, False)
        typed_ms.append((time.perf_counter() - t) * 1000)
        assert second.items and second.items[0].insert_text == suggestion[1:], second
    report = await status(client)
    await stop(client)
    m, k = statistics.median(model_ms), statistics.median(typed_ms) if typed_ms else float("nan")
    return {
        "engine": "real model" if model else f"fake engine, {delay_ms} ms/token x 8 tokens",
        "model_call_ms_p50": round(m, 2),
        "typed_ahead_ms_p50": round(k, 3),
        "speedup": round(m / k, 1) if typed_ms else None,
        "typed_answers": report["latency"]["counters"].get("answers.typed", 0),
        "target_speedup": 20,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60, help="requests per measurement")
    parser.add_argument("--model", help="a real model directory for the typed-ahead baseline")
    parser.add_argument("--delay-ms", type=float, default=15.0, help="fake engine ms per token")
    args = parser.parse_args()
    fake = ["--model", "fake:data = load(path)"]
    real = ["--model", args.model, "--device", "cpu"] if args.model else []
    result = {
        "overhead": await bench_overhead(args.requests, fake),
        "burst": await bench_burst(),
        "typed_ahead": await bench_typed_ahead(max(5, args.requests // 4), real, args.delay_ms),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
