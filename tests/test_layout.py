"""The tree shows the layers: no import cycles, the core never imports the Jupyter layer, small modules.

Imports are read from the source with ``ast``, including imports inside functions (a lazy import
is still a dependency); imports under ``if TYPE_CHECKING:`` are for annotations only and are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nb_email_conn"
MAX_LINES = 400
# The notebook layer (Jupyter and marimo), and what only it may import.
JUPYTER_LAYER = "nb_email_conn.widgets"
JUPYTER_MODULES = ("ipywidgets", "anywidget", "IPython", "traitlets", "ipykernel", "comm", "marimo")
# Who may reach into the Jupyter layer: the package's re-exports and the command line.
MAY_IMPORT_JUPYTER = {"nb_email_conn", "nb_email_conn.cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _runtime_imports_of(child))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    elif not (isinstance(node, ast.If) and _is_type_checking(node)):
        yield from _runtime_imports(node)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else _resolve(name, path.name == "__init__.py", node)
            )
            targets.update(names)
        graph[name] = targets
    return graph


GRAPH = _graph()
INTERNAL = set(GRAPH)


def _internal_edges(name: str) -> set[str]:
    # "from .x import y" names the module x (and y when y is a submodule). A module's own parent
    # packages are not edges: Python has always loaded them before the module itself.
    return {
        target for target in GRAPH[name] if target in INTERNAL and target != name and not name.startswith(target + ".")
    }


def test_no_import_cycles_even_through_imports_inside_functions() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(_internal_edges(node)):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for module in sorted(INTERNAL):
        if module not in state:
            visit(module)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(INTERNAL))
def test_the_core_never_imports_the_jupyter_layer(module: str) -> None:
    if module.startswith(JUPYTER_LAYER) or module in MAY_IMPORT_JUPYTER:
        return
    reached = {
        target
        for target in GRAPH[module]
        if target.startswith(JUPYTER_LAYER) or target.split(".")[0] in JUPYTER_MODULES
    }
    assert reached == set(), f"{module} imports the Jupyter layer: {sorted(reached)}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines; split it (one job per module)"


def test_the_checker_sees_imports_inside_functions() -> None:
    # Guards the guard: approvers.py imports the front-end hooks, display code imports lazily.
    assert "nb_email_conn.frontend" in GRAPH["nb_email_conn.approvers"]
    assert any(t.startswith("nb_email_conn.message") for t in GRAPH["nb_email_conn.functions.reading"])


def test_the_architecture_doc_names_every_module() -> None:
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        folder = path.parent.relative_to(PACKAGE.parent).as_posix()
        section = doc.split(f"### `{folder}/`", 1)
        if len(section) < 2 or f"| `{path.name}` |" not in section[1].split("\n### ", 1)[0]:
            missing.append(str(path.relative_to(PACKAGE.parent)))
    assert missing == [], f"docs/architecture.md's module map misses: {missing}"
