"""One foundation database per (census, foundation inputs), copied for every run that only changes the years.

The foundation (seeds, staging models, the baseline workforce and the IRS limits by year) reads only some of the
configuration. :func:`foundation_key` names exactly the dbt vars its SQL reads - found in the foundation models
(staging/, intermediate/foundation/) and in the macros they call - so two configurations that differ only in
year-level keys (rates, enrollment, compensation...) share one foundation. :func:`run_on_foundation` copies it
and runs the years through the optimized engine's hooks, as ``Simulation.run`` would after its foundation.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import planwise_core

PROJECT = Path(planwise_core.__file__).parent / "dbt_project"
FOUNDATION_MODELS = ("models/staging", "models/intermediate/foundation")
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\((.*?){%-?\s*endmacro\s*-?%}", re.S)
CALL = re.compile(r"\b(\w+)\s*\(")
VAR = re.compile(r"var\(\s*'(\w+)'\s*([~)])?")


@functools.lru_cache(maxsize=1)
def foundation_vars() -> tuple[frozenset[str], tuple[str, ...]]:
    """(var names, var-name prefixes built at run time) the foundation's SQL can read."""
    macros = {name: body for path in (PROJECT / "macros").rglob("*.sql")
              for name, body in MACRO.findall(path.read_text())}
    todo = [p.read_text() for folder in FOUNDATION_MODELS for p in (PROJECT / folder).glob("*.sql")]
    seen: set[str] = set()
    names, prefixes = set(), set()
    while todo:
        text = todo.pop()
        for name, follower in VAR.findall(text):
            (prefixes if follower == "~" else names).add(name)
        for called in set(CALL.findall(text)) & set(macros) - seen:
            seen.add(called)
            todo.append(macros[called])
    return frozenset(names), tuple(sorted(prefixes))


def foundation_key(census_key: str, config) -> str:
    names, prefixes = foundation_vars()
    dbt_vars = config.to_dbt_vars()
    used = {k: v for k, v in dbt_vars.items() if k in names or k.startswith(prefixes)}
    # The census as loaded depends on these too (census.*: validation, dropped rows, mapping, formats; census date).
    used["__census"] = (census_key, config.to_dict()["census"], str(config.simulation.effective_census_date),
                        config.simulation.start_year)
    return hashlib.sha256(json.dumps(used, sort_keys=True, default=str).encode()).hexdigest()[:12]


def build_foundation(database: Path, census: Path, config) -> None:
    """The foundation by the optimized engine, which runs the years on it (the compiled engine, the default,
    would first compile every phase of the configuration's run, and each case has its own configuration)."""
    from planwise_core.orchestrator import Simulation

    Simulation(config, database, census=census, plugin="optimized").foundation_only()


def run_on_foundation(foundation: Path, database: Path, config, years: list[int]) -> dict:
    """The years on a copy of ``foundation``; a result dict shaped like Simulation.run's (the parts tests read)."""
    from planwise_core.context import RunContext
    from planwise_core.hooks import Hooks
    from planwise_core.manager import get_plugin_manager

    started = time.perf_counter()
    # Built under the file's own name (in a folder beside it), so its catalog is the registry runs': dbt's parsed
    # project is kept per catalog (the file's stem) and a "<name>.tmp" file would need a parse of its own.
    partial = database.parent / ".partial" / database.name
    partial.parent.mkdir(exist_ok=True)
    shutil.copyfile(foundation, partial)
    ctx = RunContext(config=config, database=partial, run_id=database.parent.name)
    hooks = Hooks(get_plugin_manager(), "optimized")
    done: list[int] = []
    try:
        for year in years:
            if done:
                hooks.transition_year(ctx, year - 1, year)
            hooks.process_year(ctx, year)
            done.append(year)
    except Exception as exc:  # noqa: BLE001 - reported like a failed run
        return {"success": False, "completed_years": done, "failed_years": [year], "error": str(exc),
                "summary": None, "total_execution_time": time.perf_counter() - started}
    partial.replace(database)
    return {"success": True, "completed_years": done, "failed_years": [], "error": None, "summary": None,
            "total_execution_time": time.perf_counter() - started}
