"""Year-agnostic compiles: which dbt vars a phase is compiled with, and which DuckDB variables a run sets instead.

The models read the simulation year through the ``sim_year()`` macro, the first and last years, the census date and
the draws' seed the same way: compiled with the var ``year_agnostic: true`` they render ``getvariable(...)``, and the
engine sets those variables on its connection before each phase (DuckDB replaces ``getvariable`` by the value when it binds the
query, so plans and tables are those of the literal). Jinja may still tell the first simulated year from the later
ones, so a year phase is compiled twice at most: with ``simulation_year`` = ``start_year`` (the first year) and
``start_year + 1`` (the representative of every later year), ``start_year`` being a fixed stand-in (2000) so the
entries serve any start year. A rate that varies by year (a mapping year -> rate, see
config.schema.to_dbt_vars) is resolved to the year's value first, so it only splits the later years' entries when the
rate really changes. See docs/compiled_engine.md.
"""

from __future__ import annotations

FIRST, LATER, RUN = "first", "later", "run"  # which years an entry serves: the first, every later one, the run
# dbt vars the year-agnostic SQL reads as DuckDB variables, each with its DuckDB type
RUN_VARIABLES = {"random_seed": "bigint", "start_year": "integer", "end_year": "integer", "census_date": "date"}
CANONICAL_START = 2000  # the start_year every agnostic compile uses: Jinja only compares simulation_year with it


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
        out["simulation_year"] = CANONICAL_START + (0 if span(dbt_vars, year) == FIRST else 1)
    return dict(out, start_year=CANONICAL_START, year_agnostic=True)


def _for_year(value, years: set[str], year: int):
    """A year-keyed rate (a mapping keyed by exactly the simulated years) -> the year's rate; anything else as is."""
    if isinstance(value, dict) and value and set(value) == years:
        return value[str(year)]
    return value


def run_variables(dbt_vars: dict, year: int | None) -> dict[str, str]:
    """The DuckDB variables the compiled SQL of the phase of ``year`` reads, as SQL literals of their types."""
    values = {name: f"cast('{dbt_vars[name]}' as {kind})" for name, kind in RUN_VARIABLES.items()}
    return values if year is None else dict(values, simulation_year=f"cast({int(year)} as integer)")


def set_variables(con, values: dict[str, str]) -> None:
    """SET VARIABLE each of ``values`` (name -> SQL literal) on ``con``."""
    for name, literal in values.items():
        con.execute(f"set variable {name} = {literal}")
