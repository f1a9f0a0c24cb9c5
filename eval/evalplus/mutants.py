"""Deterministic mutants of canonical solutions: the wrong answers of the parity checks.

Each mutant changes one place in a task's canonical solution (never its prompt):

- ``int+1`` / ``int-1``: an integer constant off by one;
- ``compare``: a comparison flipped (``<`` and ``<=``, ``>`` and ``>=``, ``==`` and
  ``!=``, ``in`` and ``not in``, ``is`` and ``is not``);
- ``arith``: an arithmetic operator swapped (``+`` and ``-``, ``*`` and ``//``,
  ``%`` to ``//``);
- ``boolop``: ``and`` and ``or`` swapped;
- ``not``: a ``not`` dropped;
- ``else``: an ``else``/``elif`` branch dropped;
- ``if``: an ``if`` condition negated.

The sites are numbered in source order and ``per_task`` of them are taken evenly
spaced, so the same file always gives the same mutants, with no random state. A
mutant is a whole program (EvalPlus's ``solution`` field). Some mutants are
equivalent to the original; a parity check compares verdicts, so those count too.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .data import EvalPlusProblem

_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is}  # fmt: skip
_ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
          ast.Mod: ast.FloorDiv}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    task_id: str
    solution: str
    """The whole mutated program (prompt + canonical solution)."""
    description: str
    """``<operator> at line N`` (line of the program)."""

    def as_sample(self) -> dict:
        """A samples-file row, readable by codegen-eval and by EvalPlus."""
        return {"task_id": self.task_id, "solution": self.solution}


def _sites(tree: ast.AST, first_line: int) -> list[tuple[ast.AST, str]]:
    """Every mutable ``(node, operator)`` of the canonical part, in source order."""
    found: list[tuple[int, int, ast.AST, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if line < first_line:
            continue
        ops: list[str] = []
        if isinstance(node, ast.Constant) and type(node.value) is int:
            ops = ["int+1", "int-1"]
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE:
            ops = ["compare"]
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            ops = ["arith"]
        elif isinstance(node, ast.BoolOp):
            ops = ["boolop"]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            ops = ["not"]
        elif isinstance(node, ast.If):
            ops = ["if", "else"] if node.orelse else ["if"]
        found += [(line, getattr(node, "col_offset", 0), node, op) for op in ops]
    found.sort(key=lambda site: (site[0], site[1]))
    return [(node, op) for _, _, node, op in found]


class _Apply(ast.NodeTransformer):
    """Apply operator ``op`` to the node that is ``target`` in the original tree."""

    def __init__(self, target: ast.AST, op: str) -> None:
        self.target, self.op = target, op

    def visit(self, node: ast.AST) -> ast.AST:
        if node is not self.target:
            return self.generic_visit(node)
        op = self.op
        if op in ("int+1", "int-1"):
            return ast.Constant(node.value + (1 if op == "int+1" else -1))  # type: ignore[attr-defined]
        if op == "compare":
            node.ops = [_COMPARE[type(node.ops[0])](), *node.ops[1:]]  # type: ignore[attr-defined]
        elif op == "arith":
            node.op = _ARITH[type(node.op)]()  # type: ignore[attr-defined]
        elif op == "boolop":
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
        elif op == "not":
            return node.operand  # type: ignore[attr-defined]
        elif op == "if":
            node.test = ast.UnaryOp(ast.Not(), node.test)  # type: ignore[attr-defined]
        elif op == "else":
            node.orelse = []  # type: ignore[attr-defined]
        return node


def mutants(problem: EvalPlusProblem, per_task: int) -> list[Mutant]:
    """Up to ``per_task`` mutants of ``problem``'s canonical solution, evenly spread over
    its mutation sites; the same problem always gives the same mutants."""
    source = problem.prompt + problem.canonical_solution
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    first_line = problem.prompt.count("\n") + 1
    sites = _sites(tree, first_line)
    if not sites or per_task < 1:
        return []
    step = len(sites) / min(per_task, len(sites))
    chosen = sorted({int(i * step) for i in range(min(per_task, len(sites)))})
    out = []
    for index in chosen:
        node, op = sites[index]
        mutated = copy.deepcopy(tree)
        # deepcopy keeps the walk order, so the same position names the same node
        target = _sites(mutated, first_line)[index][0]
        program = ast.unparse(ast.fix_missing_locations(_Apply(target, op).visit(mutated)))
        if program.strip() == ast.unparse(tree).strip():
            continue
        out.append(Mutant(problem.task_id, program + "\n", f"{op} at line {node.lineno}"))  # type: ignore[attr-defined]
    return out


def all_mutants(problems: Iterable[EvalPlusProblem], per_task: int) -> Iterator[Mutant]:
    """:func:`mutants` of every problem, in order."""
    for problem in problems:
        yield from mutants(problem, per_task)
