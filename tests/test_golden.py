"""Golden digests: a fixed census, seed and configuration give exactly these tables.

The digests were taken before the package was restructured (issue 10) and must not change when code
only moves. A change of behaviour (a new rule, a new default) changes them on purpose: update the
constants in the same commit and say why in its message. tests/test_engines.py checks the legacy
engine against the same 2025 digests.
"""

from __future__ import annotations

import pytest

from conftest import table_digest

from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation

pytestmark = pytest.mark.slow

GOLDEN_CENSUS = (250, 5)  # employees, generator seed; written as census.csv
GOLDEN = {
    2025: {"fct_yearly_events": "7fc9c7c096f0869081c83da7221a486676c8fdbc2bb0eaad15d80804cd96b162",
           "fct_workforce_snapshot": "42916b59c066378d765117e4dc6ddbe66ecfb42e05e9ebd3eddd3eea34caa719"},
    2026: {"fct_yearly_events": "aa9a19d81c5789b10cd2120a737b1093f2692d38f9a6c8b0e39cfd6fc0d0cc3c",
           "fct_workforce_snapshot": "4542366bb2ef6604a209bfa2ce67327077ade423ba4d081e02bde5e531a74464"},
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
