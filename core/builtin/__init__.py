"""``builtin:tiny``: the project's own small FIM model, built on first use.

It is trained by :func:`codegen.core.builtin.pretrain.pretrain` on the running
interpreter's standard library and cached under the user cache directory
(``$CODEGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/codegen``, else ``~/.cache/codegen``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError

BUILTIN_VERSION = "v4"
"""Bump when the built model changes (v4: a token budget only; the clock is a safety net)."""
BUILTINS = ("tiny",)


def cache_dir() -> Path:
    env = os.environ.get("CODEGEN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codegen"


def builtin_dir(name: str = "tiny") -> Path:
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache_dir() / f"builtin-{name}-{BUILTIN_VERSION}-{tag}"


def is_built(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def builtin_model_path(name: str = "tiny", max_minutes: float | None = None) -> Path:
    """The directory of builtin model ``name``, training it first if it is not cached.

    ``max_minutes`` overrides the build's wall-clock safety net (its budget is tokens)."""
    if name not in BUILTINS:
        raise ModelLoadError(f"unknown builtin model 'builtin:{name}'; available: builtin:tiny")
    path = builtin_dir(name)
    if is_built(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        # Another process (a second editor, a test) may be building it: wait for it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_built(path):
            return path
        build_builtin(path, max_minutes)
    return path


def build_builtin(path: Path, max_minutes: float | None = None) -> dict[str, Any]:
    """Train the builtin model into ``path`` atomically (a temp dir renamed at the end)."""
    from .pretrain import PretrainConfig, pretrain

    config = PretrainConfig()
    if max_minutes is not None:
        config.max_minutes = max_minutes
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"codegen: building builtin:tiny (about 5 min on 2 free cores, once); cached in {path}",
        file=sys.stderr,
    )
    with progress_bar() as report:
        metrics = pretrain(tmp, config, progress=report)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    print(
        f"codegen: builtin:tiny held-out loss {metrics['heldout_loss']:.3f} "
        f"(untrained {metrics['untrained_heldout_loss']:.3f})",
        file=sys.stderr,
    )
    if metrics["stopped_by"] != "max_tokens":
        print(
            f"codegen: warning: the cached builtin:tiny is undertrained; delete {path} to "
            "build it again on a less busy machine",
            file=sys.stderr,
        )
    return metrics


class progress_bar:  # noqa: N801 - used as a context manager, reads like a function
    """A tqdm bar (percent of the token budget) fed by pretrain's progress callback."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, unit="%", desc="pretrain", file=sys.stderr)

    def __enter__(self) -> Any:
        def report(info: dict[str, Any]) -> None:
            self.bar.set_postfix(
                loss=f"{info['loss']:.3f}", tok_s=f"{info['tokens_per_s']:.0f}", refresh=False
            )
            # update() honours tqdm's refresh interval, so logs are not flooded.
            self.bar.update(max(0, round(100 * info["fraction"]) - self.bar.n))

        return report

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
