"""Checkpoints, --resume after SIGKILL, and the one-writer-per-database lock — with real processes."""

from __future__ import annotations

import json
import signal
import time

import duckdb
import pytest

from helpers.cli import copy_dist, planwise, start
from planwise_core.census import generate_census
from planwise_core.database.checkpoints import StateManager
from planwise_core.outputs.compare import all_identical
from helpers.common import compare_outputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    return generate_census(700, 21, tmp_path_factory.mktemp("resume") / "census.parquet")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The fault-injection distribution (tests/plugins/faulty), found through its entry point."""
    return copy_dist("faulty", tmp_path_factory.mktemp("site"))


def _run_args(census, database, *extra):
    return ["--structured-logs", "run", "--census", census, "--database", database,
            "--start-year", "2025", "--end-year", "2027", *extra]


def _wait_for_year(proc, year: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        if time.monotonic() > deadline:
            break
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "year_completed" and record.get("year") == year:
                return
    raise AssertionError(f"year {year} never completed")


def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path, census, site):
    reference = tmp_path / "reference.duckdb"
    done = planwise(*_run_args(census, reference), site=site)
    assert done.returncode == 0, done.stderr

    # The kill lands on entering process_year(2027) (the fault plugin, through its entry point): 2025 and 2026
    # are complete, 2027 has not started. It cannot land too late, so the lists below are exact.
    killed = tmp_path / "killed.duckdb"
    proc = planwise(*_run_args(census, killed, "--enable-compression"), site=site, PLANWISE_FAULT_YEAR="2027:kill")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    completed = [json.loads(line)["year"] for line in proc.stderr.splitlines()
                 if line.startswith("{") and json.loads(line).get("event") == "year_completed"]
    assert completed == [2025, 2026]
    assert StateManager.for_database(killed).completed_years() == [2025, 2026]

    resumed = planwise(*_run_args(census, killed, "--enable-compression", "--resume", "--json"), site=site)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["resumed_years"] == [2025, 2026]
    assert result["completed_years"] == [2025, 2026, 2027]
    assert all_identical(compare_outputs(reference, killed))


def test_second_run_on_the_same_database_is_refused(tmp_path, census):
    database = tmp_path / "busy.duckdb"
    first = start(*_run_args(census, database))
    try:
        _wait_for_year(first, 2025)
        second = planwise(*_run_args(census, database))
        assert second.returncode == 1
        assert "in use by another planwise run" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    con = duckdb.connect(str(database), read_only=True)
    counts = con.execute("select simulation_year, count(*) from fct_workforce_snapshot group by 1 order by 1").fetchall()
    con.close()
    assert [y for y, _ in counts] == [2025, 2026, 2027]


def test_resume_refuses_a_changed_configuration(tmp_path, census):
    database = tmp_path / "changed.duckdb"
    assert planwise(*_run_args(census, database)).returncode == 0
    changed = planwise(*_run_args(census, database, "--seed", "99", "--resume"))
    assert changed.returncode == 1
    assert "configuration differs" in changed.stderr


def test_checkpoint_compression_and_cache(tmp_path):
    con = duckdb.connect()
    con.execute("create table fct_workforce_snapshot as select 2025 as simulation_year, 'E' || lpad(i::varchar, 6, '0') "
                "as employee_id, 'active' as employment_status, 50000.00 + (i % 7) as pay from range(5000) t(i)")
    plain = StateManager(tmp_path / "plain", enable_compression=False, batch_size=1000)
    packed = StateManager(tmp_path / "packed", enable_compression=True, batch_size=1000)
    plain.checkpoint(con, 2025)
    packed.checkpoint(con, 2025)
    assert packed.get_performance_metrics()["compression_ratio"] > 2
    assert packed.get_performance_metrics()["compression_savings_bytes"] > 0
    assert plain.get_performance_metrics()["compression_ratio"] == 1.0
    assert packed.load(2025).equals(plain.load(2025))
    packed.load(2025)
    assert packed.get_performance_metrics()["hit_rate"] == 0.5
    reader = __import__("pyarrow").ipc.open_stream((tmp_path / "plain" / "year_2025.arrow").read_bytes())
    assert sum(1 for _ in reader) == 5  # batch_size rows per record batch
    assert packed.matches_database(con, 2025)
    con.execute("update fct_workforce_snapshot set pay = pay + 1 where employee_id = 'E000001'")
    assert not packed.matches_database(con, 2025)
