"""The package layout keeps its promises: no import cycle, small host modules, no private cross-imports,
engine and level names in one place (docs/architecture.md)."""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "planwise_core"
MODULES = {".".join(("planwise_core", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
           for p in PACKAGE.rglob("*.py") if "dbt_project" not in p.parts}


def module_imports(name: str, path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name) of every module-level import of planwise_core code (not inside functions)."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planwise_core"):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.startswith("planwise_core")]
    return found


def test_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = set()
        for module, imported in module_imports(name, path):
            submodule = f"{module}.{imported}"
            targets.add(submodule if submodule in MODULES else module)
        graph[name] = {t for t in targets if t in MODULES and t != name}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_module_sizes():
    lines = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert lines["planwise_core.hookspecs"] <= 150
    assert lines["planwise_core.manager"] <= 150
    assert {n: c for n, c in lines.items() if c > 400} == {}


def test_no_private_name_is_imported_from_another_module():
    private = [(name, module, imported) for name, path in MODULES.items()
               for module, imported in module_imports(name, path)
               if imported and imported.startswith("_") and not imported.startswith("__")]
    assert private == []


def test_engine_and_level_names_are_written_only_in_levels():
    literal = re.compile(r"""["'](optimized|legacy|high|medium|low|fallback)["']""")
    offenders = [f"{name}:{i}" for name, path in MODULES.items() if name != "planwise_core.levels"
                 for i, line in enumerate(path.read_text().splitlines(), 1) if literal.search(line)]
    assert offenders == []


def test_the_orchestrator_knows_only_the_engine_contract():
    """The run loop imports nothing from engine/ (not even inside a function) and never reads dbt's manifest:
    year tables, rollback and the engine's own relations come from the engine (engines.py)."""
    path = MODULES["planwise_core.orchestrator"]
    tree = ast.parse(path.read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module] + [
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert [m for m in imported if m.startswith(("planwise_core.engine.", "dbt")) or m == "planwise_core.engine"] == []
    assert "manifest" not in path.read_text()


def package_of(module: str) -> str:
    """A subpackage (``planwise_core.report``) stands for its modules; a root module stands for itself."""
    parts = module.split(".")
    is_package = (PACKAGE / parts[1]).is_dir() if len(parts) > 1 else False
    return ".".join(parts[:2]) if is_package else module


def all_imports(path: Path) -> set[str]:
    """Every planwise_core module imported anywhere in the file, inside functions too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planwise_core"):
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                      for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("planwise_core")}
    return {m for m in found if m in MODULES}


def test_no_import_cycle_between_packages():
    """Subpackages depend on each other one way only (outputs/ never reaches report/, and so on), counting the
    imports made inside functions too."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        source = package_of(name)
        graph.setdefault(source, set()).update(package_of(t) for t in all_imports(path) if package_of(t) != source)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"package import cycle: {' -> '.join(exc.args[1])}")


def test_no_test_module_imports_conftest():
    """Test helpers live in tests/helpers/; conftest.py holds pytest's hooks and fixtures only."""
    tests = Path(__file__).resolve().parent
    offenders = [p.name for p in tests.rglob("*.py") if p.name != "conftest.py" and any(
        (isinstance(n, ast.ImportFrom) and n.module == "conftest")
        or (isinstance(n, ast.Import) and any(a.name == "conftest" for a in n.names))
        for n in ast.walk(ast.parse(p.read_text())))]
    assert offenders == []
    assert sorted(p.name for p in tests.glob("*.py") if not p.name.startswith("test_")) == ["conftest.py"]
