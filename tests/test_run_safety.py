"""A run never costs earlier results and never splices runs: real `planwise` processes, a fault-injection plugin
installed through a real entry point (tests/plugins/faulty), real DuckDB files.

The module builds one reference database (2025-2027) with the CLI; each test works on a copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from helpers.sql import table_digest
from helpers.cli import FIXTURE_DISTS, PLANWISE, planwise
from helpers.common import file_sha256 as sha

pytestmark = pytest.mark.slow
TABLES = ("fct_yearly_events", "fct_workforce_snapshot")
YEARS = ("--start-year", "2025", "--end-year", "2027")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The fault-injection distribution, installed as a folder on PYTHONPATH (found through its entry point)."""
    folder = tmp_path_factory.mktemp("site") / "site-faulty"
    shutil.copytree(FIXTURE_DISTS / "faulty", folder)
    return folder


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    from planwise_core.census import generate_census

    folder = tmp_path_factory.mktemp("census")
    return generate_census(150, 11, folder / "census.csv"), generate_census(160, 12, folder / "other.csv")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, census, site):
    """A database holding 2025-2027 of one completed run (the faulty plugin installed, injecting nothing)."""
    database = tmp_path_factory.mktemp("reference") / "o'brien plan.duckdb"  # a quote and a space in the name
    proc = planwise("run", "--census", census[0], "--database", database, *YEARS, "--json-out",
                    database.with_name("result.json"), site=site)
    assert proc.returncode == 0, proc.stderr
    return database


def copy_of(reference: Path, folder: Path, name: str = "results.duckdb") -> Path:
    target = folder / name
    shutil.copyfile(reference, target)
    return target


def digests(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: table_digest(con, t) for t in TABLES}


def run_log(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select run_id, status, error from planwise_run_log order by started_at").fetchall()


# --------------------------------------------------------------------------- 11.1 a failed run keeps results


@pytest.mark.parametrize("engine", ["compiled", "legacy"])
def test_a_failed_run_leaves_the_previous_results_and_records_the_failure(tmp_path, reference, census, site, engine):
    """compiled (the default engine) fails in its second year (2026); legacy, slow (a dbt process per model), as
    early as it can: in its first year (2025), after its foundation was built by dbt subprocesses in the build
    database."""
    database = copy_of(reference, tmp_path)
    before, first_run = digests(database), run_log(database)[-1][0]
    summary_before = planwise("summary", "--database", database, "--json").stdout if engine == "compiled" else None
    end = "2027" if engine == "compiled" else "2025"
    fault = "2026" if engine == "compiled" else "2025"
    failed = planwise("--plugin", engine, "run", "--census", census[1], "--database", database, "--start-year",
                      "2025", "--end-year", end, "--seed", "5", "--fail-fast", "--json-out", tmp_path / "r.json",
                      site=site, PLANWISE_FAULT_YEAR=fault)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    assert f"injected fault in {fault}" in failed.stderr and "previous results are unchanged" in failed.stderr
    # What it prints is the attempt, said to be unpublished, never presented as the database's results.
    assert failed.stdout.startswith("The failed attempt's completed years (not published") and (
        f"-> nothing published to {database}") in failed.stdout
    assert digests(database) == before
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["success"] is False and result["failed_years"][0] == int(fault)
    log = run_log(database)
    assert log[-2][:2] == (first_run, "completed")
    assert log[-1][1] == "failed" and f"injected fault in {fault}" in log[-1][2]
    assert not [r for r in log if r[1] == "running"]
    if engine == "legacy":  # what legacy adds: its dbt processes wrote only the build; the readers need no 2nd case
        return
    # Every reader shows the earlier, complete run.
    assert planwise("summary", "--database", database, "--json").stdout == summary_before
    report = planwise("report", "--database", database, "--out", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert report.returncode == 0 and f"<dt>run</dt><dd>{first_run}</dd>" in page  # the run behind the results
    export = planwise("export", "--database", database, "--format", "csv", "--out", tmp_path / "export")
    assert export.returncode == 0, export.stderr
    with duckdb.connect() as con:
        years = con.execute(f"select distinct simulation_year from '{tmp_path / 'export' / 'snapshot.csv'}' "
                            "order by 1").fetchall()
    assert years == [(2025,), (2026,), (2027,)]


def test_resume_continues_the_failed_build_and_then_replaces_the_results(tmp_path, reference, census, site):
    database = copy_of(reference, tmp_path)
    failed = planwise("run", "--census", census[0], "--database", database, *YEARS, "--fail-fast", site=site,
                      PLANWISE_FAULT_YEAR="2027")
    assert failed.returncode == 1
    # A damaged checkpoint is not fatal: that year is simulated again.
    (database.parent / f".{database.name}.build" / "state" / "year_2026.arrow").write_bytes(b"garbage")
    resumed = planwise("run", "--census", census[0], "--database", database, *YEARS, "--resume", "--json",
                       site=site)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["resumed_years"] == [2025] and result["completed_years"] == [2025, 2026, 2027]
    assert result["simulation_id"] == run_log(database)[-1][0]
    assert run_log(database)[-1][1] == "completed"
    assert digests(database) == digests(reference)  # same inputs, same tables


# --------------------------------------------------------------------------- 12 resume after a failed setup


@pytest.mark.parametrize("fault", ["1", "kill"])
def test_resume_after_a_failed_setup_continues_that_run_with_its_own_census(tmp_path, reference, census, site,
                                                                             fault):
    database = copy_of(reference, tmp_path)
    before = digests(database)
    setup = planwise("run", "--census", census[1], "--database", database, "--start-year", "2025", "--end-year",
                     "2025", site=site, PLANWISE_FAULT_SETUP=fault)
    if fault == "kill":
        assert setup.returncode == -signal.SIGKILL and run_log(database)[-1][1] == "running"
    else:
        assert setup.returncode == 1 and "injected fault in foundation_setup" in setup.stderr
        assert run_log(database)[-1][1] == "failed"
    assert digests(database) == before
    failed_run = run_log(database)[-1][0]

    other = planwise("run", "--census", census[0], "--database", database, "--start-year", "2025", "--end-year",
                     "2025", "--resume", site=site)
    assert other.returncode == 1 and "Cannot resume with --census" in other.stderr, other.stderr
    assert "Traceback" not in other.stderr and digests(database) == before

    resumed = planwise("run", "--database", database, "--start-year", "2025", "--end-year", "2025", "--resume",
                       "--json", site=site)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["simulation_id"] == failed_run
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from raw.census").fetchone()[0] == 160  # the run's own census
        assert con.execute("select census_path, status from planwise_run_log where run_id = ?",
                           [failed_run]).fetchone() == (str(census[1]), "completed")
    assert not [r for r in run_log(database) if r[1] == "running"]


# --------------------------------------------------------------------------- 11.2 partial re-runs


def test_a_later_start_year_continues_the_projection_when_the_inputs_match(tmp_path, reference, census, site):
    database = copy_of(reference, tmp_path)
    proc = planwise("run", "--census", census[0], "--database", database, "--start-year", "2027", "--end-year",
                    "2027", "--json", site=site)
    assert proc.returncode == 0, proc.stderr
    assert "Continued run" in proc.stderr and "2026 snapshot" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["continued_from"]["year"] == 2026 and result["resumed_years"] == [2025, 2026]
    assert digests(database) == digests(reference)  # continuing from 2026 reproduces 2027 exactly
    assert planwise("summary", "--database", database).returncode == 0


@pytest.mark.parametrize("change, fragment", [
    (("--seed", "9"), "random_seed"),
    (("--census", "OTHER"), "another census"),
])
def test_a_later_start_year_with_other_inputs_is_refused(tmp_path, reference, census, site, change, fragment):
    database = copy_of(reference, tmp_path)
    before = sha(database)
    args = ["--census", census[0], *change] if change[0] != "--census" else ["--census", census[1]]
    proc = planwise("run", *args, "--database", database, "--start-year", "2027", "--end-year", "2027", site=site)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert fragment in proc.stderr and "--start-year 2025" in proc.stderr and "another --database" in proc.stderr
    assert sha(database) == before


def test_readers_refuse_a_database_whose_years_come_from_different_runs(tmp_path, reference):
    database = copy_of(reference, tmp_path)
    with duckdb.connect(str(database)) as con:  # splice: 2027 claims to come from a run with another seed
        run_id, config = con.execute("select run_id, config_json from planwise_run_log").fetchone()
        other = json.loads(config) | {"random_seed": 7}
        con.execute("insert into planwise_run_log by name select 'spliced' as run_id, * exclude (run_id, "
                    "config_json), ? as config_json from planwise_run_log", [json.dumps(other)])
        con.execute("update planwise_year_log set run_id = 'spliced' where simulation_year = 2027")
    for args in (("summary",), ("report", "--out", tmp_path / "r.html"), ("export", "--out", tmp_path / "x")):
        proc = planwise(*args, "--database", database)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "mixes results of different runs" in proc.stderr and "random_seed" in proc.stderr


# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize(("sig", "named"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_one_ctrl_c_or_sigterm_stops_the_run_cleanly_and_it_resumes(tmp_path, reference, census, site, sig, named):
    """Ctrl-C, or SIGTERM (a service manager, a web server cancelling its worker), records the run interrupted,
    never failed nor left running; the results already published are untouched and --resume finishes it."""
    database = copy_of(reference, tmp_path)
    before = digests(database)
    probe = tmp_path / "probe.log"
    shutil.copytree(FIXTURE_DISTS / "probe", tmp_path / "site-probe")
    env = dict(os.environ, PYTHONPATH=f"{site}:{tmp_path / 'site-probe'}", PLANWISE_PROBE_LOG=str(probe))
    args = [PLANWISE, "--structured-logs", "run", "--census", str(census[0]), "--database", str(database),
            "--start-year", "2025", "--end-year", "2027", "--seed", "3"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        if '"event": "year_completed"' in line and '"year": 2025' in line:
            break
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Interrupted" in err and "Traceback" not in err
    assert digests(database) == before
    run_id, status, error = run_log(database)[-1]
    assert (status, error) == ("interrupted", f"interrupted ({named}); it can be resumed")
    calls = probe.read_text().splitlines()
    assert calls.count("process_year 2026") <= 1 and "process_year 2027" not in calls  # not retried
    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert run_log(database)[-1][:2] == (run_id, "completed") and digests(database) != before


# --------------------------------------------------------------------------- files PlanWise did not write


def test_a_database_another_program_wrote_is_never_written(tmp_path, census):
    foreign = tmp_path / "theirs.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("create schema raw; create table raw.census as select 1 as employee_id")
        con.execute("create table fct_workforce_snapshot as select 2025 as simulation_year, 'x' as employee_id")
    before = sha(foreign)
    proc = planwise("run", "--census", census[0], "--database", foreign, "--end-year", "2025")
    assert proc.returncode == 1 and "PlanWise did not create" in proc.stderr and "Traceback" not in proc.stderr
    for args in (("summary",), ("report", "--out", tmp_path / "r.html"), ("export", "--out", tmp_path / "x")):
        reader = planwise(*args, "--database", foreign)
        assert reader.returncode == 1 and "not written by PlanWise" in reader.stderr, reader.stderr
    assert sha(foreign) == before


def test_a_database_without_the_marker_table_is_refused_untouched(tmp_path, reference):
    """Every PlanWise database has the marker table (no release wrote one without it): results and a run log
    alone do not make a database PlanWise's."""
    old = copy_of(reference, tmp_path)
    with duckdb.connect(str(old)) as con:
        con.execute("drop table planwise_database")
    before = sha(old)
    summary = planwise("summary", "--database", old)
    assert summary.returncode == 1 and "not written by PlanWise" in summary.stderr, summary.stderr
    assert sha(old) == before


@pytest.mark.parametrize("content, fragment", [(b"", "empty file"), (b"name,salary\nA,1\n", "not a DuckDB")])
def test_empty_or_text_database_files_get_a_clear_message(tmp_path, census, content, fragment):
    database = tmp_path / "bad.duckdb"
    database.write_bytes(content)
    for args in (("run", "--census", census[0], "--end-year", "2025"), ("summary",)):
        proc = planwise(*args, "--database", database)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("Error: ")
    assert database.read_bytes() == content


def test_read_only_database_summary_works_and_run_is_refused(tmp_path, reference, census):
    database = copy_of(reference, tmp_path)
    database.chmod(0o444)
    assert planwise("summary", "--database", database).returncode == 0
    proc = planwise("run", "--census", census[0], "--database", database, "--end-year", "2025")
    assert proc.returncode == 1 and "read-only" in proc.stderr


def test_summary_reads_while_a_run_is_going_and_fails_without_results(tmp_path, reference, census):
    database = copy_of(reference, tmp_path)
    expected = planwise("summary", "--database", database).stdout
    args = [PLANWISE, "--structured-logs", "run", "--census", str(census[0]), "--database", str(database),
            *YEARS, "--seed", "4"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if '"event": "year_completed"' in line:
                break
        during = planwise("summary", "--database", database)  # the run holds the lock and is writing
        assert during.returncode == 0, during.stderr
        assert during.stdout == expected
    finally:
        proc.communicate(timeout=300)
    assert proc.returncode == 0
    empty = tmp_path / "empty.duckdb"  # PlanWise's, with empty result tables
    with duckdb.connect(str(empty)) as con:
        con.execute("create table planwise_database (format integer, created_at timestamp)")
        for table in ("fct_year_summary", "fct_workforce_snapshot", "fct_yearly_events",
                      "int_workforce_requirements"):
            con.execute(f"create table {table} (simulation_year integer)")
    proc = planwise("summary", "--database", empty)
    assert proc.returncode == 1 and "holds no simulation results" in proc.stderr


def test_the_lock_file_is_never_followed_through_a_symlink(tmp_path, census):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    database = tmp_path / "db.duckdb"
    database.with_name("db.duckdb.lock").symlink_to(victim)
    proc = planwise("run", "--census", census[0], "--database", database, "--end-year", "2025")
    assert proc.returncode == 1 and "symbolic link" in proc.stderr
    assert victim.read_text() == "precious\n"


def test_a_missing_dbt_project_is_refused_before_anything_is_touched(tmp_path, reference, census):
    database = copy_of(reference, tmp_path)
    before = sha(database)
    proc = planwise("run", "--census", census[0], "--database", database, "--end-year", "2025",
                    PLANWISE_DBT_DIR=str(tmp_path / "nowhere"))
    assert proc.returncode == 1 and "dbt project not found" in proc.stderr
    assert sha(database) == before and not (tmp_path / f".{database.name}.build").exists()


def test_databases_with_the_same_stem_keep_separate_build_folders(tmp_path):
    from planwise_core.database.checkpoints import StateManager
    from planwise_core.database.workspace import Workspace

    a, b = Workspace(tmp_path / "x.duckdb"), Workspace(tmp_path / "x.db")
    assert a.folder != b.folder and a.build != b.build
    assert StateManager.for_database(tmp_path / "x.duckdb").directory != StateManager.for_database(
        tmp_path / "x.db").directory
