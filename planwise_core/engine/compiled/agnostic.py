"""Year-agnostic compiles: which dbt vars a phase is compiled with, and which DuckDB variables a run sets instead.

The models read the simulation year through the ``sim_year()`` macro, the draws' seed and the foundation check's last
year the same way: compiled with the var ``year_agnostic: true`` they render ``getvariable(...)``, and the engine sets
those variables on its connection before each phase (DuckDB replaces ``getvariable`` by the value when it binds the
query, so plans and tables are those of the literal). Jinja may still tell the first simulated year from the later
ones, so a year phase is compiled twice at most: with ``simulation_year`` = ``start_year`` (the first year) and
``start_year + 1`` (the representative of every later year). A rate that varies by year (a mapping year -> rate, see
config.schema.to_dbt_vars) is resolved to the year's value first, so it only splits the later years' entries when the
rate really changes. See docs/compiled_engine.md.
"""

from __future__ import annotations

FIRST, LATER, RUN = "first", "later", "run"  # which years an entry serves: the first, every later one, the run
RUN_VARIABLES = ("random_seed", "end_year")  # dbt vars the year-agnostic SQL reads as DuckDB variables


def span(dbt_vars: dict, year: int | None) -> str:
    if year is None:
        return RUN
    return FIRST if year == dbt_vars["start_year"] else LATER


def compile_vars(dbt_vars: dict, year: int | None) -> dict:
    """The vars dbt compiles the phase of ``year`` (None: the foundation) with: everything but the run variables, the
    year-keyed rates resolved for ``year``, ``year_agnostic`` on and the representative ``simulation_year``."""
    years = {str(y) for y in range(dbt_vars["start_year"], dbt_vars["end_year"] + 1)}
    out = {name: value for name, value in dbt_vars.items() if name not in RUN_VARIABLES}
    if year is not None:
        out = {name: _for_year(value, years, year) for name, value in out.items()}
        out["simulation_year"] = dbt_vars["start_year"] + (0 if span(dbt_vars, year) == FIRST else 1)
    return dict(out, year_agnostic=True)


def _for_year(value, years: set[str], year: int):
    """A year-keyed rate (a mapping keyed by exactly the simulated years) -> the year's rate; anything else as is."""
    if isinstance(value, dict) and value and set(value) == years:
        return value[str(year)]
    return value


def run_variables(dbt_vars: dict, year: int | None) -> dict[str, int]:
    """The DuckDB variables the compiled SQL of the phase of ``year`` reads."""
    values = {name: int(dbt_vars[name]) for name in RUN_VARIABLES}
    return values if year is None else dict(values, simulation_year=int(year))


def set_variables(con, values: dict[str, int]) -> None:
    """SET VARIABLE each value on ``con`` (BIGINT for the seed's range, INTEGER for the years)."""
    for name, value in values.items():
        kind = "bigint" if name == "random_seed" else "integer"
        con.execute(f"set variable {name} = cast({int(value)} as {kind})")
