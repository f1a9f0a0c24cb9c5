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
    from codegen.training.sft.config import SftConfig
    from codegen.training.sft.train import train_sft

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


class _Control:
    should_training_stop = False
    should_evaluate = False
    should_save = False


class _State:
    def __init__(self, global_step: int, max_steps: int) -> None:
        self.global_step = global_step
        self.max_steps = max_steps


def test_max_minutes_beside_max_steps_is_a_safety_net_only() -> None:
    import argparse

    from codegen.training.sft.cli import add_sft_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_sft_arguments(parser)

    def config(*argv: str):
        return config_from_args(
            parser.parse_args(["--base", "b", "--data", "d", "--out", "o", *argv])
        )

    assert config("--max-steps", "50", "--max-minutes", "9").time_is_safety_net()
    assert not config("--max-minutes", "9").time_is_safety_net()  # the time is the run's length
    assert not config("--max-minutes", "9", "--epochs", "2").time_is_safety_net()
    assert not config("--max-steps", "50").time_is_safety_net()


def test_a_safety_net_stops_the_run_but_never_shapes_the_schedule() -> None:
    import time

    from codegen.training.sft.callbacks import TimeBudgetCallback

    net = TimeBudgetCallback(1.0, shapes_schedule=False)
    net.on_train_begin(None, _State(0, 100), _Control())
    net.clock.started = time.perf_counter() - 30  # half the minute gone
    assert net.clock.fraction() == 0.0  # the schedule follows the steps alone
    control = _Control()
    net.on_step_end(None, _State(10, 100), control)
    assert not control.should_training_stop and not net.stopped_by_budget
    net.clock.started = time.perf_counter() - 61
    net.on_step_end(None, _State(11, 100), control)
    assert control.should_training_stop and control.should_evaluate and control.should_save
    assert net.stopped_by_budget

    budget = TimeBudgetCallback(1.0)  # --max-minutes alone: the schedule fits the minutes
    budget.on_train_begin(None, _State(0, 100), _Control())
    budget.clock.started = time.perf_counter() - 30
    assert budget.clock.fraction() == 0.0  # the clock is read once per step, at its end
    budget.on_step_end(None, _State(10, 100), _Control())
    assert budget.clock.fraction() == pytest.approx(0.5, abs=0.01)


def test_the_last_planned_step_is_not_a_stop_by_the_clock() -> None:
    import time

    from codegen.training.sft.callbacks import TimeBudgetCallback

    net = TimeBudgetCallback(1.0, shapes_schedule=False)
    net.on_train_begin(None, _State(0, 100), _Control())
    net.clock.started = time.perf_counter() - 61
    control = _Control()
    net.on_step_end(None, _State(100, 100), control)
    assert control.should_evaluate and control.should_save  # the final step is evaluated
    assert not net.stopped_by_budget


def test_the_end_of_run_output_warns_when_the_safety_net_was_hit() -> None:
    from codegen.training.sft.trainer import stop_lines

    done = {"steps": 120, "planned_steps": 120, "stopped_by": "max_steps", "safety_net_hit": False}
    assert stop_lines(done, 20.0) == [
        "codegen-train sft: stopped by max_steps after 120 of 120 steps"
    ]
    cut = {"steps": 31, "planned_steps": 120, "stopped_by": "max_minutes", "safety_net_hit": True}
    lines = stop_lines(cut, 3.0)
    assert lines[0] == "codegen-train sft: stopped by max_minutes after 31 of 120 steps"
    assert (
        "warning: the --max-minutes 3 safety net stopped training at step 31 of the 120" in lines[1]
    )
    timed = {
        "steps": 80,
        "planned_steps": 12000,
        "stopped_by": "max_minutes",
        "safety_net_hit": False,
    }
    # --max-minutes alone: the planned end, no warning.
    assert stop_lines(timed, 3.0) == ["codegen-train sft: stopped by max_minutes after 80 steps"]
