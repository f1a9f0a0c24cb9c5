"""Training throughput of ``codegen-train sft``: packed rows vs padded batches vs TRL.

Same tiny model, same LoRA, same examples (FIM and LM rows cut from this
interpreter's standard library with a realistic, long-tailed length mix), same
rows per batch and sequence length. Three runs of a fixed number of optimizer
steps each:

- ``packed``: our pipeline (best-fit-decreasing packing, positions restarting
  per example, completion-only labels);
- ``padded``: the same pipeline with one example per row, padded to the longest
  row of the batch (``--no-packing``), the usual baseline;
- ``trl``: TRL's ``SFTTrainer`` with ``packing=True`` (its best-fit-decreasing
  packing) and completion-only loss on the same prompt/completion rows.

Throughput counts real (non-padding) tokens per second of ``train()``.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def stdlib_texts(limit_chars: int) -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts, total = [], 0
    for path in sorted(root.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts.append(text)
        total += len(text)
        if total >= limit_chars:
            break
    return texts


def make_examples(texts: list[str], count: int, seed: int) -> list[dict[str, str]]:
    """FIM (80%) and LM rows with window lengths drawn from a log-normal distribution
    (median ~600 characters, long tail to 4,000), like windows of real source files."""
    from codegen.core.fim import get_fim_format

    fmt = get_fim_format("tiny")
    rng = random.Random(seed)
    rows = []
    while len(rows) < count:
        text = rng.choice(texts)
        size = int(min(4000, max(60, rng.lognormvariate(6.4, 0.8))))
        start = rng.randrange(0, max(1, len(text) - size))
        window = text[start : start + size]
        if len(window) < 40:
            continue
        if rng.random() < 0.8:
            a = rng.randrange(0, len(window) - 20)
            b = min(len(window), a + int(rng.lognormvariate(3.5, 0.9)) + 1)
            prompt, completion = fmt.build_training_example(
                window[:a], window[a:b], window[b:], rng.choice(("psm", "spm"))
            )
            rows.append({"task": "fim", "prompt": prompt, "completion": completion})
        else:
            rows.append({"task": "lm", "prompt": "", "completion": window + fmt.eot_token})
    return rows


def _args(out: str, steps: int, batch: int, **extra: Any) -> dict[str, Any]:
    return dict(
        output_dir=out,
        per_device_train_batch_size=batch,
        max_steps=steps,
        learning_rate=1e-3,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
        include_num_input_tokens_seen="non_padding",
        seed=0,
        **extra,
    )


def _lora_model(model_dir: Path) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    from codegen.training.sft.model import add_lora

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.config.use_cache = False
    return add_lora(model, 16, 32, 0.0, quantized=False)


def run_ours(model_dir: Path, rows: list[dict], steps: int, batch: int, seq_len: int, pack: bool):
    from transformers import AutoTokenizer, Trainer, TrainingArguments

    from codegen.core.fim import get_fim_format
    from codegen.training.sft.collator import PackedCollator
    from codegen.training.sft.packing import PackingStats, pack_examples, tokenize_examples

    tok = AutoTokenizer.from_pretrained(model_dir)
    stats = PackingStats()
    examples = tokenize_examples(tok, rows, seq_len, stats, get_fim_format("tiny"))
    data = pack_examples(examples, seq_len, pack=pack)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(
            model=_lora_model(model_dir),
            args=TrainingArguments(**_args(out, steps, batch, remove_unused_columns=False)),
            train_dataset=data,
            data_collator=PackedCollator(tok.pad_token_id),
            processing_class=tok,
        )
        return _measure(trainer) | {"rows": len(data), "examples": len(examples)}


def run_trl(model_dir: Path, rows: list[dict], steps: int, batch: int, seq_len: int):
    import datasets
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tok = AutoTokenizer.from_pretrained(model_dir)
    dataset = datasets.Dataset.from_list(
        [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows]
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.config.use_cache = False
    with tempfile.TemporaryDirectory() as out:
        config = SFTConfig(
            **_args(out, steps, batch),
            max_length=seq_len,
            packing=True,
            completion_only_loss=True,
            dataset_num_proc=None,
        )
        lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear")
        trainer = SFTTrainer(
            model=model, args=config, train_dataset=dataset, processing_class=tok, peft_config=lora
        )
        return _measure(trainer) | {"rows": len(trainer.train_dataset)}


def _measure(trainer: Any) -> dict[str, Any]:
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # keep stdout for the JSON result
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = int(trainer.state.num_input_tokens_seen)
    return {
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="optimizer steps per run")
    parser.add_argument("--batch-size", type=int, default=4, help="rows per batch")
    parser.add_argument("--seq-len", type=int, default=512, help="tokens per packed row")
    parser.add_argument("--examples", type=int, default=600, help="examples in the data")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size of the tiny model")
    parser.add_argument("--layers", type=int, default=4, help="layers of the tiny model")
    parser.add_argument("--skip-trl", action="store_true", help="do not run the TRL comparison")
    args = parser.parse_args()

    import torch

    from codegen.core.builtin.tiny import make_random_model

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    texts = stdlib_texts(2_000_000)
    rows = make_examples(texts, args.examples, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = make_random_model(
            Path(tmp) / "model",
            hidden=args.hidden,
            layers=args.layers,
            vocab_size=2048,
            texts=texts,
        )
        results: dict[str, Any] = {}
        results["packed"] = run_ours(
            model_dir, rows, args.steps, args.batch_size, args.seq_len, True
        )
        results["padded"] = run_ours(
            model_dir, rows, args.steps, args.batch_size, args.seq_len, False
        )
        if not args.skip_trl:
            results["trl_sft_packed"] = run_trl(
                model_dir, rows, args.steps, args.batch_size, args.seq_len
            )
    packed = results["packed"]["tokens_per_s"]
    summary = {
        "config": vars(args),
        "results": results,
        "packed_vs_padded": round(packed / results["padded"]["tokens_per_s"], 2),
    }
    if "trl_sft_packed" in results:
        summary["packed_vs_trl"] = round(packed / results["trl_sft_packed"]["tokens_per_s"], 2)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
