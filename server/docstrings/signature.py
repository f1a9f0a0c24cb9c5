"""Signatures of definitions, parsed for docstring skeletons. Pure.

Python with :mod:`ast` (the definition's own source; when its body does not
compile, the header alone, then just the name); JavaScript/TypeScript from
the header text, best effort (no types in JavaScript).
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass

MAX_PARAMS = 12


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str | None = None
    default: str | None = None


@dataclass(frozen=True)
class Signature:
    kind: str
    """``function``, ``method`` or ``class``."""
    name: str
    params: tuple[Param, ...] = ()
    returns: str | None = None
    """The return annotation; ``""`` when the body returns a value without one."""
    raises: tuple[str, ...] = ()
    yields: bool = False


def _unparse(node: ast.AST | None) -> str | None:
    return ast.unparse(node) if node is not None else None


def python_signature(definition_source: str, kind: str, name: str) -> Signature:
    """The parameters, return annotation, raised exceptions and ``yield`` of a Python
    ``def`` or ``class`` (its source from the keyword to the end of the body).

    Falls back to the header alone, then to the bare name, when the source does
    not compile.
    """
    source = textwrap.dedent(definition_source)
    header = source.split(":\n", 1)[0]
    for attempt in (source, _header_only(source), header + ": pass"):
        tree = _parse(attempt)
        if tree is not None and tree.body:
            node = tree.body[0]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return _function_signature(node, kind)
            if isinstance(node, ast.ClassDef):
                return Signature("class", node.name)
    return Signature(kind, name)


def _header_only(source: str) -> str:
    """The ``def ...:`` header (possibly over several lines) with a ``pass`` body."""
    depth = 0
    for i, ch in enumerate(source):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ":" and depth == 0:
            return source[: i + 1] + " pass"
    return source


def _parse(source: str) -> ast.Module | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return None


def _function_signature(node: ast.FunctionDef | ast.AsyncFunctionDef, kind: str) -> Signature:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    params = [
        Param(a.arg, _unparse(a.annotation), _unparse(d))
        for a, d in zip(positional, defaults, strict=True)
    ]
    if args.vararg is not None:
        params.append(Param("*" + args.vararg.arg, _unparse(args.vararg.annotation)))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(Param(a.arg, _unparse(a.annotation), _unparse(d)))
    if args.kwarg is not None:
        params.append(Param("**" + args.kwarg.arg, _unparse(args.kwarg.annotation)))
    if kind == "method" and params and params[0].name in ("self", "cls"):
        params = params[1:]
    raises: list[str] = []
    returns_value = yields = False
    for inner in _own_nodes(node):
        if isinstance(inner, ast.Raise) and inner.exc is not None:
            exc = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
            name = _unparse(exc)
            if name and re.fullmatch(r"[A-Za-z_][\w.]*", name) and name not in raises:
                raises.append(name)
        elif isinstance(inner, ast.Return) and inner.value is not None:
            returns_value = True
        elif isinstance(inner, (ast.Yield, ast.YieldFrom)):
            yields = True
    returns = _unparse(node.returns)
    if returns in ("None", "NoReturn"):
        returns = None
    elif returns is None and returns_value and not yields:
        returns = ""
    if node.name == "__init__":
        returns = None
    return Signature(
        kind, node.name, tuple(params[:MAX_PARAMS]), returns, tuple(raises[:4]), yields
    )


def _own_nodes(node: ast.AST) -> list[ast.AST]:
    """Nodes of a function body, not descending into nested functions or classes."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        inner = stack.pop()
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        found.append(inner)
        stack.extend(ast.iter_child_nodes(inner))
    return found


_JS_PARAMS = re.compile(r"\((?P<params>.*)\)", re.DOTALL)


def js_signature(header: str, kind: str, name: str, typescript: bool) -> Signature:
    """Parameters of a JavaScript/TypeScript function header (best effort, no types in JS)."""
    match = _JS_PARAMS.search(_balanced_parens(header))
    params: list[Param] = []
    if match:
        for raw in _split_top_level(match["params"]):
            raw = raw.strip()
            if not raw or raw == "this" or raw.startswith("this:"):
                continue
            body, _, default = raw.partition("=")
            body, _, annotation = body.partition(":")
            pname = body.strip().rstrip("?")
            if pname.startswith(("{", "[")):
                pname = "options" if pname.startswith("{") else "values"
            pname = pname.replace("...", "")
            if re.fullmatch(r"[A-Za-z_$][\w$]*", pname):
                ann = annotation.strip() or None
                params.append(Param(pname, ann if typescript else None, default.strip() or None))
    returns = None
    after = header[header.rfind(")") + 1 :] if ")" in header else ""
    ret = re.match(r"\s*:\s*([^{=]+?)\s*(?:=>|\{|$)", after)
    if typescript and ret and ret.group(1).strip() not in ("void", "never"):
        returns = ret.group(1).strip()
    return Signature(kind, name, tuple(params[:MAX_PARAMS]), returns)


def _balanced_parens(header: str) -> str:
    """``header`` up to the parenthesis closing its first ``(``."""
    start = header.find("(")
    if start < 0:
        return header
    depth = 0
    for i in range(start, len(header)):
        if header[i] in "([{<":
            depth += 1
        elif header[i] in ")]}>" and not (header[i] == ">" and header[i - 1] == "="):
            depth -= 1
            if depth == 0:
                return header[: i + 1]
    return header


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts
