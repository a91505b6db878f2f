"""Golden digests: a fixed census, seed and configuration give exactly these tables.

The digests were taken before the package was restructured (issue 10) and must not change when code
only moves. A change of behaviour (a new rule, a new default) changes them on purpose: update the
constants in the same commit and say why in its message. tests/test_engines.py checks that the legacy engine
and the per-model level write the optimized engine's tables, row for row.
"""

from __future__ import annotations

import pytest

from helpers.invariants import invariant_problems
from helpers.sql import table_digest

from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation

pytestmark = pytest.mark.slow

GOLDEN_CENSUS = (250, 5)  # employees, generator seed; written as census.csv
# Issue 24 changed them on purpose: the match response (docs/plan_money.md, R2a) is on by default and moves census
# participants' elections in 2025, and fct_yearly_events gained the column previous_deferral_rate.
GOLDEN = {
    2025: {"fct_yearly_events": "7c8514815a26d0383ed60cfbbea956473497eaa957886e2781510daa1e401b69",
           "fct_workforce_snapshot": "a068d859c0343dd2c3dc9508576bda3ad6d68f5f2f67d9fc5e960b35e9c9d8b7"},
    2026: {"fct_yearly_events": "627ab85f3216cd4dde1d4b93038a505da3c0b63a664222be78dc505e812bdd4a",
           "fct_workforce_snapshot": "bb03b7893e42df2b00c65b909a311f335722e306bf2f174883f887126bf12cd3"},
}
# The digests before the match response existed: a run with plan.match_response.enabled false must still give them
# (the events without the new column, which such a run leaves null).
WITHOUT_MATCH_RESPONSE = {
    "fct_yearly_events": "b9b0ca07c73eae0c950c5e816327d16aed38023b9e31dcc45fed2c8a0ac5ca57",
    "fct_workforce_snapshot": "3aa845a20ba126e39d5bb79418955812e36066c2f7bccca1ddee57484790faba",
}


def golden_census(folder):
    return generate_census(*GOLDEN_CENSUS, folder / "census.csv")


def test_optimized_engine_reproduces_the_golden_tables_over_two_years(tmp_path):
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026})
    database = tmp_path / "golden.duckdb"
    result = Simulation(config, database, census=golden_census(tmp_path), plugin="optimized").run()
    assert result["success"], result["error"]
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        assert {t: table_digest(con, t) for t in GOLDEN[2026]} == GOLDEN[2026]
        assert invariant_problems(con, [2025, 2026], config) == {}  # the shared set, on the golden census too


def test_match_response_off_gives_the_tables_of_a_run_without_the_rule(tmp_path):
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026, "plan.match_response.enabled": False})
    database = tmp_path / "off.duckdb"
    result = Simulation(config, database, census=golden_census(tmp_path), plugin="optimized").run()
    assert result["success"], result["error"]
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from fct_yearly_events where previous_deferral_rate is not null "
                           "or event_type = 'deferral_match_response'").fetchone()[0] == 0
        assert {"fct_yearly_events": table_digest(con, "fct_yearly_events", ("previous_deferral_rate",)),
                "fct_workforce_snapshot": table_digest(con, "fct_workforce_snapshot")} == WITHOUT_MATCH_RESPONSE
