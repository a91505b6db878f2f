"""A year that fails everywhere: the run returns a failed result (never an exception) and leaves no partial rows."""

from __future__ import annotations

import duckdb
import pytest

from planwise_core import hookimpl
from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation
from planwise_core.manager import get_plugin_manager

pytestmark = pytest.mark.slow


class AlwaysFails:
    @hookimpl(tryfirst=True)
    def process_year(self, ctx, year):
        raise RuntimeError(f"injected failure in {year}")


def test_first_year_failing_returns_a_failed_result(tmp_path):
    census = generate_census(120, 4, tmp_path / "census.csv")
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026, "orchestration.fail_fast": True})
    pm = get_plugin_manager()
    pm.register(AlwaysFails(), name="always_fails")
    result = Simulation(config, tmp_path / "sim.duckdb", census=census, pm=pm).run()
    assert result["success"] is False
    assert result["failed_years"] == [2025, 2026]
    assert result["completed_years"] == []
    assert "injected failure in 2025" in result["error"]
    assert result["summary"] == []
    con = duckdb.connect(str(tmp_path / "sim.duckdb"), read_only=True)
    status = con.execute("select status from planwise_run_log").fetchall()
    con.close()
    assert status == [("failed",)]
