"""Load a causal code LM (Hugging Face id, local directory or ``builtin:tiny``),
optionally quantized with bitsandbytes, with PEFT adapters on top.

torch and transformers are imported inside the functions so that importing
this module stays cheap.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AdapterError, ConfigError, ModelLoadError
from .fim import FimFormat, detect_fim_format
from .metadata import config_fingerprint, read_metadata
from .quantize import QUANTIZE_CHOICES as QUANTIZE_CHOICES
from .quantize import guard_packed_cpu_path, quantization_config

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda")
BUILTIN_PREFIX = "builtin:"


@dataclass
class LoadedModel:
    """A model ready for generation: the (possibly PEFT-wrapped) model and its tokenizer."""

    model: Any
    tokenizer: Any
    fim: FimFormat
    spec: str
    path: str
    device: str
    quantize: str
    fingerprint: str
    adapters: dict[str, str] = field(default_factory=dict)
    """Adapter name -> directory, for every adapter attached so far."""
    active_adapter: str | None = None


def resolve_device(device: str) -> str:
    if device not in DEVICE_CHOICES:
        raise ConfigError(f"unknown device {device!r}; use one of {', '.join(DEVICE_CHOICES)}")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device 'cuda' was requested but no CUDA GPU is visible; use --device cpu"
        )
    return device


def _looks_like_path(spec: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else is meant as a path."""
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1


def resolve_model_path(spec: str) -> str:
    """A local directory for ``spec``, or the hub id itself (resolved from the local cache)."""
    if spec.startswith(BUILTIN_PREFIX):
        from .builtin import builtin_model_path

        return str(builtin_model_path(spec[len(BUILTIN_PREFIX) :]))
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelLoadError(f"{spec}: not a model directory (no config.json in it)")
        return str(path)
    if path.exists():
        raise ModelLoadError(f"{spec}: is a file; pass the model's directory")
    if _looks_like_path(spec):
        raise ModelLoadError(f"{spec}: no such model directory")
    return spec


def _offline_error(spec: str) -> ModelLoadError:
    return ModelLoadError(
        f"model {spec!r} is not in the local Hugging Face cache and the hub cannot be reached. "
        f"On a machine with network run `huggingface-cli download {spec}` (or save it with "
        "save_pretrained) and pass the local directory with --model DIR"
    )


def load_model(
    spec: str,
    quantize: str = "none",
    device: str = "auto",
    fim_format: str | None = None,
    adapter: str | None = None,
    sharded: bool = False,
) -> LoadedModel:
    """Load ``spec`` for generation; raise :class:`ModelLoadError` with one clear line on failure.

    ``sharded``: FSDP will shard the weights (training on several GPUs). A 4-bit base
    then stores its packed weights in the compute dtype and is loaded without a
    ``device_map``: FSDP places the shards itself."""
    device = resolve_device(device)
    qconfig = quantization_config(quantize, device, sharded=sharded)
    path = resolve_model_path(spec)
    import torch
    from safetensors import SafetensorError
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    local_only = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or Path(path).is_dir()
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=local_only)
    except OSError as err:
        if Path(path).is_dir():
            raise ModelLoadError(f"{spec}: cannot read config.json ({err})") from None
        raise _offline_error(spec) from None
    except ValueError as err:
        raise ModelLoadError(f"{spec}: unsupported model config ({err})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{spec}: cannot load its tokenizer ({err})") from None

    meta = read_metadata(path) if Path(path).is_dir() else {}
    fim = detect_fim_format(tokenizer, fim_format or meta.get("fim_format"))

    kwargs: dict[str, Any] = {"local_files_only": local_only}
    if qconfig is not None:
        kwargs["quantization_config"] = qconfig
        if not sharded:
            # The current CUDA device: 0 for one process, each process's own GPU under torchrun.
            gpu = torch.cuda.current_device() if device == "cuda" else "cpu"
            kwargs["device_map"] = {"": gpu}
    kwargs["dtype"] = torch.bfloat16 if device == "cuda" else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(path, config=config, **kwargs)
    except ValueError as err:
        if "Unrecognized configuration class" in str(err):
            raise ModelLoadError(
                f"{spec}: {type(config).__name__} is not a causal language model; "
                "codegen needs a decoder-only code model (e.g. Qwen/Qwen2.5-Coder-1.5B)"
            ) from None
        raise ModelLoadError(f"{spec}: cannot load the model ({err})") from None
    except (OSError, RuntimeError, SafetensorError) as err:
        raise ModelLoadError(
            f"{spec}: cannot load the weights, corrupt or incomplete? ({err})"
        ) from None
    if qconfig is None:
        model.to(device)  # type: ignore[arg-type]
    elif quantize == "4bit" and device == "cpu":
        guard_packed_cpu_path(model)
    model.eval()
    loaded = LoadedModel(
        model=model,
        tokenizer=tokenizer,
        fim=fim,
        spec=spec,
        path=path,
        device=device,
        quantize=quantize,
        fingerprint=config_fingerprint(config),
    )
    log.info("loaded %s (%s, %s) with FIM format %s", spec, device, quantize, fim.name)
    if adapter:
        attach_adapter(loaded, adapter)
    return loaded


def _check_adapter_dir(loaded: LoadedModel, adapter_dir: str) -> None:
    path = Path(adapter_dir).expanduser()
    if not path.is_dir():
        raise AdapterError(f"{adapter_dir}: no such adapter directory")
    if not (path / "adapter_config.json").is_file():
        raise AdapterError(f"{adapter_dir}: not a PEFT adapter (no adapter_config.json)")
    meta = read_metadata(str(path))
    want = meta.get("base_fingerprint")
    if want and want != loaded.fingerprint:
        raise AdapterError(
            f"{adapter_dir}: this adapter was trained for base {meta.get('base_model', '?')!r}, "
            f"not {loaded.spec!r}; load it with --model {meta.get('base_model', '<its base>')}"
        )


def attach_adapter(loaded: LoadedModel, adapter_dir: str, name: str | None = None) -> str:
    """Attach a PEFT adapter (without reloading the base) and make it active; return its name."""
    _check_adapter_dir(loaded, adapter_dir)
    from peft import PeftModel

    name = name or Path(adapter_dir).expanduser().resolve().name or "adapter"
    if name in loaded.adapters and loaded.adapters[name] != adapter_dir:
        name = f"{name}-{len(loaded.adapters)}"
    try:
        if name not in loaded.adapters:
            with warnings.catch_warnings():
                # Adapters from `codegen-train sft --train-embeddings` carry untied copies of
                # the embeddings and head on purpose; PEFT's tying caution does not apply.
                warnings.filterwarnings("ignore", message=".*tie_word_embeddings=True.*")
                if isinstance(loaded.model, PeftModel):
                    loaded.model.load_adapter(adapter_dir, adapter_name=name)
                else:
                    loaded.model = PeftModel.from_pretrained(
                        loaded.model, adapter_dir, adapter_name=name
                    )
            loaded.model.eval()
    except (RuntimeError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise AdapterError(
            f"{adapter_dir}: cannot attach this adapter to {loaded.spec!r}; it was probably "
            f"trained for another base model ({first[:200]})"
        ) from None
    except OSError as err:
        raise AdapterError(f"{adapter_dir}: corrupt adapter files ({err})") from None
    loaded.adapters[name] = adapter_dir
    set_active_adapter(loaded, name)
    return name


def set_active_adapter(loaded: LoadedModel, name: str | None) -> None:
    """Switch to an attached adapter, or to the bare base model with ``None``."""
    if name is not None and name not in loaded.adapters:
        known = ", ".join(loaded.adapters) or "none"
        raise AdapterError(f"no adapter named {name!r} is attached (attached: {known})")
    if name is not None:
        loaded.model.set_adapter(name)
    loaded.active_adapter = name
