"""Pretrain a small FIM-capable code model from scratch on a corpus of Python files.

This is what ``builtin:tiny`` is: a ~3M-parameter Llama trained for a few
minutes on the running interpreter's standard library. It is a toy, honest
about it: it writes Python-looking code, not correct code. It exists so that a
new user sees the whole system work offline on a laptop.

The loop is deliberately plain (nanoGPT style): random windows of a packed token
stream, AdamW, warmup then cosine decay over a fixed token budget. The budget is
tokens, not time, so that a busy machine trains the same model as an idle one (only
slower); the wall-clock cap is a safety net, and hitting it is reported (a warning on
stderr, ``stopped_by`` in the metrics that ``codegen.json`` records).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fim import TINY

log = logging.getLogger(__name__)

# Tests, codec tables and bundled data files teach a small model little Python.
SKIP_DIRS = {
    "test",
    "tests",
    "idle_test",
    "site-packages",
    "__pycache__",
    "dist-packages",
    "encodings",
    "pydoc_data",
    "lib2to3",
    "turtledemo",
    "ensurepip",
    "unicodedata",
}


@dataclass
class PretrainConfig:
    corpus: str | None = None
    """A directory of .py files or one text file; None = this interpreter's stdlib."""
    max_tokens: int = 1_200_000
    """The training budget, in tokens (steps of ``batch_size * seq_len``): about 4.5
    minutes on two free cores. A token (not time) budget keeps the model the same on a
    busy machine."""
    max_minutes: float = 60.0
    """Safety net only: a wall-clock cap far above the token budget's time. Training that
    hits it ends early, with a warning, and ``stopped_by: max_minutes`` in the metrics."""
    max_chars: int = 12_000_000
    vocab_size: int = 2048
    hidden: int = 192
    layers: int = 4
    heads: int = 4
    seq_len: int = 256
    batch_size: int = 12
    lr: float = 3e-3
    warmup_steps: int = 30
    fim_rate: float = 0.5
    spm_rate: float = 0.8
    """Share of FIM examples in SPM order, the order builtin:tiny is served in
    (:attr:`codegen.core.fim.FimFormat.default_order`); the rest are PSM."""
    chunk_chars: int = 700
    """Examples are cut from files at line boundaries, at most about this long, so
    that a whole FIM example (suffix, prefix and middle) often fits ``seq_len``."""
    heldout_fraction: float = 0.05
    seed: int = 1234


def default_corpus() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def collect_sources(corpus: str | None, max_chars: int) -> list[tuple[str, str]]:
    """``(relative path, text)`` of the corpus's Python files, sorted, up to ``max_chars``."""
    root = Path(corpus).expanduser() if corpus else default_corpus()
    if not root.exists():
        raise ConfigError(f"{root}: corpus not found; pass a directory of .py files or a file")
    if root.is_file():
        return [(root.name, root.read_text(encoding="utf-8", errors="replace"))]
    files: list[tuple[str, str]] = []
    total = 0
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts[:-1]):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not text.strip() or len(text) > 200_000:
            continue
        files.append((str(rel), text))
        total += len(text)
        if total >= max_chars:
            break
    if not files:
        raise ConfigError(f"{root}: no readable .py files in the corpus")
    return files


def split_chunks(text: str, max_chars: int = 1200) -> list[str]:
    """Cut ``text`` into pieces of whole lines, each at most about ``max_chars`` long."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        if size + len(line) > max_chars and current:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append("".join(current))
    return chunks


def fim_transform(chunk: str, rng: random.Random, order: str = "psm") -> str:
    """Turn a chunk into a FIM example in ``order``: a random span (whole lines or
    characters) becomes the middle."""
    lines = chunk.splitlines(keepends=True)
    if len(lines) >= 3 and rng.random() < 0.6:
        a = rng.randrange(len(lines))
        b = min(len(lines), a + rng.randint(1, 4))
        prefix, middle, suffix = "".join(lines[:a]), "".join(lines[a:b]), "".join(lines[b:])
        # Usually the cursor is mid-line: move a random part of the first line into the prefix.
        first = lines[a]
        cut = rng.randint(0, max(0, len(first.rstrip("\n"))))
        prefix, middle = prefix + middle[:cut], middle[cut:]
    else:
        i, j = sorted(rng.sample(range(len(chunk) + 1), 2)) if len(chunk) > 1 else (0, len(chunk))
        prefix, middle, suffix = chunk[:i], chunk[i:j], chunk[j:]
    prompt, completion = TINY.build_training_example(prefix, middle, suffix, order)
    return prompt + completion


def build_examples(
    files: list[tuple[str, str]],
    fim_rate: float,
    seed: int,
    spm_rate: float = 0.0,
    chunk_chars: int = 1200,
) -> list[str]:
    rng = random.Random(seed)
    examples = []
    for _, text in files:
        for chunk in split_chunks(text, chunk_chars):
            if rng.random() < fim_rate:
                order = "spm" if rng.random() < spm_rate else "psm"
                examples.append(fim_transform(chunk, rng, order))
            else:
                examples.append(chunk + TINY.eot_token)
    return examples


def is_heldout(path: str, fraction: float) -> bool:
    digest = int(hashlib.sha256(path.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < fraction


def pretrain(
    out_dir: str | Path,
    config: PretrainConfig,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train tokenizer and model; save an HF model directory to ``out_dir``; return metrics."""
    import numpy as np
    import torch
    from transformers import LlamaForCausalLM

    from ..metadata import write_metadata
    from .tiny import tiny_config, train_tokenizer

    started = time.time()
    torch.manual_seed(config.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    files = collect_sources(config.corpus, config.max_chars)
    train_files = [f for f in files if not is_heldout(f[0], config.heldout_fraction)]
    held_files = [f for f in files if is_heldout(f[0], config.heldout_fraction)] or files[-1:]
    log.info("corpus: %d files (%d held out)", len(files), len(held_files))

    tokenizer = train_tokenizer((text for _, text in train_files), config.vocab_size)
    streams = {}
    for name, subset, seed in (("train", train_files, config.seed), ("val", held_files, 7)):
        examples = build_examples(
            subset, config.fim_rate, seed, config.spm_rate, config.chunk_chars
        )
        ids = tokenizer(examples, add_special_tokens=False)["input_ids"]
        streams[name] = torch.from_numpy(np.fromiter((t for seq in ids for t in seq), np.int64))
    if len(streams["val"]) <= config.seq_len + 1:
        streams["val"] = streams["train"][-(config.seq_len + 1) * 8 :]

    model_config = tiny_config(
        len(tokenizer), config.hidden, config.layers, config.heads, tokenizer=tokenizer
    )
    model = LlamaForCausalLM(model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.1)
    gen = torch.Generator().manual_seed(config.seed)

    def batch(stream: Any, size: int, g: Any) -> Any:
        starts = torch.randint(0, len(stream) - config.seq_len - 1, (size,), generator=g)
        return torch.stack([stream[s : s + config.seq_len] for s in starts.tolist()])

    val_batches = [
        batch(streams["val"], config.batch_size, torch.Generator().manual_seed(3)) for _ in range(4)
    ]

    def heldout_loss() -> float:
        model.eval()
        with torch.no_grad():
            losses = [float(model(input_ids=b, labels=b).loss) for b in val_batches]
        model.train()
        return sum(losses) / len(losses)

    untrained = heldout_loss()
    budget = config.max_minutes * 60
    train_start = time.time()
    step, tokens, loss_ema = 0, 0, untrained
    model.train()
    stopped_by = "max_tokens"
    while tokens < config.max_tokens:
        if time.time() - train_start >= budget:
            stopped_by = "max_minutes"
            break
        frac = tokens / config.max_tokens  # the schedule follows tokens only, never the clock
        warm = min(1.0, (step + 1) / config.warmup_steps)
        lr = config.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = batch(streams["train"], config.batch_size, gen)
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += x.numel()
        value = float(loss.detach())
        loss_ema = 0.9 * loss_ema + 0.1 * value if step > 1 else value
        if progress is not None:
            elapsed = time.time() - train_start
            progress(
                {
                    "step": step,
                    "loss": loss_ema,
                    "elapsed": elapsed,
                    "budget": budget,
                    "fraction": min(1.0, frac),
                    "tokens_per_s": tokens / max(elapsed, 1e-9),
                }
            )
    final = heldout_loss()
    if stopped_by == "max_minutes":
        print(
            f"codegen: warning: pretraining hit its {config.max_minutes:g}-minute safety net after "
            f"{tokens:,} of {config.max_tokens:,} tokens ({step} steps): this model is "
            "undertrained and differs from one that finished its token budget",
            file=sys.stderr,
        )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    metrics = {
        "untrained_heldout_loss": round(untrained, 4),
        "heldout_loss": round(final, 4),
        "steps": step,
        "train_tokens": tokens,
        "stopped_by": stopped_by,
        "parameters": sum(p.numel() for p in model.parameters()),
        "corpus_files": len(files),
        "minutes": round((time.time() - started) / 60, 2),
        "config": asdict(config),
    }
    write_metadata(out, fim_format=TINY.name, kind="builtin-tiny", pretrain=metrics)
    (out / "pretrain_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
