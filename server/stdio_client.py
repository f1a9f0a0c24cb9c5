"""Try the server without an editor: one inline completion over a real stdio round trip.

    python -m codegen.server.stdio_client FILE:LINE:COL [--model M] [--adapter DIR] ...

Starts ``codegen-lsp --stdio`` as a subprocess, opens FILE, waits for the model
to load, asks ``textDocument/inlineCompletion`` at LINE:COL (1-based, as editors
show them) and prints the suggestion. ``make demo`` uses it; so can you, to check
a model or adapter before pointing an editor at it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from codegen.core.cli_errors import run_cli
from codegen.core.errors import ConfigError

PROG = "codegen-lsp-try"


def parse_location(text: str) -> tuple[Path, int, int]:
    path, _, rest = text.rpartition(":")
    path, _, line = path.rpartition(":")
    try:
        line_no, col = int(line), int(rest)
    except ValueError:
        raise ConfigError(f"{text!r}: expected FILE:LINE:COL, e.g. app.py:12:5") from None
    if line_no < 1 or col < 1:
        raise ConfigError("LINE and COL are 1-based")
    return Path(path), line_no - 1, col - 1


async def complete(args: argparse.Namespace) -> dict[str, Any]:
    from pygls.lsp.client import LanguageClient

    path, line, col = parse_location(args.location)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    expected = ""
    if args.clear_rest_of_line:
        lines = text.splitlines(keepends=True)
        if line >= len(lines):
            raise ConfigError(f"{path} has only {len(lines)} lines")
        body = lines[line].rstrip("\r\n")
        expected = body[col:]
        lines[line] = body[:col] + lines[line][len(body) :]
        text = "".join(lines)
    server_args = ["--stdio", "--model", args.model, "--device", args.device]
    if args.adapter:
        server_args += ["--adapter", args.adapter]
    client = LanguageClient("codegen-stdio-client", "1")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: types.PublishDiagnosticsParams) -> None:
        """Syntax diagnostics arrive with the document; this client only wants the completion."""

    await client.start_io(sys.executable, "-m", "codegen.server.cli", *server_args)
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options=json.loads(args.options) if args.options else None,
            )
        )
        client.initialized(types.InitializedParams())
        started = time.perf_counter()
        status: dict[str, Any] = {}
        while time.perf_counter() - started < args.load_timeout:
            status = (
                await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="codegen.status")
                )
                or {}
            )
            if status.get("state") in ("ready", "failed"):
                break
            await asyncio.sleep(0.2)
        if status.get("state") != "ready":
            raise ConfigError(f"the server's model did not load: {status.get('error', status)}")
        uri = path.resolve().as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )
        asked = time.perf_counter()
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, col),
            )
        )
        latency_ms = (time.perf_counter() - asked) * 1000
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    items = (result.items if isinstance(result, types.InlineCompletionList) else result) or []
    first = items[0] if items else None
    return {
        "file": str(path),
        "position": {"line": line + 1, "col": col + 1},
        "model": status.get("model"),
        "adapter": status.get("adapter"),
        "latency_ms": round(latency_ms, 1),
        "insert_text": first.insert_text if first else "",
        "actual_rest_of_line": expected if args.clear_rest_of_line else None,
        "range": (
            [
                first.range.start.line,
                first.range.start.character,
                first.range.end.line,
                first.range.end.character,
            ]
            if first and first.range
            else None
        ),  # fmt: skip
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("location", help="FILE:LINE:COL (1-based) where the cursor is")
    parser.add_argument("--model", default="builtin:tiny", help="model spec for the server")
    parser.add_argument("--adapter", default=None, help="LoRA adapter directory")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--options", default=None, help="initializationOptions as JSON")
    parser.add_argument("--load-timeout", type=float, default=600, help="seconds to wait")
    parser.add_argument(
        "--clear-rest-of-line",
        action="store_true",
        help="pretend the rest of LINE after COL is not typed yet (and show what it was)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    def run() -> int:
        out = asyncio.run(complete(args))
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            print(f"model {out['model']} adapter {out['adapter']}: {out['latency_ms']} ms")
            print(
                f"suggestion: {out['insert_text']!r}" if out["insert_text"] else "(no suggestion)"
            )
            if out["actual_rest_of_line"] is not None:
                print(f"the file has: {out['actual_rest_of_line']!r}")
        return 0

    return run_cli(run, PROG)


if __name__ == "__main__":
    sys.exit(main())
