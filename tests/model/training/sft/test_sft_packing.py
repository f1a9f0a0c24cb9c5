"""Packing, labels, padding and loss normalisation with a real tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from codegen.core.fim import get_fim_format
from codegen.training.sft.collator import PackedCollator
from codegen.training.sft.model import choose_pad_token_id
from codegen.training.sft.packing import (
    IGNORE_INDEX,
    PackingStats,
    pack_examples,
    tokenize_examples,
)

A = [11, 42, 7, 99, 23, 5, 61, 8, 17]
B = [31, 14, 77, 20, 9, 3]


def _logits(model, batch: dict) -> torch.Tensor:
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        return model(**inputs).logits


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("boundary", ["position_ids", "mask"])
def test_packed_example_sees_only_itself(tiny_model_dir: Path, attn: str, boundary: str) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attn)
    model.train()  # training mode, as the Trainer runs it (dropout is 0 in this config)
    collate = PackedCollator(pad_token_id=4, boundary=boundary)
    packed = collate([{"input_ids": A + B, "labels": A + B, "lengths": [len(A), len(B)]}])
    alone = collate([{"input_ids": B, "labels": B, "lengths": [len(B)]}])
    diff = (_logits(model, packed)[0, len(A) :] - _logits(model, alone)[0]).abs().max()
    assert diff < 1e-4
    # The check can fail: the same row without restarting positions leaks A into B.
    leaky = {"input_ids": packed["input_ids"], "use_cache": False}
    leak = (_logits(model, leaky)[0, len(A) :] - _logits(model, alone)[0]).abs().max()
    assert leak > 1e-2


def test_padded_row_in_batch_matches_row_alone(tiny_model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    collate = PackedCollator(pad_token_id=4)
    batch = collate(
        [
            {"input_ids": A + B, "labels": A + B, "lengths": [len(A), len(B)]},
            {"input_ids": B, "labels": B, "lengths": [len(B)]},
        ]
    )
    assert batch["labels"][1, len(B) :].eq(IGNORE_INDEX).all()
    alone = collate([{"input_ids": B, "labels": B, "lengths": [len(B)]}])
    diff = (_logits(model, batch)[1, : len(B)] - _logits(model, alone)[0]).abs().max()
    assert diff < 1e-4


def test_collator_masks_first_token_of_every_example() -> None:
    batch = PackedCollator(pad_token_id=4)(
        [{"input_ids": A + B, "labels": A + B, "lengths": [len(A), len(B)]}]
    )
    labels = batch["labels"][0].tolist()
    # B's first token would otherwise be "predicted" from A's last token.
    assert labels[len(A)] == IGNORE_INDEX
    assert labels[len(A) + 1 :] == B[1:]
    assert batch["position_ids"][0].tolist() == list(range(len(A))) + list(range(len(B)))


def test_loss_only_on_completion_and_eos_is_learned(tiny_model_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    fmt = get_fim_format("tiny")
    prompt, completion = fmt.build_training_example("def f(x):\n    ", "return x", "\n", "psm")
    stats = PackingStats()
    rows = [{"task": "fim", "prompt": prompt, "completion": completion}]
    (example,) = tokenize_examples(tok, rows, 512, stats, fmt)
    n_prompt = len(tok.encode(prompt))
    assert example.labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    target = example.labels[n_prompt:]
    assert tok.decode(target) == "return x" + fmt.eot_token
    assert target[-1] == tok.eos_token_id  # the model is taught to stop


def test_pad_is_never_eos(tiny_model_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    pad, _ = choose_pad_token_id(tok)
    assert pad != tok.eos_token_id
    assert tok.convert_ids_to_tokens(pad) == "<|fim_pad|>"
    tok.pad_token = tok.eos_token  # what many real checkpoints ship
    pad, note = choose_pad_token_id(tok)
    assert pad != tok.eos_token_id
    assert "EOS" in note


def test_truncated_away_completions_are_counted(tiny_model_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [
        {"task": "docstring", "prompt": "x = 1\n" * 60, "completion": "y = 2\n"},
        {"task": "lm", "prompt": "", "completion": "y = 2\n<|endoftext|>"},
        {"task": "fix", "prompt": "z = 3\n", "completion": ""},
    ]
    stats = PackingStats()
    kept = tokenize_examples(tok, rows, 32, stats)
    assert len(kept) == 1
    assert stats.dropped_completion_truncated == 1
    assert stats.dropped_empty_completion == 1
    assert stats.as_dict(32)["by_task"]["docstring"] == {"dropped_completion_truncated": 1}


def test_long_fim_prompt_is_trimmed_not_dropped(tiny_model_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    fmt = get_fim_format("tiny")
    prompt, completion = fmt.build_training_example("a = 1\n" * 80, "b = 2\n", "c = 3\n" * 80)
    stats = PackingStats()
    (example,) = tokenize_examples(
        tok, [{"task": "fim", "prompt": prompt, "completion": completion}], 64, stats, fmt
    )
    assert len(example.input_ids) <= 64
    assert stats.context_trimmed == 1 and stats.dropped == 0
    prefix, suffix, _ = fmt.parse_prompt(
        tok.decode(example.input_ids[: -len(tok.encode(completion))])
    )
    assert prefix.endswith("a = 1\n") and suffix.startswith("c = 3\n")


def _one_step_lora_b(tiny_model_dir: Path, tmp_path: Path, rows, batch: int, accum: int):
    from transformers import Trainer, TrainingArguments

    from codegen.training.sft.model import add_lora

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    base.config.use_cache = False
    model = add_lora(base, 4, 8, 0.0, quantized=False)
    args = TrainingArguments(
        output_dir=str(tmp_path / f"b{batch}a{accum}"),
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=accum,
        max_steps=1,
        learning_rate=1.0,
        optim="sgd",
        lr_scheduler_type="constant",
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        remove_unused_columns=False,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=rows, data_collator=PackedCollator(pad_token_id=4)
    )
    trainer.train()
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_B" in n}


def test_gradient_accumulation_is_normalised_by_token_count(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    long_row = list(range(10, 70))
    short_row = [12, 13, 14, 15, 16]
    rows = [{"input_ids": r, "labels": r, "lengths": [len(r)]} for r in (long_row, short_row)]
    together = _one_step_lora_b(tiny_model_dir, tmp_path, rows, batch=2, accum=1)
    accumulated = _one_step_lora_b(tiny_model_dir, tmp_path, rows, batch=1, accum=2)
    # A mean of per-micro-batch means would weigh the 4 short-row tokens like the 59 long-row
    # ones and move the weights visibly differently.
    for name, value in together.items():
        assert value.abs().max() > 0
        torch.testing.assert_close(accumulated[name], value, rtol=1e-3, atol=1e-6)


def test_pack_examples_fills_rows_and_keeps_every_example() -> None:
    from codegen.training.sft.packing import TokenizedExample

    examples = [TokenizedExample([i] * n, [i] * n) for i, n in enumerate([50, 30, 20, 70, 10, 60])]
    rows = pack_examples(examples, 100)
    assert sorted(n for row in rows for n in row["lengths"]) == [10, 20, 30, 50, 60, 70]
    assert all(len(row["input_ids"]) <= 100 for row in rows)
    assert len(rows) == 3
    assert len(pack_examples(examples, 100, pack=False)) == 6
