"""``codegen.json``: the metadata codegen keeps beside a model or an adapter.

One file per model directory, a flat JSON object. Fields used today:

- ``fim_format``: the FIM format the model was trained with (see :mod:`codegen.core.fim`);
- ``kind``: ``builtin-tiny``, ``random-tiny``, ``merged``, ...;
- for adapters: ``base_model``, ``base_revision``, ``base_fingerprint`` (see
  :func:`config_fingerprint`), ``data_manifest_sha256``, ``metrics`` and ``config``.

Reading never fails on a missing file (an empty dict); a file that exists but is
not valid JSON is a :class:`~codegen.core.errors.ModelLoadError`. Writing merges
into what is there and replaces the file atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .errors import ModelLoadError

FILENAME = "codegen.json"

_FINGERPRINT_KEYS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
)


def read_metadata(model_dir: str | Path) -> dict[str, Any]:
    """The ``codegen.json`` of ``model_dir`` as a dict (empty when there is none)."""
    path = Path(model_dir) / FILENAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{path}: unreadable codegen metadata ({err})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: codegen metadata is not a JSON object")
    return data


def write_metadata(model_dir: str | Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into ``model_dir``'s ``codegen.json``; return the new content."""
    path = Path(model_dir) / FILENAME
    data = read_metadata(model_dir)
    data.update(fields)
    tmp = path.with_name(f".{FILENAME}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return data


def config_fingerprint(config: Any) -> str:
    """A short hash of the architecture-defining fields of a model config.

    Adapters record it so that loading one onto another base fails clearly.
    """
    blob = json.dumps({k: getattr(config, k, None) for k in _FINGERPRINT_KEYS}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
