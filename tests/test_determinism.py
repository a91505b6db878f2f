"""Same seed -> identical tables (two separate databases); another seed -> other selections, same counts.

The two-year 1,000-employee runs are the ones test_config_effects uses as its baseline and its
random_seed case, so in a full session only the replica costs a run.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from helpers.sims import BASELINE_2Y as BASELINE
from helpers.sims import OTHER_SEED_2Y as OTHER_SEED
from helpers.sql import rows, scalar

REPLICA = dataclasses.replace(BASELINE, replica=1)
TABLES = {
    "fct_yearly_events": "employee_id, simulation_year, event_sequence",
    "fct_workforce_snapshot": "employee_id, simulation_year",
    "int_workforce_requirements": "simulation_year",
    "fct_dc_contributions": "employee_id, simulation_year",  # the money tables of the default plan (match on)
    "fct_dc_plan_summary": "simulation_year",
}
YEARS = [2025, 2026]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(sims):
    sims.prefetch([BASELINE, REPLICA, OTHER_SEED])
    out = {name: sims.get(spec) for name, spec in (("first", BASELINE), ("second", REPLICA), ("other", OTHER_SEED))}
    for run in out.values():
        assert run.result["success"] and run.result["completed_years"] == YEARS, run.result
    assert len({run.database for run in out.values()}) == 3
    cons = {name: run.connect() for name, run in out.items()}
    yield cons
    for con in cons.values():
        con.close()


def dump(con, table: str) -> list[tuple]:
    """Every row, every column, in a total order (columns in table order)."""
    found = rows(con, f"select * from {table} order by {TABLES[table]}")
    assert found, table
    return found


def digest(table_rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for row in table_rows:
        h.update(("|".join("\\N" if v is None else str(v) for v in row) + "\n").encode())
    return h.hexdigest()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_same_seed_gives_identical_tables(runs, table):
    first, second = dump(runs["first"], table), dump(runs["second"], table)
    assert len(first) == len(second)
    columns = [r[0] for r in rows(runs["first"], f"select column_name from (describe {table})")]
    assert columns == [r[0] for r in rows(runs["second"], f"select column_name from (describe {table})")]
    differing = [(a, b) for a, b in zip(first, second) if a != b]
    assert differing[:3] == [] and len(differing) == 0
    assert digest(first) == digest(second)


def test_same_seed_every_year_written(runs):
    for name in ("first", "second", "other"):
        years = [r[0] for r in rows(runs[name], "select distinct simulation_year from fct_yearly_events order by 1")]
        assert years == YEARS, name


def test_other_seed_changes_selections_not_counts(runs):
    first, other = runs["first"], runs["other"]
    req_cols = ("simulation_year, start_headcount, target_end_headcount, experienced_terminations, "
                "additional_terminations, total_experienced_terminations, total_hires, new_hire_terminations")
    req = f"select {req_cols} from int_workforce_requirements order by 1"
    assert rows(first, req) == rows(other, req)
    # who retires is a draw too, so only the experienced total (retirements included) is fixed
    count_sql = """select simulation_year, replace(event_category, 'retirement', 'experienced_termination'), count(*)
                   from fct_yearly_events where event_type in ('hire', 'termination') group by all order by all"""
    assert rows(first, count_sql) == rows(other, count_sql)
    retirees = "select employee_id from fct_yearly_events where event_category = 'retirement' order by 1"
    assert rows(first, retirees) != rows(other, retirees)
    for year in YEARS:
        sql = f"""select employee_id from fct_yearly_events where simulation_year = {year}
                  and event_category in ('experienced_termination', 'retirement') order by 1"""
        a, b = {r[0] for r in rows(first, sql)}, {r[0] for r in rows(other, sql)}
        assert len(a) == len(b) > 50
        assert a != b and len(a & b) < 0.6 * len(a), year
    # other draws move too: hire dates and salaries, promotions, raise dates
    for sql in ("select employee_id, effective_date, compensation_amount from fct_yearly_events where event_type = 'hire' order by 1",
                "select employee_id from fct_yearly_events where event_type = 'promotion' order by 1",
                "select employee_id, effective_date from fct_yearly_events where event_type = 'raise' order by 1"):
        assert rows(first, sql) != rows(other, sql)
    assert digest(dump(first, "fct_yearly_events")) != digest(dump(other, "fct_yearly_events"))


def test_census_and_baseline_do_not_depend_on_the_seed(runs):
    sql = "select * from int_baseline_workforce order by employee_id"
    assert rows(runs["first"], sql) == rows(runs["other"], sql)
    assert scalar(runs["first"], "select count(*) from int_baseline_workforce") > 900
