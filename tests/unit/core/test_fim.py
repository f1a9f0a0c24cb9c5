"""FIM formats: prompts round-trip, orders differ, detection picks the right family."""

from __future__ import annotations

import pytest

from codegen.core.errors import FimFormatError
from codegen.core.fim import FIM_FORMATS, detect_fim_format, get_fim_format

PREFIX = "def area(r):\n    return 3.14 * "
SUFFIX = "\n\nprint(area(2))  # ✓ 😀\r\n"
MIDDLE = "r * r"


@pytest.mark.parametrize("name", sorted(FIM_FORMATS))
@pytest.mark.parametrize("order", ["psm", "spm"])
def test_training_example_round_trips_to_the_served_prompt(name: str, order: str) -> None:
    fmt = get_fim_format(name)
    prompt, completion = fmt.build_training_example(PREFIX, MIDDLE, SUFFIX, order)
    assert prompt == fmt.build_prompt(PREFIX, SUFFIX, order)
    assert completion == MIDDLE + fmt.eot_token
    assert fmt.middle_of(completion) == MIDDLE
    assert fmt.parse_prompt(prompt) == (PREFIX, SUFFIX, order)


@pytest.mark.parametrize("name", sorted(FIM_FORMATS))
def test_psm_and_spm_put_the_prefix_in_different_places(name: str) -> None:
    fmt = get_fim_format(name)
    psm, spm = fmt.build_prompt(PREFIX, SUFFIX, "psm"), fmt.build_prompt(PREFIX, SUFFIX, "spm")
    assert psm != spm
    assert psm.rstrip().endswith(fmt.middle_token)
    assert spm.endswith(PREFIX)


def test_known_sentinels() -> None:
    assert get_fim_format("qwen").build_prompt("a", "b") == (
        "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"
    )
    assert get_fim_format("starcoder2").build_prompt("a", "b") == (
        "<fim_prefix>a<fim_suffix>b<fim_middle>"
    )
    assert get_fim_format("deepseek").build_prompt("a", "b") == (
        "<｜fim▁begin｜>a<｜fim▁hole｜>b<｜fim▁end｜>"
    )
    assert get_fim_format("codellama").build_prompt("a", "b") == "<PRE> a <SUF>b <MID>"
    assert get_fim_format("codegemma").eot_token == "<|file_separator|>"


def test_unknown_format_and_order_are_clear_errors() -> None:
    with pytest.raises(FimFormatError, match="known formats"):
        get_fim_format("gpt5")
    with pytest.raises(FimFormatError, match="unknown FIM order"):
        get_fim_format("qwen").build_prompt("a", "b", "pms")


class VocabTokenizer:
    """A stand-in tokenizer: every vocabulary entry is one token, other text one per char."""

    unk_token_id = None

    def __init__(self, specials: list[str]) -> None:
        self.vocab = {tok: i for i, tok in enumerate(specials)}

    def get_vocab(self) -> dict[str, int]:
        return self.vocab

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        if text in self.vocab:
            return [self.vocab[text]]
        return [1000 + ord(c) for c in text]


@pytest.mark.parametrize("name", ["qwen", "starcoder", "deepseek", "codellama", "codegemma"])
def test_detection_from_special_tokens(name: str) -> None:
    fmt = get_fim_format(name)
    assert detect_fim_format(VocabTokenizer(list(fmt.sentinels))).name == fmt.name


def test_detection_failure_names_the_override() -> None:
    with pytest.raises(FimFormatError, match="fim_format="):
        detect_fim_format(VocabTokenizer(["<s>", "</s>"]))


def test_override_checks_sentinels_are_single_tokens() -> None:
    tok = VocabTokenizer(list(get_fim_format("qwen").sentinels))
    assert detect_fim_format(tok, "tiny").name == "tiny"
    with pytest.raises(FimFormatError, match="single token"):
        detect_fim_format(tok, "starcoder")
