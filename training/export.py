"""``codegen-train export``: artifacts that serving engines load as they are.

- ``peft``: an adapter directory for vLLM's ``--lora-modules NAME=DIR`` (and PEFT):
  ``adapter_config.json`` naming the base, ``adapter_model.safetensors``, ``codegen.json``.
  Adapter features vLLM cannot serve (DoRA, ``modules_to_save``, bias, per-module
  ranks) are refused here rather than failing, or silently differing, in the server.
- ``merged``: the adapter folded into a full Hugging Face model (``codegen-train merge``).
- ``gguf``: ``model.gguf`` and, with ``--adapter``, ``NAME.lora.gguf`` for the llama.cpp
  server (``llama-server -m model.gguf --lora NAME.lora.gguf``), made by llama.cpp's own
  ``convert_hf_to_gguf.py`` and ``convert_lora_to_gguf.py`` (see
  :mod:`codegen.training.llama_cpp_convert`).

Every export goes to a new path: an existing one is refused, and the files are
written beside it first and moved into place at the end, so a failed export
leaves nothing behind.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from codegen.core.errors import AdapterError, CodegenError, ConfigError, ModelLoadError

PROG = "codegen-train export"
FORMATS = ("peft", "merged", "gguf")
GGUF_TYPES = ("f32", "f16", "bf16", "q8_0", "auto")
LLAMA_CPP_ENV = "CODEGEN_LLAMA_CPP"
CONVERTERS = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "gguf-py", "conversion")
BASE_GGUF = "model.gguf"


def default_llama_cpp_dir() -> Path:
    """Where ``make setup`` unpacks llama.cpp's converters: ``<venv>/llama.cpp``."""
    return Path(sys.prefix) / "llama.cpp"


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- paths and checks


def check_new_path(out: str | Path) -> Path:
    """``out`` as a path, or a :class:`ConfigError` when something is already there."""
    target = Path(out).expanduser()
    if target.exists() or target.is_symlink():
        raise ConfigError(f"--out {out} already exists; export to a new path")
    return target


@contextmanager
def staged_output(out: str | Path) -> Iterator[Path]:
    """A fresh directory that becomes ``out`` when the block succeeds (and vanishes if not)."""
    target = check_new_path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    stage.chmod(0o777 & ~umask)  # mkdtemp's 0700 is for the staging, not the result
    try:
        yield stage
        os.replace(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def local_model_dir(spec: str) -> Path:
    """The local directory of a base model: a path, ``builtin:NAME`` or a cached hub id."""
    from codegen.core.model import resolve_model_path

    resolved = resolve_model_path(spec)
    if Path(resolved).is_dir():
        return Path(resolved).resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(resolved, local_files_only=True))
    except Exception:  # noqa: BLE001 - any hub failure means "not on this disk"
        raise ModelLoadError(
            f"--base {spec}: not a local directory and not in the Hugging Face cache; "
            "download it first (huggingface-cli download) or pass its directory"
        ) from None


def read_adapter_config(adapter: str | Path) -> dict[str, Any]:
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise AdapterError(f"--adapter {adapter}: no such adapter directory")
    config_file = path / "adapter_config.json"
    if not config_file.is_file():
        raise AdapterError(f"--adapter {adapter}: not a PEFT adapter (no adapter_config.json)")
    try:
        config = json.loads(config_file.read_text())
    except ValueError as err:
        raise AdapterError(f"{config_file}: not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise AdapterError(f"{config_file}: not a JSON object")
    return config


def unsupported_lora_features(config: dict[str, Any], engine: str) -> list[str]:
    """What in a PEFT adapter config ``engine`` (``vllm`` or ``llama.cpp``) cannot serve."""
    problems = []
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        problems.append(f"peft_type {config.get('peft_type')} (only LoRA)")
    if config.get("use_dora"):
        problems.append("DoRA (use_dora)")
    if config.get("modules_to_save"):
        problems.append(
            f"modules_to_save {config['modules_to_save']} (trained embeddings or head, "
            "as from sft --train-embeddings)"
        )
    if str(config.get("bias", "none")) != "none" or config.get("lora_bias"):
        problems.append("trained biases (bias/lora_bias)")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        problems.append("per-module ranks or alphas (rank_pattern/alpha_pattern)")
    if engine == "llama.cpp" and config.get("use_rslora"):
        problems.append("rsLoRA scaling (use_rslora; llama.cpp scales by alpha/r)")
    return problems


def check_adapter_for(config: dict[str, Any], adapter: str, engine: str) -> None:
    problems = unsupported_lora_features(config, engine)
    if problems:
        raise AdapterError(
            f"--adapter {adapter}: {engine} cannot serve {', '.join(problems)}; "
            "export --format merged instead (a full model, convertible with --format gguf)"
        )


def check_adapter_matches_base(adapter: str, base_dir: Path, base_spec: str) -> None:
    """Refuse an adapter whose ``codegen.json`` names a base of another shape."""
    from transformers import AutoConfig

    from codegen.core.metadata import config_fingerprint, read_metadata

    want = read_metadata(Path(adapter).expanduser()).get("base_fingerprint")
    if want and want != config_fingerprint(AutoConfig.from_pretrained(base_dir)):
        raise AdapterError(
            f"--adapter {adapter}: trained for base "
            f"{read_metadata(Path(adapter).expanduser()).get('base_model', '?')!r}, "
            f"not {base_spec!r}"
        )


def check_not_quantized(base_dir: Path, spec: str) -> None:
    config = json.loads((base_dir / "config.json").read_text())
    if config.get("quantization_config"):
        raise ModelLoadError(
            f"--base {spec} is saved quantized; export from its original 16/32-bit weights"
        )


# ---------------------------------------------------------------- peft


def _adapter_weights(adapter_dir: Path, stage: Path) -> None:
    safetensors_file = adapter_dir / "adapter_model.safetensors"
    if safetensors_file.is_file():
        shutil.copyfile(safetensors_file, stage / safetensors_file.name)
        return
    bin_file = adapter_dir / "adapter_model.bin"
    if not bin_file.is_file():
        raise AdapterError(f"--adapter {adapter_dir}: no adapter_model.safetensors or .bin")
    import torch
    from safetensors.torch import save_file

    state = torch.load(bin_file, map_location="cpu", weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(stage / safetensors_file.name))


def export_peft(base: str, adapter: str, out: str) -> dict[str, Any]:
    """Write a vLLM-ready copy of ``adapter`` whose config names ``base``."""
    from codegen.core.metadata import read_metadata, write_metadata

    config = read_adapter_config(adapter)
    check_adapter_for(config, adapter, "vllm")
    base_dir = local_model_dir(base)
    check_adapter_matches_base(adapter, base_dir, base)
    adapter_dir = Path(adapter).expanduser().resolve()
    with staged_output(out) as stage:
        # A hub id stays a hub id (vLLM resolves it); a local base is named by its path.
        from codegen.core.model import resolve_model_path

        resolved = resolve_model_path(base)
        config["base_model_name_or_path"] = str(base_dir) if Path(resolved).is_dir() else resolved
        config["inference_mode"] = True
        (stage / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
        _adapter_weights(adapter_dir, stage)
        meta = dict(read_metadata(adapter_dir))
        meta.update(kind="peft", base_model=base, exported_from=str(adapter_dir))
        write_metadata(stage, **meta)
    log(f"wrote {out} (PEFT adapter, rank {config.get('r')}, base {base})")
    return meta


# ---------------------------------------------------------------- merged


def export_merged(base: str, adapter: str, out: str, device: str = "auto") -> dict[str, Any]:
    """The adapter merged into its base, as a full model directory (``codegen-train merge``)."""
    from .merge import merge_adapter

    with staged_output(out) as stage:
        meta = merge_adapter(base, adapter, str(stage), device=device)
    return meta


# ---------------------------------------------------------------- gguf


def find_llama_cpp(flag: str | None) -> Path:
    """The llama.cpp directory holding the converters: flag, then env var, then default."""
    root = Path(flag or os.environ.get(LLAMA_CPP_ENV) or default_llama_cpp_dir()).expanduser()
    missing = [name for name in CONVERTERS if not (root / name).exists()]
    if missing:
        raise ConfigError(
            f"llama.cpp's converters are not in {root} (missing {', '.join(missing)}); "
            f"pass --llama-cpp DIR or set {LLAMA_CPP_ENV} to a checkout of "
            "https://github.com/ggml-org/llama.cpp (same version as your llama-server), "
            "or run `make setup`, which unpacks them into .venv/llama.cpp"
        )
    return root.resolve()


def lora_gguf_name(adapter: str | Path) -> str:
    """``NAME.lora.gguf`` after the adapter directory (the name llama-server lists)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(adapter).expanduser().resolve().name)
    return f"{name.strip('.-') or 'adapter'}.lora.gguf"


def _fim_format_name(base_dir: Path) -> str | None:
    from codegen.core.metadata import read_metadata

    name = read_metadata(base_dir).get("fim_format")
    if name:
        return str(name)
    try:
        from transformers import AutoTokenizer

        from codegen.core.fim import detect_fim_format

        return detect_fim_format(AutoTokenizer.from_pretrained(base_dir)).name
    except CodegenError:
        return None


def run_llama_cpp_converters(root: Path, jobs: list[dict[str, Any]]) -> None:
    """Run the converter ``jobs`` in one child process; one clear line if it fails."""
    from .llama_cpp_convert import MARKER

    cmd = [sys.executable, "-m", "codegen.training.llama_cpp_convert", str(root), json.dumps(jobs)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("NO_LOCAL_GGUF", None)  # use the checkout's gguf-py, the version its scripts expect
    tail: collections.deque[str] = collections.deque(maxlen=40)
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, errors="replace"
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            line = line.rstrip("\n")
            if line.startswith(MARKER):
                log(line[len(MARKER) :].strip())
            elif line.strip():
                tail.append(line)
        code = child.wait()
    if code != 0:
        reason = _failure_line(list(tail))
        raise CodegenError(
            f"llama.cpp's converter failed ({reason}); the log ends:\n" + "\n".join(list(tail)[-8:])
        )


def _failure_line(lines: list[str]) -> str:
    for line in reversed(lines):
        if (
            re.match(r"^[A-Za-z_.]*(Error|Exception|NotImplementedError)\b", line)
            or "ERROR" in line
        ):
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"


def export_gguf(
    base: str,
    out: str,
    adapter: str | None = None,
    llama_cpp: str | None = None,
    gguf_type: str = "auto",
) -> dict[str, Any]:
    """``model.gguf`` (and ``NAME.lora.gguf`` for ``adapter``) with llama.cpp's converters."""
    from codegen.core.metadata import write_metadata

    if gguf_type not in GGUF_TYPES:
        raise ConfigError(f"--gguf-type {gguf_type}: choose one of {', '.join(GGUF_TYPES)}")
    root = find_llama_cpp(llama_cpp)
    base_dir = local_model_dir(base)
    check_not_quantized(base_dir, base)
    if adapter is not None:
        check_adapter_for(read_adapter_config(adapter), adapter, "llama.cpp")
        check_adapter_matches_base(adapter, base_dir, base)
    lora_name = lora_gguf_name(adapter) if adapter is not None else None
    with staged_output(out) as stage:
        jobs = [
            {
                "label": f"converting base {base} -> {Path(out) / BASE_GGUF} ({gguf_type})",
                "script": "convert_hf_to_gguf.py",
                "argv": [
                    str(base_dir),
                    "--outfile",
                    str(stage / BASE_GGUF),
                    "--outtype",
                    gguf_type,
                ],
            }
        ]
        if adapter is not None and lora_name is not None:
            jobs.append(
                {
                    "label": f"converting adapter {adapter} -> {Path(out) / lora_name}",
                    "script": "convert_lora_to_gguf.py",
                    "argv": [
                        str(Path(adapter).expanduser().resolve()),
                        "--base",
                        str(base_dir),
                        "--outfile",
                        str(stage / lora_name),
                        "--outtype",
                        gguf_type,
                    ],
                }
            )
        run_llama_cpp_converters(root, jobs)
        meta = {
            "kind": "gguf",
            "base_model": base,
            "model_gguf": BASE_GGUF,
            "lora_gguf": lora_name,
            "adapter": str(Path(adapter).expanduser().resolve()) if adapter else None,
            "gguf_type": gguf_type,
            "fim_format": _fim_format_name(base_dir),
            "llama_cpp": str(root),
        }
        write_metadata(stage, **meta)
    log(f"wrote {out} ({BASE_GGUF}{', ' + lora_name if lora_name else ''})")
    return meta


# ---------------------------------------------------------------- command line


def export(args: argparse.Namespace) -> dict[str, Any]:
    """Dispatch one ``codegen-train export`` command line."""
    check_new_path(args.out)  # before any model is loaded
    if args.format in ("peft", "merged") and not args.adapter:
        raise ConfigError(f"--format {args.format} needs --adapter DIR")
    if args.format == "peft":
        return export_peft(args.base, args.adapter, args.out)
    if args.format == "merged":
        return export_merged(args.base, args.adapter, args.out, device=args.device)
    return export_gguf(args.base, args.out, args.adapter, args.llama_cpp, args.gguf_type)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every ``codegen-train export`` option to ``parser``."""
    parser.add_argument(
        "--base", required=True, help="base model: directory, hub id or builtin:tiny"
    )
    parser.add_argument("--adapter", help="PEFT adapter directory (codegen-train sft output)")
    parser.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="peft: adapter dir for vLLM --lora-modules; merged: full HF model; "
        "gguf: model.gguf (+ NAME.lora.gguf) for the llama.cpp server",
    )
    parser.add_argument("--out", required=True, help="output path (must not exist)")
    parser.add_argument(
        "--llama-cpp",
        help=f"llama.cpp checkout with the converters (default: ${LLAMA_CPP_ENV}, else "
        f"{default_llama_cpp_dir()})",
    )
    parser.add_argument(
        "--gguf-type",
        default="auto",
        choices=GGUF_TYPES,
        help="GGUF weight type; auto is llama.cpp's highest-fidelity 16-bit (default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="merged only: where to merge (cpu keeps float32) (default: %(default)s)",
    )


def run_export(args: argparse.Namespace) -> int:
    meta = export(args)
    print(json.dumps({"format": args.format, "out": args.out, **meta}, indent=2, default=str))
    return 0
