"""The packages' imports, read with ``ast`` (nothing is imported): no circles, and one
direction, drawn in docs/code.md:

    analysis  ->  metrics  ->  gans

- ``gans`` (training, components, config) imports neither ``metrics`` nor ``analysis``;
- ``metrics`` (measuring: samples in, numbers out) never imports ``analysis``;
- ``analysis`` (many runs' numbers in: tables, statistics, figures, the report)
  imports from ``gans`` only its shared contracts (``ANALYSIS_MAY_IMPORT``), and no
  chain of imports leads it to the training loop or to a model being loaded
  (``ANALYSIS_NEVER_LOADS``).

Every import counts, at module level or inside a function (a function-level import
may not hide a circle); ``if TYPE_CHECKING:`` blocks do not run and are skipped. An
import of ``pkg.mod`` counts as one of ``pkg.mod`` (not of ``pkg``'s ``__init__``);
``from pkg import name`` counts as one of ``pkg.name`` when that is a module, else of
``pkg``. Registries that import their package's modules by name at run time
(``gans/registry.py``) are outside this graph: those modules import the registry, not
the reverse.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["gans", "metrics", "analysis"]  # each may import those before it, never those after

# the gans modules the analysis may import: run folders, config, records and component
# metadata (a dataset's modality, a loss's equilibrium value), never training code
ANALYSIS_MAY_IMPORT = (
    "gans",
    "gans.config",
    "gans.layout",
    "gans.registry",
    "gans.runtime",
    "gans.safe_io",
    "gans.provenance",
    "gans.compute",
    "gans.space",
    "gans.datasets",
    "gans.losses",
)
# reached by no chain of imports from the analysis
ANALYSIS_NEVER_LOADS = (
    "gans.train",
    "gans.job",
    "gans.checkpoints",
    "gans.prepare_data",
    "metrics.evaluate",
    "metrics.calibration",
)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    where: str  # file:line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for layer in LAYERS if (ROOT / layer).is_dir() for p in (ROOT / layer).rglob("*.py")}


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _import_nodes(tree: ast.AST):
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _known(name: str, known: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is one of the packages' modules."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports() -> list[Import]:
    known, out = modules(), []
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _import_nodes(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the importing module's package up
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            for target in targets:
                found = _known(target, known)
                if found and found != name:
                    out.append(Import(name, found, where))
    return out


def graph(edges: list[Import]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for e in edges:
        out.setdefault(e.source, {}).setdefault(e.target, e.where)
    return out


def circles(g: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm,
    iterative), each as one circle through them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(g.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(_one_circle(g, set(component)))
    return found


def _one_circle(g: dict[str, dict[str, str]], members: set[str]) -> list[str]:
    """A path from the component's first module back to itself, inside the component."""
    first = min(members)
    paths, seen = [[first]], {first}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(g.get(path[-1], {})):
            if nxt == first:
                return [*path, first]
            if nxt in members and nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return sorted(members)


def layer_of(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or (p != "gans" and module.startswith(p + ".")) for p in prefixes)


def reachable(g: dict[str, dict[str, str]], start: str) -> dict[str, list[str]]:
    """Every module reached from ``start``, with one chain of imports to it."""
    chains, todo = {start: [start]}, [start]
    while todo:
        node = todo.pop(0)
        for nxt in sorted(g.get(node, {})):
            if nxt not in chains:
                chains[nxt] = [*chains[node], nxt]
                todo.append(nxt)
    return chains


def test_the_graph_sees_the_packages():
    g = graph(imports())
    assert {"analysis.aggregate", "metrics.evaluate", "gans.train"} <= set(g)
    assert "gans.job" in g["gans.train"], "the graph misses an import every version of the code has"


def test_no_import_circles():
    g = graph(imports())
    found = circles(g)
    lines = []
    for circle in found:
        steps = [f"{a} -> {b} ({g[a][b]})" for a, b in zip(circle, circle[1:], strict=False)]
        lines.append("circle: " + "; ".join(steps))
    assert not found, "import circles (move the code to where it belongs):\n" + "\n".join(lines)


def test_imports_go_one_way():
    bad = [
        f"{e.source} imports {e.target} ({e.where}): {e.source.split('.')[0]} may not import {e.target.split('.')[0]}"
        for e in imports()
        if layer_of(e.target) > layer_of(e.source)
    ]
    assert not bad, f"imports against the direction {' <- '.join(reversed(LAYERS))}:\n" + "\n".join(bad)


def test_the_analysis_imports_no_training_code():
    edges = imports()
    bad = [
        f"{e.source} imports {e.target} ({e.where}): not one of gans' shared contracts"
        for e in edges
        if e.source.split(".")[0] == "analysis" and e.target.split(".")[0] == "gans"
        if not within(e.target, ANALYSIS_MAY_IMPORT)
    ]
    g = graph(edges)
    for module in sorted(m for m in modules() if m.split(".")[0] == "analysis"):
        for target, chain in reachable(g, module).items():
            if target in ANALYSIS_NEVER_LOADS:
                bad.append(f"{module} loads {target}: {' -> '.join(chain)}")
    assert not bad, "the analysis reaches training code:\n" + "\n".join(bad)


def test_the_checks_catch_what_they_name():
    g = {"a.x": {"a.y": "x:1"}, "a.y": {"a.z": "y:1"}, "a.z": {"a.x": "z:1"}, "a.w": {"a.x": "w:1"}}
    assert circles(g) == [["a.x", "a.y", "a.z", "a.x"]]
    assert circles({"a.x": {"a.y": "x:1"}}) == []
    assert layer_of("analysis.aggregate") > layer_of("metrics.evaluate") > layer_of("gans.train")
    assert within("gans.config.run", ANALYSIS_MAY_IMPORT) and not within("gans.train", ANALYSIS_MAY_IMPORT)
