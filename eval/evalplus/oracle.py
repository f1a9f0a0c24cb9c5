"""EvalPlus's rule for "this output is right", applied in the trusted process.

For each input, in order (EvalPlus's ``unsafe_execute``):

1. ``out == expected``, unless a special oracle replaces or widens it: HumanEval/32's
   ``find_zero`` passes when ``|poly(xs, out)| <= atol``; MBPP+ has set equality for
   eight tasks, "is not None" for three (see :mod:`.harness`), always-true for
   ``are_equivalent`` and alternative answers for ``sum_div``, ``surface_Area`` and
   ``digit_distance_nums``.
2. If the expected output is a float, or a non-empty list or tuple of floats, and the
   task's ``atol`` is 0, the tolerance becomes 1e-6, and stays so for the later inputs
   of the same check (EvalPlus changes its loop variable; so do we).
3. A mismatch with a non-zero tolerance passes when the types are equal, lists and
   tuples have equal lengths, and ``numpy.allclose(out, expected, rtol=1e-7, atol)``.

Both sides are plain data decoded here (:mod:`codegen.eval.sandbox.plain_data`), so
every ``==`` compares objects this process built. One deliberate difference: EvalPlus
0.3.1's ``find_zero`` oracle skips its own bookkeeping and so fails every sample of
HumanEval/32, the canonical solution included; here a root within ``atol`` passes.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from .data import EvalPlusProblem
from .harness import MBPP_OUTPUT_NOT_NONE

FLOAT_ATOL = 1e-6
"""The tolerance EvalPlus enforces for float outputs of tasks whose ``atol`` is 0."""
RTOL = 1e-7
"""``numpy.testing.assert_allclose``'s default, which EvalPlus passes to ``allclose``."""
MBPP_SET_EQUAL = ("similar_elements", "find_char_long", "common_in_nested_lists",
                  "extract_singly", "larg_nnum", "intersection_array", "find_dissimilar",
                  "Diff")  # fmt: skip
"""MBPP+ tasks whose list output is compared as a set (the order is not specified)."""


MBPP_SPECIAL = ("are_equivalent", "sum_div", "surface_Area", "digit_distance_nums",
                *MBPP_SET_EQUAL, *MBPP_OUTPUT_NOT_NONE)  # fmt: skip


def has_special_oracle(problem: EvalPlusProblem) -> bool:
    """True when ``problem`` is judged by a special oracle rather than ``==`` first."""
    if problem.dataset == "humaneval":
        return problem.entry_point == "find_zero"
    return problem.entry_point in MBPP_SPECIAL


def is_floats(value: Any) -> bool:
    """A float, or a non-empty list or tuple of floats (EvalPlus's ``is_floats``)."""
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, float) for v in value)
    return False


def poly(xs: list, x: float) -> float:
    """The polynomial with coefficients ``xs`` at ``x`` (HumanEval/32's own helper)."""
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def surface_area(base_edge: float, height: float) -> int:
    """Mbpp/581's second reading: ``height`` is the pyramid's perpendicular height."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)  # EvalPlus's float steps


def digit_distance(a: int, b: int) -> int:
    """Mbpp/558's second reading: the shorter number is padded with leading zeros."""
    left, right = str(a), str(b)
    width = max(len(left), len(right))
    return sum(
        abs(int(x) - int(y)) for x, y in zip(left.zfill(width), right.zfill(width), strict=True)
    )


def allclose(out: Any, expected: Any, atol: float) -> bool:
    """``numpy.allclose(out, expected, rtol=1e-7, atol=atol)``; anything numpy refuses is False."""
    import numpy as np

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return bool(np.allclose(out, expected, rtol=RTOL, atol=atol))
    except Exception:  # noqa: BLE001 - ragged, non-numeric...: not close
        return False


class OutputCheck:
    """Judges one check's outputs (base or plus) in input order; create one per check,
    since the float tolerance, once raised, stays raised (rule 2)."""

    def __init__(self, problem: EvalPlusProblem) -> None:
        self.problem = problem
        self.atol = problem.atol

    def matches(self, args: Any, out: Any, expected: Any) -> bool:
        """Does ``out`` (the sample's output on ``args``) pass against ``expected``?"""
        try:
            return self._matches(args, out, expected)
        except (RecursionError, MemoryError):
            return False

    def _matches(self, args: Any, out: Any, expected: Any) -> bool:
        problem, entry = self.problem, self.problem.entry_point
        if problem.dataset == "humaneval" and entry == "find_zero":
            try:
                return abs(poly(*args, out)) <= self.atol
            except (TypeError, ValueError, OverflowError):
                return False
        exact = _special(problem, entry, args, out, expected, self.atol)
        if exact is None:
            exact = out == expected
        if self.atol == 0 and is_floats(expected):
            self.atol = FLOAT_ATOL
        if exact or self.atol == 0:
            return bool(exact)
        if type(out) is not type(expected):
            return False
        if isinstance(expected, (list, tuple)) and len(out) != len(expected):
            return False
        return allclose(out, expected, self.atol)


def _special(
    problem: EvalPlusProblem, entry: str, args: Any, out: Any, expected: Any, atol: float
) -> bool | None:
    """MBPP+'s special oracles: the verdict of step 1, or None for plain equality."""
    if problem.dataset != "mbpp":
        return None
    try:
        if entry == "are_equivalent":  # Mbpp/164: the task's statement is ambiguous
            return True
        if entry == "sum_div":  # Mbpp/295
            return out == expected or out == 0
        if entry == "surface_Area":  # Mbpp/581
            return out == expected or abs(out - surface_area(*args)) <= atol
        if entry == "digit_distance_nums":  # Mbpp/558
            return out == expected or out == digit_distance(*args)
        if entry in MBPP_SET_EQUAL:
            return set(out) == set(expected)
        if entry in MBPP_OUTPUT_NOT_NONE:
            # The harness reports [True, out] for a bool, else [False, out is not None].
            if type(out) is not list or len(out) != 2 or type(out[0]) is not bool:
                return False
            was_bool, value = out
            return value == expected if was_bool else expected == value
    except (TypeError, ValueError, OverflowError):
        return False
    return None
