"""Pure logic of ``codegen-train sft``: packing, labels, collation, metric, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.core.fim import get_fim_format
from codegen.training.sft.callbacks import selection_score
from codegen.training.sft.collator import (
    PackedCollator,
    block_causal_mask,
    first_label_masked,
    segment_positions,
)
from codegen.training.sft.data import DataError, load_sft_data
from codegen.training.sft.fim_metric import fim_cases, middle_matches, verdict_open
from codegen.training.sft.model import choose_pad_token_id
from codegen.training.sft.packing import IGNORE_INDEX, build_example, pack_lengths
from codegen.training.sft.train import last_complete_checkpoint


def test_build_example_labels_completion_only() -> None:
    example, outcome = build_example([1, 2, 3], [7, 8, 0], seq_len=10)
    assert outcome == "kept"
    assert example is not None
    assert example.input_ids == [1, 2, 3, 7, 8, 0]
    assert example.labels == [IGNORE_INDEX] * 3 + [7, 8, 0]


def test_build_example_truncates_completion_then_drops() -> None:
    example, outcome = build_example([1, 2, 3], [7, 8, 0], seq_len=5)
    assert outcome == "truncated" and example is not None
    assert example.labels == [IGNORE_INDEX] * 3 + [7, 8]
    assert build_example([1, 2, 3], [7], seq_len=3) == (None, "dropped_completion_truncated")
    assert build_example([1, 2], [], seq_len=8) == (None, "dropped_empty_completion")


def test_pack_lengths_is_a_partition_within_capacity() -> None:
    lengths = [5, 90, 33, 12, 70, 8, 41, 64, 3, 27]
    bins = pack_lengths(lengths, 100)
    flat = sorted(i for b in bins for i in b)
    assert flat == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 100 for b in bins)
    assert len(bins) == 4  # ceil(353 / 100): best fit packs this set perfectly tight
    assert pack_lengths(lengths, 100) == bins  # deterministic
    assert pack_lengths([150, 10], 100) == [[0], [1]]


def test_positions_restart_and_first_labels_are_masked() -> None:
    assert segment_positions([3, 2], 7) == [0, 1, 2, 0, 1, 0, 1]
    assert first_label_masked([5, 6, 7, 8, 9], [3, 2]) == [IGNORE_INDEX, 6, 7, IGNORE_INDEX, 9]


def test_block_causal_mask_blocks_other_examples_and_future() -> None:
    import torch

    mask = block_causal_mask([[2, 2]], 5, torch.float32)[0, 0]
    allowed = (mask == 0).int().tolist()
    assert allowed == [
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 1],
    ]


def test_collator_pads_right_with_pad_not_eos() -> None:
    batch = PackedCollator(pad_token_id=9)(
        [
            {"input_ids": [1, 2, 3], "labels": [1, 2, 3], "lengths": [3]},
            {"input_ids": [4], "labels": [4], "lengths": [1]},
        ]
    )
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, 9, 9]]
    assert batch["labels"].tolist()[1] == [IGNORE_INDEX] * 3
    assert batch["use_cache"] is False
    assert "attention_mask" not in batch


def test_middle_match_and_early_divergence() -> None:
    assert middle_matches("  x = 1\n", "x = 1")
    assert not middle_matches("x = 2", "x = 1")
    # A one-line middle is scored on the first generated line (line-completion protocol)...
    assert middle_matches("x = 1\n    y = 2", "x = 1\n")
    assert not middle_matches("x = 12\n", "x = 1")
    # ...a multi-line middle on everything generated.
    assert not middle_matches("x = 1\ny = 2\nz = 3", "x = 1\ny = 2")
    assert middle_matches("x = 1\ny = 2\n", "x = 1\ny = 2")
    assert verdict_open("  tally_in", "tally_into(slot)")
    assert verdict_open("tally_into(slot)  ", "tally_into(slot)")
    assert not verdict_open("tally_into(slot)\n  ", "tally_into(slot)")  # first line done
    assert not verdict_open("tally_out", "tally_into(slot)")
    assert not verdict_open("tally_into(slot)x", "tally_into(slot)")
    assert verdict_open("a\nb", "a\nbc")
    assert not verdict_open("a\nbc\nd", "a\nbc")
    assert verdict_open("caf\ufffd", "café")  # half a UTF-8 character so far


def test_fim_cases_take_fim_rows_and_strip_eot() -> None:
    fmt = get_fim_format("tiny")
    prompt, completion = fmt.build_training_example("a = ", "1", "\n")
    rows = [
        {"task": "lm", "prompt": "", "completion": "x" + fmt.eot_token},
        {"task": "fim", "prompt": prompt, "completion": completion},
        {"task": "fim", "prompt": prompt, "completion": completion},
    ]
    cases = fim_cases(rows, fmt, limit=1)
    assert len(cases) == 1 and cases[0].middle == "1" and cases[0].prompt == prompt


def test_selection_prefers_exact_match_then_lower_loss() -> None:
    assert selection_score(0.5, 3.0) > selection_score(0.4, 1.0)
    assert selection_score(0.5, 1.0) > selection_score(0.5, 3.0)
    assert selection_score(None, 1.0) > selection_score(None, 2.0)


class _Tok:
    def __init__(self, pad: int | None, vocab: dict[str, int]) -> None:
        self.eos_token_id = 0
        self.pad_token_id = pad
        self.pad_token = None if pad is None else "<x>"
        self._vocab = vocab

    def get_vocab(self) -> dict[str, int]:
        return self._vocab


def test_pad_token_choice_never_returns_eos() -> None:
    assert choose_pad_token_id(_Tok(3, {}))[0] == 3
    assert choose_pad_token_id(_Tok(None, {"<pad>": 7}))[0] == 7
    assert choose_pad_token_id(_Tok(0, {"<unk>": 5}))[0] == 5
    assert choose_pad_token_id(_Tok(0, {}))[0] == 1


def test_last_complete_checkpoint_skips_interrupted_saves(tmp_path: Path) -> None:
    assert last_complete_checkpoint(tmp_path / "none") is None
    for step, complete in ((2, True), (10, True), (12, False)):
        path = tmp_path / f"checkpoint-{step}"
        path.mkdir()
        if complete:
            (path / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-10"


def test_missing_data_directory_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="codegen-train data --source"):
        load_sft_data(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no dataset/"):
        load_sft_data(str(tmp_path / "empty"))


def test_lr_schedule_warms_up_then_decays_over_steps_or_time() -> None:
    from codegen.training.sft.schedule import lr_factor

    # Step-planned: the usual warmup + cosine.
    assert lr_factor(0, 100, 0.0, 0.1) == 0.0
    assert lr_factor(5, 100, 0.0, 0.1) == pytest.approx(0.5)
    assert lr_factor(10, 100, 0.0, 0.1) == pytest.approx(1.0)
    assert lr_factor(55, 100, 0.0, 0.1) == pytest.approx(0.5)
    assert lr_factor(100, 100, 0.0, 0.1) == pytest.approx(0.0)
    # A 3-minute budget on a 12,000-step plan: time sets the progress, not the plan.
    assert lr_factor(20, 12_000, 0.05, 0.05) == pytest.approx(1.0)
    assert lr_factor(80, 12_000, 0.525, 0.05) == pytest.approx(0.5)
    assert lr_factor(150, 12_000, 1.0, 0.05) == pytest.approx(0.0)


def test_bad_sft_options_fail_before_loading(tmp_path) -> None:
    from codegen.core.errors import ConfigError
    from codegen.training.sft.train import SftConfig, train_sft

    with pytest.raises(ConfigError, match="--warmup"):
        train_sft(SftConfig(base="x", data=str(tmp_path), out=str(tmp_path / "o"), warmup=1.5))
    with pytest.raises(ConfigError, match="--train-embeddings"):
        train_sft(
            SftConfig(
                base="x", data=str(tmp_path), out=str(tmp_path / "o"), train_embeddings="maybe"
            )
        )


@pytest.mark.parametrize(
    ("argv", "epochs"),
    [
        ([], 3.0),
        (["--max-minutes", "3"], 1000.0),  # the clock ends the run, not an epoch count
        (["--max-minutes", "3", "--epochs", "2"], 2.0),
        (["--max-minutes", "3", "--max-steps", "50"], 3.0),
    ],
)
def test_max_minutes_alone_trains_for_the_time_given(argv: list[str], epochs: float) -> None:
    import argparse

    from codegen.training.sft.cli import _epochs, add_sft_arguments

    parser = argparse.ArgumentParser()
    add_sft_arguments(parser)
    args = parser.parse_args(["--base", "b", "--data", "d", "--out", "o", *argv])
    assert _epochs(args) == epochs
