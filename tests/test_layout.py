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
