"""Fill-in-the-middle prompt formats, defined once for serving, training and eval.

Every model family marks the prefix, the suffix and the middle with its own
sentinel tokens. The server builds prompts with :meth:`FimFormat.build_prompt`,
training builds examples with :meth:`FimFormat.build_training_example`, and eval
uses the same prompt builder, so the format trained on is the format served.

Orders:
- ``psm``: ``<prefix> P <suffix> S <middle>`` then the model writes M.
- ``spm``: ``<prefix> <suffix> S <middle> P`` then the model writes M (the
  "SPM" variant of Bavarian et al. 2022, where the prefix directly precedes the
  middle, which helps when the prefix is cut mid-token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .errors import FimFormatError

FimOrder = Literal["psm", "spm"]
FIM_ORDERS: tuple[str, ...] = ("psm", "spm")


@dataclass(frozen=True)
class FimFormat:
    """The sentinels and layout of one model family's FIM prompts."""

    name: str
    prefix_token: str
    suffix_token: str
    middle_token: str
    eot_token: str
    """Ends the middle in training data; generation stops on it."""
    file_sep_token: str | None = None
    """Separates files in repository-level context, when the family has one."""
    spaced: bool = False
    """CodeLlama puts a space after ``<PRE>`` and before ``<MID>``/``<SUF>`` text."""
    default_order: FimOrder = "psm"
    """The order the family's models fill best, served unless the user picks one."""

    @property
    def sentinels(self) -> tuple[str, ...]:
        toks = [self.prefix_token, self.suffix_token, self.middle_token, self.eot_token]
        if self.file_sep_token:
            toks.append(self.file_sep_token)
        return tuple(toks)

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """Strings that end a generated middle (any sentinel means we are done)."""
        return self.sentinels

    def build_prompt(self, prefix: str, suffix: str, order: str | None = None) -> str:
        """The prompt text after which the model writes the middle (in
        :attr:`default_order` unless ``order`` is given)."""
        order = order or self.default_order
        pre, suf, mid = self.prefix_token, self.suffix_token, self.middle_token
        if self.spaced:
            pre, suf, mid = pre + " ", " " + suf, " " + mid
        if order == "psm":
            return f"{pre}{prefix}{suf}{suffix}{mid}"
        if order == "spm":
            return f"{pre}{suf}{suffix}{mid}{prefix}"
        raise FimFormatError(f"unknown FIM order {order!r}; use one of {', '.join(FIM_ORDERS)}")

    def build_training_example(
        self, prefix: str, middle: str, suffix: str, order: str | None = None
    ) -> tuple[str, str]:
        """``(prompt, completion)`` for training; the loss goes on ``completion`` only."""
        return self.build_prompt(prefix, suffix, order), middle + self.eot_token

    def middle_of(self, completion: str) -> str:
        """The middle of a training completion (``middle + eot``), without the end token."""
        eot = self.eot_token
        return completion[: -len(eot)] if completion.endswith(eot) else completion

    def parse_prompt(self, prompt: str) -> tuple[str, str, str]:
        """Inverse of :meth:`build_prompt`: ``(prefix, suffix, order)``.

        Used by tests to prove that what training wrote is what serving reads.
        """
        pre, suf, mid = self.prefix_token, self.suffix_token, self.middle_token
        if self.spaced:
            pre, suf, mid = pre + " ", " " + suf, " " + mid
        if not prompt.startswith(pre):
            raise FimFormatError(f"not a {self.name} FIM prompt: it does not start with {pre!r}")
        body = prompt[len(pre) :]
        if body.startswith(suf):
            suffix, _, prefix = body[len(suf) :].partition(mid)
            return prefix, suffix, "spm"
        prefix, _, rest = body.partition(suf)
        suffix, _, tail = rest.partition(mid)
        if tail:
            raise FimFormatError("FIM prompt has text after the middle sentinel")
        return prefix, suffix, "psm"

    def check_tokenizer(self, tokenizer: Any) -> None:
        """Raise :class:`FimFormatError` unless every sentinel is one token of ``tokenizer``."""
        for tok in self.sentinels:
            ids = tokenizer.encode(tok, add_special_tokens=False)
            if len(ids) != 1:
                raise FimFormatError(
                    f"FIM format {self.name!r} needs {tok!r} as a single token, but this tokenizer "
                    f"splits it into {len(ids)}; choose another format with fim_format=..."
                )


def scored_middle(generated: str, expected: str) -> str:
    """The part of ``generated`` that FIM exact match compares with ``expected``.

    Surrounding whitespace never counts. When the expected middle is a single line,
    only the first line of the generation is scored: the line-completion protocol of
    CodeXGLUE, CrossCodeEval and RepoBench (an editor shows one line at such a
    cursor, and the server stops single-line suggestions at the newline). A
    multi-line middle must be matched whole, ending where the model stopped.
    """
    text = generated.strip()
    if first_line_only(expected):
        text = text.split("\n", 1)[0].rstrip()
    return text


def first_line_only(expected: str) -> bool:
    """Whether exact match against ``expected`` looks at the first generated line only."""
    return "\n" not in expected.strip()


def middle_matches(generated: str, expected: str) -> bool:
    """FIM exact match, one rule for training's metric and eval (:func:`scored_middle`)."""
    return scored_middle(generated, expected) == expected.strip()


QWEN = FimFormat(
    "qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|endoftext|>", "<|file_sep|>"
)
STARCODER = FimFormat(
    "starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<|endoftext|>", "<file_sep>"
)
DEEPSEEK = FimFormat(
    "deepseek",
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    "<｜end▁of▁sentence｜>",
)
CODELLAMA = FimFormat("codellama", "<PRE>", "<SUF>", "<MID>", "<EOT>", spaced=True)
CODEGEMMA = FimFormat(
    "codegemma",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|file_separator|>",
)
# The built-in tiny model uses Qwen-style sentinels so that its prompts look
# exactly like those of the recommended real model. It is served in SPM order: a
# few-million-parameter model cannot learn to find the far-away end of the prefix
# (PSM), but in SPM the middle simply continues the prefix, with the suffix as context.
TINY = FimFormat(
    "tiny",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|endoftext|>",
    "<|file_sep|>",
    default_order="spm",
)

FIM_FORMATS: dict[str, FimFormat] = {
    f.name: f for f in (QWEN, STARCODER, DEEPSEEK, CODELLAMA, CODEGEMMA, TINY)
}
# starcoder2 uses the same sentinels as starcoder.
FIM_FORMATS["starcoder2"] = STARCODER


def get_fim_format(name: str) -> FimFormat:
    """The format registered under ``name`` (case-insensitive)."""
    try:
        return FIM_FORMATS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(FIM_FORMATS))
        raise FimFormatError(f"unknown FIM format {name!r}; known formats: {known}") from None


# Checked in this order: CodeGemma shares Qwen's prefix/suffix/middle sentinels
# and differs only by its end-of-file token, so it must be tried first.
_DETECTION_ORDER = (CODEGEMMA, QWEN, STARCODER, DEEPSEEK, CODELLAMA)


def _vocab_has(tokenizer: Any, token: str) -> bool:
    vocab = tokenizer.get_vocab()
    if token in vocab or "▁" + token in vocab:
        return True
    ids = tokenizer.encode(token, add_special_tokens=False)
    return len(ids) == 1 and ids[0] != getattr(tokenizer, "unk_token_id", None)


def detect_fim_format(tokenizer: Any, override: str | None = None) -> FimFormat:
    """Pick the FIM format from the tokenizer's special tokens (or ``override``).

    Raises :class:`FimFormatError` when no known family matches, naming the
    option that fixes it.
    """
    if override:
        fmt = get_fim_format(override)
        fmt.check_tokenizer(tokenizer)
        return fmt
    for fmt in _DETECTION_ORDER:
        if all(_vocab_has(tokenizer, tok) for tok in fmt.sentinels):
            return fmt
    raise FimFormatError(
        "this tokenizer has no known fill-in-the-middle sentinels; it is probably not a FIM "
        "code model. Use a FIM model (e.g. Qwen/Qwen2.5-Coder-1.5B) or set fim_format="
        + "|".join(sorted(FIM_FORMATS))
    )
