"""The configuration of one ``codegen-train sft`` run.

:class:`SftConfig` is what ``codegen-train sft``'s options become (``cli.py``), what
:func:`codegen.training.sft.train.train_sft` runs, and what ``checkpoints/run.json``
and the adapter's ``codegen.json`` record. It sits in its own module, beside the
trainer rather than inside the entry point (as TRL keeps ``sft_config.py`` beside
its ``SFTTrainer``), so that the entry point imports the trainer and the trainer
imports only this: no import loop.

How long a run lasts: ``max_steps`` when positive, else ``epochs``. ``max_minutes``
is a wall-clock limit. Beside ``max_steps`` it is only a safety net (the schedule
and the figures follow the steps; the summary says when the net was hit). Alone,
it is the run's length and the learning-rate schedule fits it
(:mod:`codegen.training.sft.schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass

PROG = "codegen-train sft"
CHECKPOINTS = "checkpoints"
"""Folder of ``--out`` that holds the Trainer's checkpoints and :data:`RUN_FILE`."""
RUN_FILE = "run.json"
"""The run's configuration, in ``checkpoints/``; ``--resume`` compares against it."""
RESUME_KEYS = (
    "base",
    "quantize",
    "lr",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "batch_size",
    "grad_accum",
    "seq_len",
    "packing",
    "seed",
    "warmup",
    "train_embeddings",
    "epochs",
    "max_steps",
    "eval_every",
)
"""Options that may not change between a crash and ``--resume``: changing them would
change what is being trained."""


@dataclass
class SftConfig:
    """One ``codegen-train sft`` run; the fields are the command's options."""

    base: str
    """Base model: a Hugging Face id, a local model directory, or ``builtin:tiny``."""
    data: str
    """Output directory of ``codegen-train data``."""
    out: str
    """Adapter directory to write (adapter, ``codegen.json``, ``checkpoints/``)."""
    quantize: str = "none"
    """``none``, or ``4bit`` for QLoRA (NF4 base with double quantization)."""
    resume: bool = False
    """Continue the interrupted run in ``out`` from its last complete checkpoint."""
    epochs: float = 3.0
    """Passes over the training rows, when ``max_steps`` is not positive."""
    max_steps: int = -1
    """Optimizer steps; overrides ``epochs`` when positive. A fixed step count is what
    makes a run reproducible: it trains the same model on a busy machine and an idle one."""
    max_minutes: float | None = None
    """Wall-clock limit on training. With ``max_steps`` a safety net only; without it,
    the run's length, which the learning-rate schedule fits."""
    lr: float | None = None
    """Peak learning rate; None picks one by model size
    (:func:`codegen.training.sft.train.default_lr`)."""
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA alpha (the update is scaled by ``lora_alpha / lora_r``)."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA path (seeded by ``seed``)."""
    train_embeddings: str = "auto"
    """``yes``/``no``: also train the embeddings and output head in full; ``auto`` = yes
    for models under 50M parameters (:func:`codegen.training.sft.train.wants_embeddings`)."""
    batch_size: int = 4
    """Packed rows per micro-batch."""
    grad_accum: int = 1
    """Micro-batches per optimizer step; the loss is normalised by token count."""
    seq_len: int = 1024
    """Tokens per packed row; a longer example loses the end of its completion."""
    packing: bool = True
    """Pack several examples per row (False: one example per row, padded)."""
    eval_every: int = 50
    """Evaluate (eval loss, FIM exact match) and checkpoint every this many steps."""
    patience: int = 0
    """Stop after this many evaluations without improvement; 0 = never."""
    fim_eval_examples: int = 64
    """Held-out FIM examples for the exact-match metric."""
    eval_examples: int = 256
    """Held-out examples for the eval loss."""
    warmup: float = 0.05
    """Share of the run spent warming up the learning rate, then cosine to zero."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory."""
    seed: int = 0
    """Seeds LoRA's initialisation, dropout and the data order."""
    device: str = "auto"
    """``auto``, ``cpu`` or ``cuda``."""
    progress: bool = True
    """Show a progress bar on stderr."""

    def time_is_safety_net(self) -> bool:
        """Whether ``max_minutes`` only guards a run whose length is ``max_steps``."""
        return self.max_minutes is not None and self.max_steps > 0
