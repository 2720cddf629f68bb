"""The package's import graph, read with ``ast``: no circle, no import running back up, and no
module that acts when imported (the entry points excepted).

The layers, from the top: a module imports only from its own layer or a lower one (the order is
also in README.md's layout paragraph). Imports under ``if TYPE_CHECKING:`` are left out: they
never run.
"""

import ast
from pathlib import Path

from .conftest import REPO_ROOT

PACKAGE_DIR = REPO_ROOT / "src" / "titanic"

# From the top: each entry is a module or a sub-package, named inside ``titanic``.
LAYERS = (
    ("__main__", "cli"),
    ("sweep",),
    ("report",),
    ("outputs", "analysis", "modeling", "dataset", "features", "plots", "findings"),
    ("site",),
    ("io",),
    ("config", "report_parameters", "layers", "strict_yaml", "settings"),
    (
        "schema",
        "fingerprint",
        "project",
        "provenance",
        "metrics",
        "processes",
        "uncertainty",
    ),
    ("errors",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """Return which of ``modules`` the file imports (at run time, anywhere in it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if _type_checking_block(node)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE_DIR.rglob("*.py")}
    return {
        name: imported_modules(path, set(paths)) - {name, "titanic"}
        for name, path in paths.items()
    }


def layer_of(module: str) -> int:
    first = module.split(".")[1] if "." in module else ""
    for index, layer in enumerate(LAYERS):
        if first in layer:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and README.md)")


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    circles = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                circles.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, circles


def test_every_module_is_in_a_layer_and_imports_only_its_own_or_lower_layers():
    graph = import_graph()
    upward = [
        f"{module} (layer {layer_of(module)}) -> {imported} (layer {layer_of(imported)})"
        for module, imports in sorted(graph.items())
        for imported in sorted(imports)
        if layer_of(imported) < layer_of(module)
    ]
    assert not upward, upward


def top_level_calls(path: Path) -> list[int]:
    """Return the lines of the calls a module makes when imported, as statements of their own.

    A method of an object the module itself builds (``app.add_typer(...)``) only assembles it.
    """
    body = ast.parse(path.read_text(encoding="utf-8")).body
    own = {
        target.id
        for statement in body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    return [
        statement.lineno
        for statement in body
        if isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and not (
            isinstance(statement.value.func, ast.Attribute)
            and isinstance(statement.value.func.value, ast.Name)
            and statement.value.func.value.id in own
        )
    ]


def test_importing_a_module_calls_nothing_but_in_the_entry_points():
    """Only ``__main__`` and the forkserver's entry point call anything when imported."""
    entry_points = {"titanic.__main__", "titanic.sweep.forkserver"}
    acting = [
        f"{module_name(path)} line {line}"
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if module_name(path) not in entry_points
        for line in top_level_calls(path)
    ]
    assert not acting, acting


def test_the_graph_sees_imports_inside_functions_but_not_type_checking_ones(tmp_path):
    (tmp_path / "titanic").mkdir()
    module = tmp_path / "titanic" / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from titanic import a\n"
        "if TYPE_CHECKING:\n"
        "    from titanic.b import B\n"
        "def f():\n"
        "    import titanic.c\n",
        encoding="utf-8",
    )
    modules = {"titanic.a", "titanic.b", "titanic.c"}
    assert imported_modules(module, modules) == {"titanic.a", "titanic.c"}
