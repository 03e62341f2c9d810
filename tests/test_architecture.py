"""The tree shows the data flow: imports run one way, and there are no import cycles.

cli -> scenario / live -> phone / audio -> profiles;  bt -> profiles;  the phone never imports bt, and
nothing imports cli. Every import counts, also the ones inside functions (a lazy import is still a
dependency). The module names are read from the installed package, so this checks what users get.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import routesim

PACKAGE_ROOT = Path(routesim.__file__).resolve().parent


def _sources() -> dict[str, Path]:
    """Every routesim module and its file, as the import system resolves them (one name, one file)."""
    import importlib
    import importlib.util
    import pkgutil

    found: dict[str, Path] = {}
    # An editable install maps routesim.routes & co. through a finder, not through routesim.__path__, so
    # each subpackage is walked from its own __path__.
    roots = ["routesim"] + [f"routesim.{name}" for name in ("routes", "bt", "profiles", "fixtures")]
    for root in roots:
        package = importlib.import_module(root)
        found[root] = Path(package.__file__)
        for info in pkgutil.walk_packages(package.__path__, root + "."):
            spec = importlib.util.find_spec(info.name)
            if spec and spec.origin and spec.origin.endswith(".py"):
                found[info.name] = Path(spec.origin)
    return found


SOURCES = _sources()


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)  # "from pkg import module"
    return {m for m in out if m in SOURCES and m != module}


GRAPH = {m: _imports(m, p) for m, p in SOURCES.items()}


def test_the_package_is_found_under_one_name():
    assert {m.split(".")[1] for m in SOURCES if m.count(".") >= 1} >= {"routes", "bt", "profiles", "fixtures"}
    assert len(SOURCES) > 60, sorted(SOURCES)


def test_no_import_cycles():
    # Tarjan's strongly connected components: any component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


# (importer prefix, forbidden prefix, why)
FORBIDDEN = [
    ("routesim.routes.phone", "routesim.bt", "the phone model takes accessory events, never BlueZ or bleak"),
    ("routesim.routes.phone", "routesim.routes.scenario", "the phone knows nothing of scenario files"),
    ("routesim.routes.phone", "routesim.routes.audio", "audio I/O is built on the phone, not under it"),
    ("routesim.routes.phone", "routesim.routes.live", "the phone is synchronous; the asyncio side feeds it"),
    ("routesim.routes.audio", "routesim.bt", "audio I/O runs on the phone's route, not on BlueZ"),
    ("routesim.routes.audio", "routesim.routes.scenario", "audio I/O knows nothing of scenario files"),
    ("routesim.routes.audio", "routesim.routes.live", "audio I/O is synchronous"),
    ("routesim.profiles", "routesim.routes", "profiles depend on nothing else in the project"),
    ("routesim.profiles", "routesim.bt", "profiles depend on nothing else in the project"),
    ("routesim.bt", "routesim.routes", "bt turns the world into events; it never reaches into the phone"),
    ("routesim.events", "routesim.routes", "the shared event types belong to neither side"),
    ("routesim.events", "routesim.bt", "the shared event types belong to neither side"),
    ("routesim.api", "routesim.routes.scenario", "the scenario runner is built on the Python API, not under it"),
    ("routesim.routes.phone", "routesim.api", "the session model is what the Python API drives"),
    ("routesim.routes.audio", "routesim.api", "audio I/O is what the Python API drives"),
    ("routesim.bt", "routesim.api", "bt turns the world into events; the Python API consumes them"),
    ("routesim.profiles", "routesim.api", "profiles depend on nothing else in the project"),
    ("routesim.events", "routesim.api", "the shared event types belong to neither side"),
    ("routesim.clock", "routesim.api", "the clock is shared by everything"),
]


@pytest.mark.parametrize("importer,forbidden,why", FORBIDDEN, ids=[f"{a}-x-{b}" for a, b, _ in FORBIDDEN])
def test_imports_run_one_way(importer, forbidden, why):
    bad = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if m == importer or m.startswith(importer + ".")
                 for t in targets if t == forbidden or t.startswith(forbidden + "."))
    assert not bad, f"{why}:\n" + "\n".join(bad)


def test_nothing_imports_the_command_line():
    bad = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if not m.startswith("routesim.routes.cli")
                 and m != "routesim.__main__" for t in targets if t.startswith("routesim.routes.cli"))
    assert not bad, "\n".join(bad)


def test_only_bt_talks_dbus_or_bleak():
    bad = []
    for m, path in SOURCES.items():
        if m.startswith("routesim.bt"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{m} imports {n}" for n in names if n.split(".")[0] in ("dbus_fast", "bleak")]
    assert not bad, "\n".join(bad)
