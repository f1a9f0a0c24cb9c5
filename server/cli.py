"""``codegen-lsp``: start the language server on stdio or TCP.

Flags give the defaults for options the client may override through
``initializationOptions`` or ``workspace/didChangeConfiguration``.
Argument parsing imports neither pygls nor torch, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import sys

from codegen.core.cli_errors import run_cli
from codegen.core.errors import ConfigError
from codegen.core.fim import FIM_FORMATS
from codegen.core.model import DEVICE_CHOICES, QUANTIZE_CHOICES

PROG = "codegen-lsp"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Language server for codegen: fill-in-the-middle inline completions "
        "(textDocument/inlineCompletion) from a local model.",
    )
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument(
        "--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)"
    )
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen for one client on HOST:PORT")
    parser.add_argument(
        "--model",
        default="builtin:tiny",
        help="Hugging Face model id, local model directory, builtin:tiny (default), or the URL "
        "of an OpenAI-compatible server (http://HOST:PORT/v1: vLLM, llama.cpp server, ...)",
    )
    parser.add_argument(
        "--adapter",
        help="LoRA adapter directory to load on top of the model; with a server URL, the name "
        "of a LoRA it serves",
    )
    parser.add_argument(
        "--served-model",
        metavar="NAME",
        help="with a server URL: the model to request (default: the first of GET /v1/models)",
    )
    parser.add_argument(
        "--api-key-env",
        metavar="VAR",
        default="CODEGEN_API_KEY",
        help="with a server URL: the environment variable holding its API key "
        "(default: CODEGEN_API_KEY)",
    )
    parser.add_argument(
        "--quantize",
        choices=QUANTIZE_CHOICES,
        default="none",
        help="load the weights quantized with bitsandbytes (default: none)",
    )
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default="auto",
        help="where the model runs; auto picks cuda when available",
    )
    parser.add_argument(
        "--fim-format",
        type=str.lower,
        choices=sorted(FIM_FORMATS),
        help="override the detected fill-in-the-middle format (needed for a server that does "
        "not expose its tokenizer)",
    )
    parser.add_argument(
        "--erase-acceptance-log",
        nargs="?",
        const="",
        metavar="PATH",
        help="delete the acceptance log (default ~/.local/share/codegen/acceptance.jsonl, or "
        "PATH) and its rotated files, then exit",
    )
    parser.add_argument("--log-file", help="write the server log to this file (default: stderr)")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log verbosity (default: WARNING)",
    )
    # Testing and benchmarking only: a deterministic fake engine (--model fake:REPLY).
    parser.add_argument("--fake-delay-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--fake-load-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--fake-tokens", type=int, default=8, help=argparse.SUPPRESS)
    return parser


def parse_tcp(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--tcp wants HOST:PORT (e.g. 127.0.0.1:2087), got {value!r}")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(lambda: serve(args), PROG)


def erase_log(path: str) -> int:
    from pathlib import Path

    from .acceptance_log import default_path, erase

    target = Path(path).expanduser() if path else default_path()
    removed = erase(target)
    print(f"erased {len(removed)} file(s) of the acceptance log at {target}")
    return 0


def serve(args: argparse.Namespace) -> int:
    if args.erase_acceptance_log is not None:
        return erase_log(args.erase_acceptance_log)
    tcp = parse_tcp(args.tcp) if args.tcp else None
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    from .app import create_server
    from .model.host import FakeSettings
    from .options import ModelOptions, Options

    defaults = Options(
        model=ModelOptions(
            model=args.model,
            adapter=args.adapter,
            quantize=args.quantize,
            device=args.device,
            fim_format=args.fim_format,
            served_model=args.served_model,
            api_key_env=args.api_key_env,
        )
    )
    fake = FakeSettings(args.fake_delay_ms, args.fake_load_ms, args.fake_tokens)
    server = create_server(defaults, fake)
    logging.getLogger(__name__).info("resolved options: %s", defaults)
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
