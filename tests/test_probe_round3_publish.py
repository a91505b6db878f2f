"""Issue 28, N14: until the final rename, a finished build stays resumable (docs/outputs.md).

A write failure at the rename (a full disk, injected as the rename's OSError) is one PlanwiseError saying the
earlier results were kept and to run again with --resume; the database keeps the earlier run's results, and
``--resume`` then publishes the finished build (its years are not simulated again).
"""

from __future__ import annotations

import errno

import duckdb
import pytest

from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.database import workspace
from planwise_core.errors import PlanwiseError
from planwise_core.orchestrator import Simulation

pytestmark = pytest.mark.slow


def _config(seed: int) -> PlanwiseConfig:
    return PlanwiseConfig().with_overrides(**{"simulation.start_year": 2025, "simulation.end_year": 2025,
                                             "random_seed": seed})


def _runs(database) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select status, config_json like '%\"random_seed\": 9%' from planwise_run_log "
                           "order by started_at").fetchall()


def test_a_failed_publish_keeps_the_results_and_resume_publishes_the_build(tmp_path, monkeypatch):
    census = generate_census(150, 3, tmp_path / "census.csv")
    database = tmp_path / "t.duckdb"
    assert Simulation(_config(42), database, census=census).run()["success"]
    with duckdb.connect(str(database), read_only=True) as con:
        before = con.execute("select count(*), sum(hash(employee_id, current_compensation)) "
                             "from fct_workforce_snapshot").fetchone()
    real_replace = workspace.os.replace

    def disk_full(src, dst):
        if str(dst) == str(database):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(workspace.os, "replace", disk_full)
    with pytest.raises(PlanwiseError, match="Could not publish the results into .*No space left on device.*"
                                            "earlier results.*resume"):
        Simulation(_config(9), database, census=census).run()
    monkeypatch.setattr(workspace.os, "replace", real_replace)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*), sum(hash(employee_id, current_compensation)) "
                           "from fct_workforce_snapshot").fetchone() == before

    result = Simulation(_config(9), database, census=census).run(resume=True)
    assert result["success"], result.get("error")
    assert _runs(database)[-1] == ("completed", True)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from information_schema.tables "
                           "where table_name = 'planwise_build'").fetchone()[0] == 0
        assert con.execute("select sum(hash(employee_id, current_compensation)) "
                           "from fct_workforce_snapshot").fetchone()[0] != before[1]


def test_a_data_error_is_neither_retried_nor_fallen_back(tmp_path):
    # N8: a deterministic data error (DuckDB's "Conversion Error:") fails the year at once.
    from helpers.cli import copy_dist, planwise

    census = generate_census(60, 3, tmp_path / "census.csv")
    site = copy_dist("faulty", tmp_path)
    proc = planwise("run", "--census", census, "--years", "2025", "--database", tmp_path / "t.duckdb", cwd=tmp_path,
                    site=site, PLANWISE_FAULT_YEAR="2025:data")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "Conversion Error: injected" in proc.stderr
    assert proc.stderr.count("year 2025 failed at level") == 1, proc.stderr
