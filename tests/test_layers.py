"""The import contract the README draws: `planner/`'s folders are layers, and imports run one way, down them.

Read from the source with `ast` (nothing is imported), so a hidden import inside a function counts
as much as one at the top of a file:
- a module imports only from its own layer or the layers below it, and the modules of one layer
  import each other without a cycle;
- no planner module is imported inside a function or a class body (that is how cycles hide);
  inside a function only optional third-party packages may be imported, so an extra that is not
  installed costs only the command that needs it;
- the library never imports streamlit, and only `planner.model` and `planner.engine.solve` touch
  PuLP and HiGHS.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "planner"
LAYERS = ("core", "inputs", "model", "engine", "analysis", "runs", "present", "cli")  # bottom first
LAZY_THIRD_PARTY = {"rich", "distributed", "dask"}  # optional extras, loaded by the command that needs them
SOLVER_PACKAGES = {"pulp", "highspy", "ortools"}
SOLVER_MODULES = ("planner.model", "planner.engine.solve")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """Index in LAYERS, or None for the package root (the public API, above every layer)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else -1


def resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, int, bool]]:
    """(imported module, line, imported at module level) for every import statement in a file."""
    module = module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` and `try:` blocks at the top are module level too
        if isinstance(node, (ast.If, ast.Try)):
            top_level.update(id(child) for child in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node, path.name == "__init__.py")
            if target == "planner" or (node.level and not node.module):  # `from planner import x`: x may be a module
                found += [(f"{target}.{alias.name}", node.lineno, id(node) in top_level) for alias in node.names]
            else:
                found.append((target, node.lineno, id(node) in top_level))
    return found


def planner_module(name: str, known: set[str]) -> str | None:
    """The planner module an imported name refers to (a name imported from a package is its module)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


SOURCES = sorted(PACKAGE.rglob("*.py"))
KNOWN = {module_name(path) for path in SOURCES}
GRAPH = {module_name(path): imports(path) for path in SOURCES}


def test_every_module_sits_in_a_layer():
    strays = [m for m in KNOWN if layer_of(m) == -1]
    assert not strays, f"modules outside the layer folders {LAYERS}: {strays}"


@pytest.mark.parametrize("module", sorted(KNOWN))
def test_imports_run_down_the_layers(module):
    own = layer_of(module)
    upward = []
    for name, line, _ in GRAPH[module]:
        target = planner_module(name, KNOWN)
        if target is None or target == module:
            continue
        if target == "planner" and module != "planner":
            upward.append(f"line {line}: imports the package root `planner` (the public API sits above every layer)")
        elif own is not None and layer_of(target) is not None and layer_of(target) > own:
            upward.append(
                f"line {line}: {LAYERS[own]} imports {target} from the {LAYERS[layer_of(target)]} layer above"
            )
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("module", sorted(KNOWN))
def test_no_import_hides_inside_a_function(module):
    hidden = []
    for name, line, at_top in GRAPH[module]:
        if at_top:
            continue
        if name.split(".")[0] == "planner":
            hidden.append(f"line {line}: {name} imported inside a function (move the thing down a layer instead)")
        elif name.split(".")[0] not in LAZY_THIRD_PARTY:
            hidden.append(
                f"line {line}: {name} imported inside a function; import it at the top, or add it to "
                "LAZY_THIRD_PARTY if it is an optional extra"
            )
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("path", [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))], ids=lambda p: p.name)
def test_the_app_imports_at_the_top_too(path):
    hidden = [f"line {line}: {name}" for name, line, at_top in imports(path) if not at_top]
    assert not hidden, f"{path.name} imports inside a function: {hidden}"


def test_modules_import_each_other_without_a_cycle():
    graph = nx.DiGraph()
    for module, found in GRAPH.items():
        graph.add_node(module)
        for name, _, _ in found:
            target = planner_module(name, KNOWN)
            # a package's __init__ is run before its modules; an import of the package itself is not a cycle
            if target and target != module and not module.startswith(target + "."):
                graph.add_edge(module, target)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_the_library_never_imports_streamlit_and_only_the_model_and_solver_touch_the_solvers():
    wrong = []
    for module, found in GRAPH.items():
        for name, line, _ in found:
            top = name.split(".")[0]
            if top == "streamlit":
                wrong.append(f"{module}:{line} imports streamlit")
            if top in SOLVER_PACKAGES and not module.startswith(SOLVER_MODULES):
                wrong.append(f"{module}:{line} imports {top}; only {SOLVER_MODULES} talk to the solver")
    assert not wrong, "\n".join(wrong)


def test_the_contract_catches_an_upward_import_hidden_in_a_function(tmp_path):
    """The checker itself: a core module importing the engine inside a function is seen, and seen as upward."""
    source = tmp_path / "planner" / "core" / "bad.py"
    source.parent.mkdir(parents=True)
    source.write_text("import math\n\n\ndef f():\n    from ..engine.planning import plan\n    return plan\n")
    found = imports(source, tmp_path)
    assert ("math", 1, True) in found
    assert ("planner.engine.planning", 5, False) in found
    assert layer_of("planner.engine.planning") > layer_of(module_name(source, tmp_path))
