"""The rules that keep the rooms clean (DESIGN.md), checked on the source tree.

The checker reads the source with ``ast`` (nothing is imported) and builds the
module-level import graph of the four packages: every ``import`` and ``from ...
import``, absolute or relative, wherever it sits (module level, inside a function,
inside ``if TYPE_CHECKING:``). ``from pkg import name`` is an edge to ``pkg.name``
when that is a module, else to ``pkg`` (so ``from . import NAME`` in a module is an
edge to its own package's ``__init__``). On that graph the tests hold:

* no package has an import cycle, not even one made of ``TYPE_CHECKING`` or
  function-local imports;
* the floors (``RULES``): each floor imports only floors below it;
* every package folder is listed in pyproject.toml, so a wheel install has it.

The checker is tested on synthetic packages at the bottom of this file.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project's venv is 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "core": "codegen.core",
    "server": "codegen.server",
    "training": "codegen.training",
    "eval": "codegen.eval",
}

# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """One import statement's edge: ``source`` imports ``target``."""

    source: str
    target: str
    file: str
    line: int
    where: str  # "module level", "TYPE_CHECKING", "in f()", "TYPE_CHECKING, in f()"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.source} imports {self.target} ({self.where})"


@dataclass
class ImportGraph:
    modules: dict[str, Path] = field(default_factory=dict)  # module name -> file
    packages: set[str] = field(default_factory=set)  # the names that are packages
    edges: list[Edge] = field(default_factory=list)

    def internal_edges(self) -> list[Edge]:
        return [e for e in self.edges if e.target in self.modules]

    def under(self, prefix: str) -> list[str]:
        return sorted(m for m in self.modules if is_under(m, prefix))


def is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def module_name(folder: Path, package: str, path: Path) -> tuple[str, bool]:
    """The dotted name of ``path`` in ``folder`` (mapped to ``package``), and is-package."""
    parts = list(path.relative_to(folder).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join([package, *parts]), is_pkg


def resolve_relative(module: str, is_pkg: bool, level: int, name: str | None) -> str:
    """What ``from <level dots><name> import ...`` in ``module`` refers to."""
    if level == 0:
        assert name, "absolute 'from import' without a module"
        return name
    parts = module.split(".") if is_pkg else module.split(".")[:-1]
    drop = level - 1
    if drop >= len(parts):
        raise ValueError(f"{module}: relative import beyond the top-level package")
    base = parts[: len(parts) - drop]
    return ".".join(base + ([name] if name else []))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    """Every import statement with where it sits (module level, function, TYPE_CHECKING)."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, str]] = []
        self.context: list[str] = []

    def _where(self) -> str:
        return ", ".join(self.context) or "module level"

    def _in_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.context.append(f"in {node.name}()")
        self.generic_visit(node)
        self.context.pop()

    visit_FunctionDef = _in_function
    visit_AsyncFunctionDef = _in_function

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.context.append("TYPE_CHECKING")
        for child in node.body:
            self.visit(child)
        self.context.pop()
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self._where()))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self._where()))


def build_graph(root: Path, folders: Mapping[str, str]) -> ImportGraph:
    """The import graph of the folders under ``root`` (folder -> package name)."""
    graph = ImportGraph()
    files: list[tuple[str, bool, Path]] = []
    for folder, package in folders.items():
        base = root / folder
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            name, is_pkg = module_name(base, package, path)
            graph.modules[name] = path
            if is_pkg:
                graph.packages.add(name)
            files.append((name, is_pkg, path))

    for name, is_pkg, path in files:
        rel = str(path.relative_to(root))
        collector = _Collector()
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), rel))
        for node, where in collector.found:
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base_name = resolve_relative(name, is_pkg, node.level, node.module)
                targets = []
                for alias in node.names:
                    sub = f"{base_name}.{alias.name}"
                    target = sub if alias.name != "*" and sub in graph.modules else base_name
                    if target not in targets:
                        targets.append(target)
            for target in targets:
                if target != name:  # e.g. ``from . import NAME`` inside pkg/__init__.py
                    graph.edges.append(Edge(name, target, rel, node.lineno, where))
    return graph


def find_cycles(graph: ImportGraph) -> list[list[str]]:
    """Loops among internal modules: for each strongly connected component (Tarjan),
    shortest loops through its members, smallest name first, until every member is
    on a reported loop."""
    succ: dict[str, set[str]] = {m: set() for m in graph.modules}
    for e in graph.internal_edges():
        succ[e.source].add(e.target)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(succ):
        if v not in index:
            strongconnect(v)

    cycles = []
    for comp in components:
        covered: set[str] = set()
        for v in sorted(comp):
            if v not in covered:
                cycle = _shortest_cycle(v, succ, comp)
                covered.update(cycle)
                cycles.append(cycle)
    return sorted(cycles)


def _shortest_cycle(start: str, succ: Mapping[str, set[str]], comp: set[str]) -> list[str]:
    """A shortest loop from ``start`` back to it, inside the component ``comp``."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(succ[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"{start} is on no loop in its component")


def describe_cycle(graph: ImportGraph, cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for a, b in zip(cycle[:-1], cycle[1:], strict=True):
        edge = next(e for e in graph.edges if e.source == a and e.target == b)
        lines.append(f"    {edge}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Rule:
    """Modules under ``sources`` (minus ``exempt``) must not import ``forbidden``;
    when ``allowed`` is given they may import only those (and the stdlib if
    ``allow_stdlib``)."""

    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None
    allow_stdlib: bool = False
    exempt: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        return any(is_under(module, s) for s in self.sources) and not any(
            is_under(module, x) for x in self.exempt
        )

    def breaks(self, target: str) -> bool:
        if any(is_under(target, f) for f in self.forbidden):
            return True
        if self.allowed is None:
            return False
        if self.allow_stdlib and target.split(".")[0] in sys.stdlib_module_names:
            return False
        return not any(is_under(target, a) for a in self.allowed)


def check_rule(graph: ImportGraph, rule: Rule) -> list[str]:
    return sorted(
        str(e) for e in graph.edges if rule.applies_to(e.source) and rule.breaks(e.target)
    )


# ---------------------------------------------------------------------------
# The floors
# ---------------------------------------------------------------------------

S = "codegen.server"
ABOVE_SESSION = (f"{S}.cli", f"{S}.app", f"{S}.features")
ABOVE_LOWER_FLOORS = (f"{S}.session", *ABOVE_SESSION)

SERVER_RULES = [
    # server/lsp: LSP plumbing; it takes a small Protocol, not the state class.
    Rule("lsp-below-session", (f"{S}.lsp",), forbidden=ABOVE_LOWER_FLOORS),
    # The pure logic and the engine host sit below session.
    *(
        Rule(f"{floor}-below-session", (f"{S}.{floor}",), forbidden=ABOVE_LOWER_FLOORS)
        for floor in ("completion", "docstrings", "hints", "model")
    ),
    # session holds the shared state and imports no feature (features import it).
    Rule("session-imports-no-feature", (f"{S}.session",), forbidden=ABOVE_SESSION),
    # Only app (which lists the features) and cli import features/.
    Rule(
        "only-app-imports-features",
        (S,),
        forbidden=(f"{S}.features",),
        exempt=(f"{S}.app", f"{S}.cli", f"{S}.features"),
    ),
    # The state class is for features: plumbing and logic take a small Protocol.
    Rule(
        "only-features-see-session",
        (S,),
        forbidden=(f"{S}.session",),
        exempt=(f"{S}.app", f"{S}.cli", f"{S}.features", f"{S}.session"),
    ),
]

RULES = [
    *SERVER_RULES,
    # The trust boundary: the sandbox imports only itself, the stdlib and core.
    Rule(
        "sandbox-imports-only-itself-stdlib-core",
        ("codegen.eval.sandbox",),
        allowed=("codegen.eval.sandbox", "codegen.core"),
        allow_stdlib=True,
    ),
    # Data preparation and fine-tuning meet through files on disk (JSONL), not
    # imports: today neither imports the other, so both directions are closed.
    Rule("training-data-imports-no-sft", ("codegen.training.data",), ("codegen.training.sft",)),
    Rule("training-sft-imports-no-data", ("codegen.training.sft",), ("codegen.training.data",)),
    # core is the floor everything stands on.
    Rule(
        "core-imports-no-server-training-eval",
        ("codegen.core",),
        ("codegen.server", "codegen.training", "codegen.eval"),
    ),
]


@cache
def source_graph() -> ImportGraph:
    return build_graph(ROOT, PACKAGES)


# ---------------------------------------------------------------------------
# The rules, on the real tree
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["server", "training", "eval"])
def test_features_import_core_but_never_each_other(folder: str) -> None:
    others = tuple(pkg for name, pkg in PACKAGES.items() if name not in (folder, "core"))
    rule = Rule(f"{folder}-imports-no-sibling", (PACKAGES[folder],), forbidden=others)
    assert check_rule(source_graph(), rule) == []


def test_core_imports_no_lsp_library() -> None:
    rule = Rule("core-no-lsp-library", ("codegen.core",), forbidden=("pygls", "lsprotocol"))
    assert check_rule(source_graph(), rule) == []


@pytest.mark.parametrize("folder", list(PACKAGES))
def test_no_import_cycle(folder: str) -> None:
    graph = source_graph()
    package = PACKAGES[folder]
    cycles = [c for c in find_cycles(graph) if any(is_under(m, package) for m in c)]
    message = "\n".join(describe_cycle(graph, c) for c in cycles)
    assert cycles == [], f"import cycles in {package}:\n{message}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_floor(rule: Rule) -> None:
    graph = source_graph()
    for source in rule.sources:
        assert graph.under(source), f"rule {rule.name}: no module under {source} (renamed?)"
    bad = check_rule(graph, rule)
    assert bad == [], f"rule {rule.name} broken:\n" + "\n".join(bad)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _package_folders(package_dir: Mapping[str, str]) -> dict[str, Path]:
    """Every folder with an __init__.py under the mapped folders, by package name."""
    found = {}
    for package, folder in package_dir.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(base).parts
            found[".".join([package, *rel])] = init.parent
    return found


def test_pyproject_maps_the_four_folders() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"] == {pkg: folder for folder, pkg in PACKAGES.items()}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    on_disk = _package_folders(setuptools["package-dir"])
    missing = sorted(set(on_disk) - listed)
    stale = sorted(listed - set(on_disk))
    assert missing == [], f"package folders missing from [tool.setuptools] packages: {missing}"
    assert stale == [], f"[tool.setuptools] packages that are no folder with __init__.py: {stale}"


def test_every_folder_of_python_files_is_a_package() -> None:
    """A folder of modules without __init__.py would be left out of the wheel."""
    bad = []
    for folder in PACKAGES:
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" not in path.parts and not (path.parent / "__init__.py").exists():
                bad.append(str(path.parent.relative_to(ROOT)))
    assert sorted(set(bad)) == []


def test_importing_server_and_eval_does_not_import_torch() -> None:
    code = (
        "import sys, codegen.server, codegen.server.cli, codegen.eval, codegen.eval.cli, "
        "codegen.core.engine, codegen.core.fim\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("script", ["codegen-lsp", "codegen-train", "codegen-eval"])
def test_help_works(script: str) -> None:
    exe = Path(sys.executable).parent / script
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout


@pytest.mark.parametrize("script", ["codegen-train", "codegen-eval"])
def test_every_subcommand_help_works(script: str) -> None:
    """argparse formats help lazily: a stray ``%`` in one option's help breaks only that page."""
    exe = str(Path(sys.executable).parent / script)
    top = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120).stdout
    braces = re.search(r"\{([\w,-]+)\}", top)
    # "{a,b}" in usage, or a COMMAND metavar with one "    name  help" line per subcommand
    subs = braces.group(1).split(",") if braces else re.findall(r"^    (\w[\w-]*) ", top, re.M)
    assert subs, top
    for sub in subs:
        proc = subprocess.run([exe, sub, "--help"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{script} {sub} --help: {proc.stderr[-500:]}"
        assert "usage:" in proc.stdout


# ---------------------------------------------------------------------------
# The checker, tested on synthetic packages
# ---------------------------------------------------------------------------


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SYNTHETIC = {"server": S, "eval": "codegen.eval"}

CLEAN_SERVER = {
    "server/__init__.py": '"""Synthetic server."""\n',
    "server/cli.py": "def main():\n    from .app import create_server\n    create_server()\n",
    "server/app.py": (
        "from .features import completion, hints\n"
        "from .session import Server\n"
        "FEATURES = [completion, hints]\n"
        "def create_server():\n    return Server()\n"
    ),
    "server/features/__init__.py": "",
    "server/features/completion.py": (
        "from typing import TYPE_CHECKING\n"
        "from ..completion.completer import Completer\n"
        "if TYPE_CHECKING:\n    from ..session import Server\n"
        "def register(server: 'Server') -> None:\n    Completer(server)\n"
    ),
    "server/features/hints.py": (
        "from ..hints import prose\nfrom ..model.jobs import run\n"
        "def register(server):\n    run(prose)\n"
    ),
    "server/session.py": (
        "from .completion.completer import Completer\n"
        "from .lsp.events import Hub\n"
        "from .model import jobs\n"
        "class Server(Hub):\n    completer: Completer\n"
    ),
    "server/completion/__init__.py": "",
    "server/completion/completer.py": (
        "from typing import TYPE_CHECKING\n"
        "from . import context\n"
        "if TYPE_CHECKING:\n    from ..lsp.protocol import ServerLike\n"
        "class Completer:\n    def __init__(self, server: 'ServerLike'):\n        pass\n"
    ),
    "server/completion/context.py": "import codegen.core.fim\n",
    "server/hints/__init__.py": "from .prose import prose_ranges\n",
    "server/hints/prose.py": "import re\ndef prose_ranges():\n    return re\n",
    "server/model/__init__.py": "",
    "server/model/jobs.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..lsp.protocol import ServerLike\n"
        "def run(job, server: 'ServerLike' = None):\n    from . import worker\n    return worker\n"
    ),
    "server/model/worker.py": "import threading\n",
    "server/lsp/__init__.py": "",
    "server/lsp/protocol.py": (
        "from typing import Protocol\nclass ServerLike(Protocol):\n    name: str\n"
    ),
    "server/lsp/events.py": "from .protocol import ServerLike\nclass Hub:\n    pass\n",
    "eval/__init__.py": "",
    "eval/verdict.py": "from .sandbox import pool\n",
    "eval/sandbox/__init__.py": "",
    "eval/sandbox/pool.py": (
        "from __future__ import annotations\nimport json, os.path\n"
        "from codegen.core.errors import CodegenError\nfrom .wire import frame\n"
    ),
    "eval/sandbox/wire.py": "import struct\ndef frame():\n    return struct\n",
}

DIRTY_SERVER = {
    **CLEAN_SERVER,
    # TYPE_CHECKING loop (and a floor violation): completion imports the state class.
    "server/completion/completer.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..session import Server\n"
        "class Completer:\n    pass\n"
    ),
    # Function-local loop: model/jobs <-> model/worker, both inside functions.
    "server/model/jobs.py": "def run(job):\n    from . import worker\n    return worker\n",
    "server/model/worker.py": "def start():\n    import codegen.server.model.jobs\n",
    # A loop through the parent package's __init__: ``from . import NAME``.
    "server/hints/__init__.py": "from .prose import prose_ranges\nLIMIT = 3\n",
    "server/hints/prose.py": "from . import LIMIT\ndef prose_ranges():\n    return LIMIT\n",
    # Floor violation, function-local, spelled ``from pkg import module``.
    "server/lsp/events.py": "class Hub:\n    def f(self):\n        from codegen.server import session\n",
    # A non-feature module importing a feature.
    "server/source_text.py": "from .features.hints import register\n",
    # The sandbox importing the trusted side and a third-party package.
    "eval/sandbox/wire.py": "import numpy\nfrom ..report import render\n",
    "eval/report.py": "def render():\n    pass\n",
}


def _rule(name: str) -> Rule:
    return next(r for r in RULES if r.name == name)


def test_checker_passes_a_clean_package(tmp_path: Path) -> None:
    graph = build_graph(write_tree(tmp_path, CLEAN_SERVER), SYNTHETIC)
    assert find_cycles(graph) == []
    for rule in [*SERVER_RULES, _rule("sandbox-imports-only-itself-stdlib-core")]:
        assert check_rule(graph, rule) == [], rule.name
    # The clean package does exercise the rules: it has edges of each kind.
    kinds = {e.where for e in graph.internal_edges()}
    assert {"module level", "TYPE_CHECKING", "in main()", "in run()"} <= kinds


def test_checker_finds_each_cycle(tmp_path: Path) -> None:
    graph = build_graph(write_tree(tmp_path, DIRTY_SERVER), SYNTHETIC)
    cycles = find_cycles(graph)
    assert cycles == [
        [f"{S}.completion.completer", f"{S}.session", f"{S}.completion.completer"],
        [f"{S}.hints", f"{S}.hints.prose", f"{S}.hints"],
        # The lsp floor violation below closes a loop as well: session imports lsp.
        [f"{S}.lsp.events", f"{S}.session", f"{S}.lsp.events"],
        [f"{S}.model.jobs", f"{S}.model.worker", f"{S}.model.jobs"],
    ]
    message = describe_cycle(graph, cycles[0])
    assert message.splitlines()[0] == (
        f"{S}.completion.completer -> {S}.session -> {S}.completion.completer"
    )
    assert "server/completion/completer.py:3:" in message and "(TYPE_CHECKING)" in message
    assert "(in run())" in describe_cycle(graph, cycles[3])


def test_checker_finds_each_floor_violation(tmp_path: Path) -> None:
    graph = build_graph(write_tree(tmp_path, DIRTY_SERVER), SYNTHETIC)
    assert check_rule(graph, _rule("lsp-below-session")) == [
        f"server/lsp/events.py:3: {S}.lsp.events imports {S}.session (in f())"
    ]
    assert check_rule(graph, _rule("completion-below-session")) == [
        f"server/completion/completer.py:3: {S}.completion.completer imports "
        f"{S}.session (TYPE_CHECKING)"
    ]
    assert check_rule(graph, _rule("only-app-imports-features")) == [
        f"server/source_text.py:1: {S}.source_text imports {S}.features.hints (module level)"
    ]
    assert check_rule(graph, _rule("sandbox-imports-only-itself-stdlib-core")) == [
        "eval/sandbox/wire.py:1: codegen.eval.sandbox.wire imports numpy (module level)",
        "eval/sandbox/wire.py:2: codegen.eval.sandbox.wire imports codegen.eval.report "
        "(module level)",
    ]
    for name in ("session-imports-no-feature", "hints-below-session", "model-below-session"):
        assert check_rule(graph, _rule(name)) == [], name


def test_session_importing_a_feature_or_app_is_caught(tmp_path: Path) -> None:
    files = {
        **CLEAN_SERVER,
        "server/session.py": "def f():\n    from . import app\n    from .features import hints\n",
    }
    graph = build_graph(write_tree(tmp_path, files), SYNTHETIC)
    assert check_rule(graph, _rule("session-imports-no-feature")) == [
        f"server/session.py:2: {S}.session imports {S}.app (in f())",
        f"server/session.py:3: {S}.session imports {S}.features.hints (in f())",
    ]


def _edges(graph: ImportGraph, source: str) -> set[str]:
    return {e.target for e in graph.edges if e.source == source}


def test_checker_resolves_imports(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from .a import x\nfrom . import NAME\nNAME = 1\n",
        "pkg/a.py": (
            "import os.path as p, json\n"
            "from . import b, NAME\n"
            "from .sub import *\n"
            "from .sub.c import thing\n"
            "from codegen.pkg import sub\n"
            "from codegen.pkg.sub import c, not_a_module\n"
            "from .. import other\n"
            "import typing\n"
            "if typing.TYPE_CHECKING:\n    from .b import B\n"
            "else:\n    B = None\n"
        ),
        "pkg/b.py": "",
        "pkg/sub/__init__.py": "from .. import a\nfrom ..b import B\nfrom . import c\n",
        "pkg/sub/c.py": "from ... import other\nfrom ...pkg import b\n",
    }
    graph = build_graph(write_tree(tmp_path, files), {"pkg": "codegen.pkg"})
    p = "codegen.pkg"
    assert set(graph.modules) == {p, f"{p}.a", f"{p}.b", f"{p}.sub", f"{p}.sub.c"}
    assert graph.packages == {p, f"{p}.sub"}
    # In pkg/__init__.py, ``from . import NAME`` is the module itself: no edge.
    assert _edges(graph, p) == {f"{p}.a"}
    assert _edges(graph, f"{p}.a") == {
        "os.path",
        "json",
        "typing",
        f"{p}.b",  # a submodule
        p,  # NAME lives in the parent package's __init__
        f"{p}.sub",  # star import, and ``from codegen.pkg import sub``
        f"{p}.sub.c",
        "codegen",  # ``from .. import other``: other is no module, so codegen itself
    }
    kinds = {(e.target, e.where) for e in graph.edges if e.source == f"{p}.a"}
    assert (f"{p}.b", "TYPE_CHECKING") in kinds and (f"{p}.b", "module level") in kinds
    assert _edges(graph, f"{p}.sub") == {f"{p}.a", f"{p}.b", f"{p}.sub.c"}
    assert _edges(graph, f"{p}.sub.c") == {"codegen", f"{p}.b"}
    # pkg -> a -> pkg (NAME) and a -> sub -> a: one component, reported by a
    # shortest loop from its smallest name, then one through the member left out.
    assert find_cycles(graph) == [[p, f"{p}.a", p], [f"{p}.sub", f"{p}.a", f"{p}.sub"]]


def test_relative_import_beyond_the_top_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from .... import x\n"})
    with pytest.raises(ValueError, match="beyond the top-level package"):
        build_graph(tmp_path, {"pkg": "codegen.pkg"})


def test_cycle_report_is_a_shortest_loop(tmp_path: Path) -> None:
    # a -> b -> c -> a and a -> c: the component is {a, b, c}. From a the shortest
    # loop is a -> c -> a (c imports a inside a function); b is on none of it, so
    # a loop through b is reported too.
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b, c\n",
        "pkg/b.py": "from . import c\n",
        "pkg/c.py": "def f():\n    from . import a\n",
        "pkg/d.py": "from . import a\n",  # outside the loop
    }
    graph = build_graph(write_tree(tmp_path, files), {"pkg": "codegen.pkg"})
    cycles = find_cycles(graph)
    assert cycles == [
        ["codegen.pkg.a", "codegen.pkg.c", "codegen.pkg.a"],
        ["codegen.pkg.b", "codegen.pkg.c", "codegen.pkg.a", "codegen.pkg.b"],
    ]
