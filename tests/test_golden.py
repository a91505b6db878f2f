"""Golden digests: a fixed census, seed and configuration give exactly these tables.

The digests were taken before the package was restructured (issue 10) and must not change when code
only moves. A change of behaviour (a new rule, a new default) changes them on purpose: update the
constants in the same commit and say why in its message. tests/test_engines.py checks the legacy
engine against the same 2025 digests.
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
GOLDEN = {
    2025: {"fct_yearly_events": "68aeb038242cfbf0a2298b1e54db360f96ba2210b36a7a90b64d8065f8d0de7c",
           "fct_workforce_snapshot": "f1c18b9f8801f15157aeb69d83fe60227fda9c80f9a42215a4788cee47d52130"},
    2026: {"fct_yearly_events": "b9b0ca07c73eae0c950c5e816327d16aed38023b9e31dcc45fed2c8a0ac5ca57",
           "fct_workforce_snapshot": "3aa845a20ba126e39d5bb79418955812e36066c2f7bccca1ddee57484790faba"},
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
