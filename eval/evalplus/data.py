"""EvalPlus's native problem format, recognised by its fields.

A row has ``task_id``, ``prompt``, ``entry_point``, ``canonical_solution``,
``base_input`` and ``plus_input`` (lists of argument lists), ``atol`` (float
tolerance, 0 = exact) and ``contract`` (input guards); MBPP+ rows add
``assertion``. Task ids say the benchmark: ``HumanEval/N`` or ``Mbpp/N``.

JSON has no tuples, sets or complex numbers, so MBPP+ stores some inputs as lists
or strings and EvalPlus rebuilds them per task when it loads the file; the table
:data:`MBPP_INPUT_SHAPES` does the same here, so both harnesses call the solution
with the same Python values. (HumanEval+ inputs are used as they are.)

"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..problems import ProblemsError, problems_path, read_jsonl

REQUIRED_FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution",
                   "base_input", "plus_input", "atol")  # fmt: skip
DATASETS = {"HumanEval": "humaneval", "Mbpp": "mbpp"}
"""Task-id prefix -> EvalPlus's dataset name (which selects its special oracles)."""
NAMES = {"humaneval": ("HumanEval", "HumanEval+"), "mbpp": ("MBPP", "MBPP+")}
"""How EvalPlus names the base and plus figures of each dataset."""


@dataclass(frozen=True, eq=False)
class EvalPlusProblem:
    """One EvalPlus task. Quacks like :class:`codegen.eval.problems.Problem` (``test`` is
    HumanEval's original test where the file has it; scoring never uses it)."""

    task_id: str
    prompt: str
    canonical_solution: str
    entry_point: str
    dataset: str
    """``humaneval`` or ``mbpp``."""
    atol: float
    base_input: list = field(repr=False)
    plus_input: list = field(repr=False)
    contract: str = field(default="", repr=False)
    assertion: str = field(default="", repr=False)
    test: str = field(default="", repr=False)

    @property
    def names(self) -> tuple[str, str]:
        """``("HumanEval", "HumanEval+")`` or ``("MBPP", "MBPP+")``."""
        return NAMES[self.dataset]

    def inputs(self, part: str) -> list:
        """The argument lists of ``part`` (``base`` or ``plus``)."""
        return self.base_input if part == "base" else self.plus_input


def is_evalplus_row(row: dict) -> bool:
    """True for a row in EvalPlus's native format (it has base and plus inputs)."""
    return "base_input" in row and "plus_input" in row


def is_evalplus_file(spec: str) -> bool:
    """True when the problems file ``spec`` is in EvalPlus's native format (first row)."""
    if spec == "humaneval":
        return False
    for _, row in read_jsonl(problems_path(spec)):
        return is_evalplus_row(row)
    return False


def load_evalplus(spec: str) -> dict[str, EvalPlusProblem]:
    """EvalPlus problems by task id, in file order (a ``.jsonl`` or ``.jsonl.gz`` path)."""
    path = problems_path(spec)
    return evalplus_problems(str(path), read_jsonl(path))


def evalplus_problems(path: str, rows: Iterable[tuple[int, dict]]) -> dict[str, EvalPlusProblem]:
    """Problems by task id, in file order, from ``(line number, row)`` pairs."""
    problems: dict[str, EvalPlusProblem] = {}
    for line_no, row in rows:
        where = f"{path}:{line_no}"
        missing = [k for k in REQUIRED_FIELDS if k not in row]
        if missing:
            raise ProblemsError(f"{where}: EvalPlus problem has no {missing[0]!r} field")
        task_id, entry = row["task_id"], row["entry_point"]
        dataset = DATASETS.get(str(task_id).split("/")[0])
        if dataset is None:
            raise ProblemsError(f"{where}: task_id {task_id!r} is neither HumanEval/N nor Mbpp/N")
        if not (isinstance(entry, str) and entry.isidentifier()):
            raise ProblemsError(f"{where}: entry_point {entry!r} is not a Python name")
        atol = row["atol"]
        if isinstance(atol, bool) or not isinstance(atol, (int, float)) or not atol >= 0:
            raise ProblemsError(f"{where}: atol must be a number >= 0 (got {atol!r})")
        for part in ("base_input", "plus_input"):
            if row[part] == {}:  # Mbpp/793 ships `{}`: no plus inputs (EvalPlus runs none)
                row = {**row, part: []}
            if not isinstance(row[part], list) or not all(isinstance(i, list) for i in row[part]):
                raise ProblemsError(f"{where}: {part} must be a list of argument lists")
        base, plus = row["base_input"], row["plus_input"]
        if dataset == "mbpp":
            try:
                base, plus = shape_mbpp_inputs(task_id, base), shape_mbpp_inputs(task_id, plus)
            except (TypeError, ValueError, IndexError, AttributeError) as err:
                raise ProblemsError(f"{where}: inputs of {task_id} malformed: {err}") from None
        problems[task_id] = EvalPlusProblem(
            task_id=task_id,
            prompt=row["prompt"],
            canonical_solution=row["canonical_solution"],
            entry_point=entry,
            dataset=dataset,
            atol=float(atol) if isinstance(atol, float) else atol,
            base_input=base,
            plus_input=plus,
            contract=row.get("contract") or "",
            assertion=row.get("assertion") or "",
            test=row.get("test") or "",
        )
    if not problems:
        raise ProblemsError(f"{path}: no problems")
    return problems


# --------------------------------------------------------------------------------------
# MBPP+ input shapes: how each task's JSON arguments become the Python values EvalPlus
# passes (tuples, sets, complex numbers). One function per shape, then the tasks in it.
# --------------------------------------------------------------------------------------


def _each_arg_tuple(args: list) -> list:
    return [tuple(a) for a in args]


def _each_arg_items_tuples(args: list) -> list:
    return [[tuple(item) for item in a] for a in args]


def _first_arg_items_tuples(args: list) -> list:
    return [[tuple(item) for item in args[0]], args[1]]


def _second_arg_tuple(args: list) -> list:
    return [args[0], tuple(args[1])]


def _first_arg_tuple(args: list) -> list:
    return [tuple(args[0]), args[1]]


def _first_arg_tuple_of_three(args: list) -> list:
    return [tuple(args[0]), args[1], args[2]]


def _each_arg_tuple_of_tuples(args: list) -> list:
    return [tuple(tuple(item) for item in a) for a in args]


def _sets_or_empty_dict(args: list) -> list:
    # EvalPlus turns an empty list into ``{}`` (a dict) here; the canonical solution copes.
    return [[set(item) if isinstance(item, list) and item else {} for item in args[0]]]


def _float_and_complex(args: list) -> tuple:
    return (float(args[0]), complex(args[1]))


def _one_tuple_of_mixed(args: list) -> list:
    return [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])]


def _dict_values_tuples(args: list) -> list:
    return [{key: tuple(value) for key, value in args[0].items()}, *args[1:]]


def _complex_arg(args: list) -> list:
    return [complex(args[0])]


def _all_lists_tuples(value: Any) -> Any:
    return tuple(_all_lists_tuples(v) for v in value) if isinstance(value, list) else value


_SHAPES: dict[Callable[[list], Any], tuple[int, ...]] = {
    _each_arg_tuple: (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560,
                      579, 596, 616, 630, 726, 740, 744, 809),
    _each_arg_items_tuples: (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473,
                             614, 780),
    _first_arg_items_tuples: (75, 413, 444, 753),
    _second_arg_tuple: (106, 750),
    _sets_or_empty_dict: (115,),
    _float_and_complex: (124,),
    _first_arg_tuple: (250, 405, 446, 617, 720, 763, 808),
    _each_arg_tuple_of_tuples: (259, 401, 445),
    _one_tuple_of_mixed: (278,),
    _first_arg_tuple_of_three: (307,),
    _dict_values_tuples: (722,),
    _complex_arg: (252,),
    _all_lists_tuples: (580, 615, 791),
}  # fmt: skip
MBPP_INPUT_SHAPES: dict[int, Callable[[list], Any]] = {
    number: shape for shape, numbers in _SHAPES.items() for number in numbers
}
"""MBPP task number -> how its JSON argument list becomes EvalPlus's Python arguments."""


def shape_mbpp_inputs(task_id: str, inputs: list) -> list:
    """``inputs`` (one argument list per call) as EvalPlus passes them for ``task_id``."""
    shape = MBPP_INPUT_SHAPES.get(int(task_id.split("/")[-1]))
    return [shape(args) for args in inputs] if shape else inputs
