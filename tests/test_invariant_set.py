"""The shared invariant set (helpers/invariants.py) can fail: each corruption of a copy of a good run is named.

Every run of the simulation registry passes this set before a test sees it (helpers.sims.SimRegistry.get); this
module shows the set is not vacuous, one broken rule at a time, on a copy of the shared 2-year run.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from helpers.invariants import invariant_problems
from helpers.sims import BASELINE_2Y

pytestmark = pytest.mark.slow

CORRUPTIONS = {
    "one snapshot row per employee-year": "insert into fct_workforce_snapshot select * from fct_workforce_snapshot "
                                          "where employee_id = (select min(employee_id) from fct_workforce_snapshot) "
                                          "and simulation_year = 2025",
    "events without a snapshot row": "update fct_yearly_events set employee_id = 'GHOST' "
                                     "where event_id = (select min(event_id) from fct_yearly_events)",
    "age and tenure are completed years on Dec 31": "update fct_workforce_snapshot set current_age = current_age + 1 "
                                                   "where employee_id = (select min(employee_id) from "
                                                   "fct_workforce_snapshot)",
    "status codes follow the dates": "update fct_workforce_snapshot set employment_status = 'terminated' "
                                     "where employee_id = (select min(employee_id) from fct_workforce_snapshot "
                                     "where termination_date is null)",
    "enrolled implies eligible": "update fct_workforce_snapshot set is_eligible = false "
                                 "where employee_id = (select min(employee_id) from fct_workforce_snapshot "
                                 "where is_enrolled)",
    "deferral <= requested and <= 402(g) + catch-up limit": "update fct_dc_contributions set employee_deferral = "
                                                            "requested_deferral + 1, pre_tax_deferral = "
                                                            "pre_tax_deferral + requested_deferral + 1 - employee_deferral"
                                                            " where employee_id = (select min(employee_id) from "
                                                            "fct_dc_contributions where requested_deferral > 0)",
    "pre-tax + Roth = deferral; Roth only when offered": "update fct_dc_contributions set roth_deferral = 0.01 "
                                                         "where employee_id = (select min(employee_id) from "
                                                         "fct_dc_contributions)",
    "actives neither vest out nor forfeit; leavers take or forfeit everything":
        "update fct_dc_contributions set forfeited_amount = 1, match_balance_eoy = match_balance_eoy - 1 "
        "where employee_id = (select min(employee_id) from fct_dc_contributions c join fct_workforce_snapshot s "
        "using (employee_id, simulation_year) where s.termination_date is null and c.match_balance_eoy > 1)",
}


@pytest.fixture(scope="module")
def good(sims, tmp_path_factory):
    run = sims.get(BASELINE_2Y)  # already checked by the registry: no problem on the original
    return run.database, tmp_path_factory.mktemp("corrupt")


@pytest.mark.parametrize("rule", list(CORRUPTIONS))
def test_each_corruption_is_reported_by_name(good, rule):
    source, folder = good
    database = folder / f"{abs(hash(rule))}.duckdb"
    shutil.copyfile(source, database)
    with duckdb.connect(str(database)) as con:
        con.execute(CORRUPTIONS[rule])
        problems = invariant_problems(con, BASELINE_2Y.years, BASELINE_2Y.config())
    assert rule in problems, problems
