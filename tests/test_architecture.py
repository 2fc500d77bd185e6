"""The shape of `localorg`: no import cycle between its modules; and no module of the project
(localorg, tasks, metacheck, tests, bench, tools) over 600 lines.

Imports are read with `ast` from the source (also those inside functions: a deferred import is
still a dependency), so the check needs no import of the code itself.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "localorg"
MAX_LINES = 600
PROJECT_CODE = ("localorg", "tasks", "metacheck", "tests", "bench", "tools")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict) -> set:
    """The localorg modules `name` imports; `from pkg import sub` counts as `pkg.sub`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def graph() -> dict:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


@pytest.fixture(scope="module")
def edges() -> dict:
    """graph(), read once for this module's tests (it parses every module of localorg)."""
    return graph()


def cycles(edges: dict) -> list:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_localorg(edges):
    found = cycles(edges)
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_store_and_the_flow_runtime_do_not_import_each_other(edges):
    for name, targets in edges.items():
        if name.startswith("localorg.flow"):
            assert not any(t.startswith("localorg.backend") for t in targets), name


def test_no_module_over_600_lines():
    root = PACKAGE.parent
    sizes = {p.relative_to(root).as_posix(): len(p.read_text().splitlines())
             for folder in PROJECT_CODE for p in (root / folder).rglob("*.py")}
    assert len(sizes) > 200
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_the_emulator_core_names_no_package_of_this_project(edges):
    """backend/, server/ and flow/ serve any package: this project's (the Calendly stand-in)
    is wired in `localorg.calendly` and passed in through `Org(packages=...)`."""
    core = ("localorg.backend", "localorg.server", "localorg.flow")
    for name, path in modules().items():
        if name.startswith(core):
            assert "localorg.calendly" not in edges[name], name
            assert "Calendly" not in path.read_text(), name
