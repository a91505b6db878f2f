"""Issue 28, N1: the job levels are the table's data (docs/assumptions.md, "Levels follow the table").

A replaced job-level table of 3, 4 or 7 levels (the 7 with non-consecutive ids) runs two years on a small census
whose levels come from the salary bands; the built-in five levels use the shared baseline run. In each run every
level held is a level of the table, promotions go to the table's next level, every level below the top promotes,
the top level never does, and people in the top level still get raises and can leave (the registry also checks
the whole invariant set, which holds the same two level rules).
"""

from __future__ import annotations

from datetime import date

import pytest

from helpers.sims import BASELINE_2Y, CensusSpec, SimSpec
from helpers.sql import rows

TOP_SALARY = 700_000


def _census() -> CensusSpec:
    """240 people, tenure 3-12 years, salaries spread from 30,000 to 690,000; no level (derived from salary)."""
    people = []
    for i in range(240):
        birth = date(1965 + i % 30, 1 + i % 12, 1 + i % 28)
        hire = date(2012 + i % 10, 1 + (i * 5) % 12, 1 + (i * 3) % 28)
        salary = 30_000 + (i * 2_750) % 660_000
        people.append((f"L{i:04d}", birth.isoformat(), hire.isoformat(), "", f"{salary}.00", "0.05", ""))
    return CensusSpec.literal("levels240", people)


def _job_levels(ids: list[int]) -> list[dict]:
    """Contiguous salary bands over [0, TOP_SALARY) and up, one per id; promotions frequent enough to see."""
    width = TOP_SALARY // len(ids)
    rows_, share = [], [round(1 / len(ids), 6)] * len(ids)
    share[0] = round(1 - sum(share[1:]), 6)
    for n, level in enumerate(ids):
        low = n * width
        high = None if n == len(ids) - 1 else (n + 1) * width
        rows_.append({"level_id": level, "level_name": f"L{level}", "min_salary": low, "max_salary": high,
                      "merit_rate": 0.03, "new_hire_share": share[n], "hire_min_salary": low,
                      "hire_max_salary": high or low + width, "termination_multiplier": 1.0,
                      "promotion_multiplier": 8.0})
    return rows_


TABLES = {"three": [1, 2, 3], "four": [1, 2, 3, 4], "seven_gaps": [1, 2, 3, 10, 20, 30, 99]}
SPECS = {name: SimSpec.make(_census(), end_year=2026, assumptions={"job_levels": _job_levels(ids)})
         for name, ids in TABLES.items()}


@pytest.fixture(scope="module", autouse=True)
def _prefetch(sims):
    sims.prefetch(SPECS.values())


def _check_levels(con, ids: list[int]) -> None:
    held = {r[0] for r in rows(con, "select distinct level_id from fct_workforce_snapshot")}
    assert held <= set(ids), f"levels held that the table lacks: {held - set(ids)}"
    moves = {(a, b) for a, b in rows(con, """select distinct from_level, to_level from fct_yearly_events
                                             where event_type = 'promotion'""")}
    expected = set(zip(ids, ids[1:]))
    assert moves == expected, f"promotions {sorted(moves)}, the table's steps {sorted(expected)}"
    top = ids[-1]
    raised = rows(con, f"""select count(*) from fct_yearly_events e join fct_workforce_snapshot s
                            using (employee_id, simulation_year)
                          where e.event_type = 'raise' and s.level_id = {top} and e.simulation_year = 2026""")
    assert raised[0][0] > 0, "nobody in the top level got a raise in the second year"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TABLES))
def test_replaced_job_levels_are_followed(sims, name):
    run = sims.get(SPECS[name])
    assert run.result["success"], run.result.get("error")
    with run.connect() as con:
        _check_levels(con, TABLES[name])
        top = TABLES[name][-1]
        leavers = rows(con, f"""select count(*) from fct_workforce_snapshot
                               where level_id = {top} and employment_status = 'terminated'""")
        assert leavers[0][0] > 0, "nobody ever leaves the top level"


@pytest.mark.slow
def test_builtin_five_levels_promote_from_every_level_but_the_top(sims):
    run = sims.get(BASELINE_2Y)
    with run.connect() as con:
        _check_levels(con, [1, 2, 3, 4, 5])
