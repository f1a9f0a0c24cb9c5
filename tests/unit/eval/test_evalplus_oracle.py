"""EvalPlus's comparison rules (tolerance, special oracles) and its problem format, pure."""

from __future__ import annotations

import json
import math

import pytest

from codegen.eval.evalplus.data import (
    MBPP_INPUT_SHAPES,
    evalplus_problems,
    is_evalplus_row,
    shape_mbpp_inputs,
)
from codegen.eval.evalplus.oracle import OutputCheck, is_floats, poly
from codegen.eval.problems import ProblemsError


def problem(task_id: str = "HumanEval/0", entry: str = "f", atol: float = 0, **extra):
    row = {"task_id": task_id, "prompt": "", "entry_point": entry, "canonical_solution": "",
           "base_input": [[1]], "plus_input": [[2]], "atol": atol, **extra}  # fmt: skip
    return evalplus_problems("mem", [(1, row)])[task_id]


def verdicts(p, pairs) -> list[bool]:
    """One check over ``(args, out, expected)`` in order, as EvalPlus runs it."""
    check = OutputCheck(p)
    return [check.matches(args, out, want) for args, out, want in pairs]


def test_is_floats_follows_evalplus() -> None:
    assert is_floats(1.0) and is_floats([1.0, 2.0]) and is_floats((0.5,))
    assert not is_floats(1) and not is_floats([]) and not is_floats([1.0, 2])
    assert not is_floats(True) and not is_floats("1.0") and not is_floats([[1.0]])


def test_exact_outputs_and_python_equality() -> None:
    p = problem()
    assert verdicts(p, [([1], [1, 2], [1, 2]), ([1], 2, 2.0), ([1], True, 1)]) == [True] * 3
    assert verdicts(p, [([1], [1, 2], (1, 2))]) == [False]  # a tuple is not a list
    assert verdicts(p, [([1], "a", "b")]) == [False]


def test_float_outputs_get_one_millionth_when_atol_is_zero() -> None:
    p = problem()
    assert verdicts(p, [([1], 0.1 + 0.2, 0.3)]) == [True]
    assert verdicts(p, [([1], 0.3 + 1e-5, 0.3)]) == [False]
    assert verdicts(p, [([1], [1.0, 2.0000001], [1.0, 2.0])]) == [True]


def test_raised_tolerance_stays_for_the_later_inputs_of_the_check() -> None:
    # EvalPlus raises its loop's atol on the first float output and never lowers it.
    p = problem()
    ints_close = ([1], [1, 2.0000001], [1, 2])
    assert verdicts(p, [ints_close]) == [False]
    assert verdicts(p, [([1], 0.5, 0.5), ints_close]) == [True, True]


def test_tolerance_needs_same_type_and_length_and_uses_relative_term() -> None:
    p = problem(atol=1e-6)
    assert verdicts(p, [([1], (1.0, 2.0000001), [1.0, 2.0])]) == [False]
    assert verdicts(p, [([1], [1.0], [1.0, 2.0])]) == [False]
    assert verdicts(p, [([1], 1e10 + 500.0, 1e10)]) == [True]  # rtol 1e-7 of 1e10
    assert verdicts(p, [([1], 1e10 + 5000.0, 1e10)]) == [False]
    assert verdicts(p, [([1], ["a"], ["b"])]) == [False]  # numpy refuses: not close


def test_nan_never_matches() -> None:
    assert verdicts(problem(atol=1e-6), [([1], math.nan, math.nan)]) == [False]


def test_find_zero_passes_any_root_within_atol() -> None:
    p = problem("HumanEval/32", "find_zero", atol=1e-4)
    xs = [-6.0, 11.0, -6.0, 1.0]  # roots 1, 2, 3
    assert poly(xs, 2.0) == 0
    assert verdicts(p, [([xs], 3.0, 1.0), ([xs], 1.00001, 1.0)]) == [True, True]
    assert verdicts(p, [([xs], 1.5, 1.0)]) == [False]
    assert verdicts(p, [([xs], "1.0", 1.0)]) == [False]


@pytest.mark.parametrize(
    "entry, args, out, expected, passed",
    [
        ("similar_elements", [(1, 2), (2, 1)], [2, 1], [1, 2], True),
        ("similar_elements", [(1, 2), (2, 1)], [2], [1, 2], False),
        ("are_equivalent", [1, 2], False, True, True),
        ("sum_div", [5], 0, 1, True),
        ("sum_div", [5], 2, 1, False),
        ("surface_Area", [3, 4], 35, 33, True),  # the perpendicular-height reading
        ("digit_distance_nums", [1, 23], 4, 5, True),  # zero-padded: |0-2|+|1-3|
        ("check_str", ["a"], [False, True], True, True),  # a match object: not None
        ("check_str", ["a"], [True, False], True, False),  # a bool is compared as is
        ("check_str", ["a"], [False, False], True, False),
        ("check_str", ["a"], "junk", True, False),
    ],
)
def test_mbpp_special_oracles(entry, args, out, expected, passed) -> None:
    assert verdicts(problem("Mbpp/1", entry), [(args, out, expected)]) == [passed]


def test_special_oracles_are_per_dataset() -> None:
    # `sum_div` on HumanEval is an ordinary task: 0 is just a wrong answer there.
    assert verdicts(problem("HumanEval/1", "sum_div"), [([5], 0, 1)]) == [False]


def test_mbpp_inputs_are_rebuilt_as_evalplus_passes_them() -> None:
    assert shape_mbpp_inputs("Mbpp/124", [[1, "1+2j"]]) == [(1.0, 1 + 2j)]
    assert shape_mbpp_inputs("Mbpp/2", [[[1, 2], [3]]]) == [[(1, 2), (3,)]]
    assert shape_mbpp_inputs("Mbpp/115", [[[[1], []]]]) == [[[{1}, {}]]]
    assert shape_mbpp_inputs("Mbpp/580", [[[1, [2, 3]]]]) == [(((1, (2, 3))),)]
    assert shape_mbpp_inputs("Mbpp/722", [[{"a": [1, 2]}, 3]]) == [[{"a": (1, 2)}, 3]]
    assert shape_mbpp_inputs("Mbpp/4", [[[1, 2], 3]]) == [[[1, 2], 3]]
    assert len(MBPP_INPUT_SHAPES) == 62  # the tasks EvalPlus 0.3.1 reshapes


def test_problem_rows_are_recognised_and_checked() -> None:
    p = problem("Mbpp/9", "g", atol=0, assertion="assert g(1) == 1")
    assert p.dataset == "mbpp" and p.names == ("MBPP", "MBPP+")
    assert problem().names == ("HumanEval", "HumanEval+")
    assert is_evalplus_row({"base_input": [], "plus_input": []})
    assert not is_evalplus_row({"prompt": "", "test": ""})
    good = {"task_id": "HumanEval/0", "prompt": "", "entry_point": "f",
            "canonical_solution": "", "base_input": [], "plus_input": [], "atol": 0}  # fmt: skip
    for change, message in [
        ({"atol": -1}, "atol must be a number"),
        ({"task_id": "Other/1"}, "neither HumanEval/N nor Mbpp/N"),
        ({"entry_point": "not a name"}, "not a Python name"),
        ({"plus_input": [1, 2]}, "list of argument lists"),
    ]:
        with pytest.raises(ProblemsError, match=message):
            evalplus_problems("f.jsonl", [(3, {**good, **change})])
    row = dict(good)
    del row["atol"]
    with pytest.raises(ProblemsError, match=r"f.jsonl:3: EvalPlus problem has no 'atol'"):
        evalplus_problems("f.jsonl", [(3, row)])
    assert json.dumps(repr(problem()))  # inputs stay out of the repr
    # Mbpp/793 ships `{}` as its plus inputs: EvalPlus runs none, and so do we.
    assert evalplus_problems("f", [(1, {**good, "plus_input": {}})])["HumanEval/0"].plus_input == []
