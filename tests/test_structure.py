"""The shape of the code: the rules engine stands on its own, apps are layered, no import cycles.

The import graph is read from the source with `ast` (nothing is imported), so an import inside a function
counts as much as one at the top of a module: a cycle hidden in a function body is still a cycle.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import qifu

ROOT = Path(qifu.__file__).parent


def modules(root: Path = ROOT, package: str = "qifu") -> dict[str, Path]:
    """Every module of the source tree by its dotted name (a package by its `__init__.py`)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported_names(name: str, path: Path) -> set[str]:
    """The absolute names of everything `name` imports, wherever in the file the import stands
    (`from a.b import c` gives `a.b.c`, whether `c` is a module or a name defined in `a.b`)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def import_graph(tree: dict[str, Path]) -> dict[str, set[str]]:
    """module → the modules of the tree it uses: for each imported name, the longest module of the tree
    it names (`a.b.c` if that is a module, else `a.b` where `c` is defined)."""

    def module_of(imported: str) -> str | None:
        parts = imported.split(".")
        return next((m for m in (".".join(parts[:i]) for i in range(len(parts), 0, -1)) if m in tree), None)

    return {name: {module_of(imported) for imported in imported_names(name, path)} - {None, name}
            for name, path in tree.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a → b → … → a) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = {stack.pop()}
            while v not in group:
                group.add(stack.pop())
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_path_around(group, graph) for group in groups]


def _path_around(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    start = min(group)
    paths = {start: [start]}
    todo = [start]
    while todo:  # breadth first: the shortest way back to the start
        v = todo.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                todo.append(w)
    raise AssertionError("a strongly connected group always leads back")


def _edges_between(graph: dict[str, set[str]], source: str, target: str) -> list[str]:
    def within(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    return sorted(f"{a} → {b}" for a, targets in graph.items() if within(a, source)
                  for b in targets if within(b, target))


# --- the checks ------------------------------------------------------------------------------------

def test_no_import_cycle_between_qifu_modules():
    found = cycles(import_graph(modules()))
    assert found == [], "import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in found)


def test_the_rules_engine_imports_only_the_standard_library_polars_and_yaml():
    """No app, no models: policies, profiles and later users build on the engine, not the other way round.
    The one piece of Django it may use is translation (and the settings, to know whether Django runs), for
    its messages to the people who write rules."""
    allowed = set(sys.stdlib_module_names) | {"polars", "yaml"}

    def fits(imported: str) -> bool:
        return imported.split(".")[0] in allowed or any(
            imported == package or imported.startswith(package + ".")
            for package in ("qifu.rules", "django.utils.translation", "django.conf"))

    engine = {name: path for name, path in modules().items() if name == "qifu.rules" or name.startswith("qifu.rules.")}
    assert engine, "qifu.rules is missing"
    wrong = sorted(f"{name} imports {imported}" for name, path in engine.items()
                   for imported in imported_names(name, path) if not fits(imported))
    assert wrong == []


def test_profiles_depend_on_the_rules_engine_not_on_policies():
    graph = import_graph(modules())
    assert _edges_between(graph, "qifu.profiles", "qifu.policies") == []
    assert _edges_between(graph, "qifu.profiles", "qifu.rules"), "profiles' tag rules are evaluated by qifu.rules"


def test_every_app_routes_its_pages_in_one_urls_module_and_serves_them_from_one_views_module():
    """NetBox's lesson: learn one app and you know them all (the JSON API is `api.py`, Open311 `open311.py`)."""
    routing = sorted(name for name, path in modules().items()
                     if "urlpatterns" in {t.id for node in ast.walk(parsed(path))
                                          if isinstance(node, ast.Assign) for t in node.targets
                                          if isinstance(t, ast.Name)})
    assert all(name == "qifu.urls" or (name.count(".") == 2 and name.endswith(".urls")) for name in routing), routing
    assert len(routing) > 1 and "qifu.appeals.urls" in routing
    assert sorted(name for name in modules() if name.rsplit(".", 1)[-1].startswith("views_")) == []


# --- the checker itself ------------------------------------------------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for relative, source in files.items():
        path = tmp_path / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return modules(tmp_path / "pkg", "pkg")


def test_the_checker_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    tree = _tree(tmp_path, {
        "__init__.py": "",
        "app/__init__.py": "",
        "app/services.py": "from .signals import changed\n",
        "app/signals.py": "def handler():\n    from .services import apply\n",
        "app/models.py": "from pkg.app import services\n",
    })
    assert cycles(import_graph(tree)) == [["pkg.app.services", "pkg.app.signals", "pkg.app.services"]]


def test_the_checker_resolves_relative_and_package_imports(tmp_path):
    tree = _tree(tmp_path, {
        "__init__.py": "",
        "a/__init__.py": "from . import b\n",
        "a/b.py": "from ..c import d\nfrom pkg.e import value\nimport pkg.c\n",
        "c/__init__.py": "",
        "c/d.py": "",
        "e.py": "",
    })
    graph = import_graph(tree)
    assert graph["pkg.a"] == {"pkg.a.b"}
    assert graph["pkg.a.b"] == {"pkg.c", "pkg.c.d", "pkg.e"}
    assert cycles(graph) == []
