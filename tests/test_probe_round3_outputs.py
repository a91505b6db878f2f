"""Issue 28: reading and writing outputs (docs/outputs.md, docs/cli.md), on copies of one shared run.

N15: a write failure of report/export (here a file-size limit, as a full disk) is one Error naming the file,
with no temporary file left. N16: a damaged run-log record is an Error naming table and run. N17: diff says
when the planwise versions differ and which side lacks the table record. N19: a CSV given as the database is
named as such, untouched. N20: a reader waits out a run's short hold on the file instead of failing.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import threading
import time

import duckdb
import pytest

from helpers.sims import BASELINE_2Y
from helpers.cli import PLANWISE, clean_failure, planwise, planwise_env

pytestmark = pytest.mark.slow


@pytest.fixture
def copy(sims, tmp_path):
    target = tmp_path / "results.duckdb"
    shutil.copyfile(sims.get(BASELINE_2Y).database, target)
    return target


def _limited(*args, cwd):
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # writes past 20 kB fail: EFBIG

    return subprocess.run([str(PLANWISE), *map(str, args)], cwd=cwd, env=planwise_env(), capture_output=True,
                          text=True, timeout=300, preexec_fn=small_files)


def test_a_failed_write_is_one_error_and_leaves_no_temporary_file(copy, tmp_path):
    (tmp_path / "r.html").write_text("old report")
    proc = _limited("report", "--database", copy, "--out", tmp_path / "r.html", cwd=tmp_path)
    clean_failure(proc, 1, f"Error: Cannot write {tmp_path / 'r.html'}: File too large")
    assert (tmp_path / "r.html").read_text() == "old report"
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"ex_{fmt}"
        proc = _limited("export", "--database", copy, "--format", fmt, "--out", out, cwd=tmp_path)
        clean_failure(proc, 1, "Error: Cannot write", "File too large")
        leftovers = [p.name for p in out.iterdir() if p.name.startswith((".", "tmp_"))]
        assert leftovers == [], leftovers


def test_a_damaged_run_record_is_an_error_naming_table_and_run(copy, tmp_path):
    with duckdb.connect(str(copy)) as con:
        run_id = con.execute("update planwise_run_log set config_json = 'not json{' returning run_id").fetchall()[0][0]
    proc = planwise("report", "--database", copy, "--out", tmp_path / "r.html", cwd=tmp_path)
    clean_failure(proc, 1, f"planwise_run_log.config_json of run {run_id} is not valid JSON")
    for args in (("summary", "--database", copy), ("export", "--database", copy, "--out", tmp_path / "ex")):
        assert "Traceback" not in planwise(*args, cwd=tmp_path).stderr


def test_diff_names_other_versions(copy, sims, tmp_path):
    with duckdb.connect(str(copy)) as con:
        con.execute("update planwise_run_log set planwise_version = '0.0.1'")
    proc = planwise("diff", sims.get(BASELINE_2Y).database, copy, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "planwise version: DIFFERENT, A " in proc.stdout and "-> B 0.0.1" in proc.stdout
    assert "Parameter tables differences (0):\n  none" in proc.stdout


def test_a_csv_given_as_the_database_is_named_and_untouched(tmp_path):
    victim = tmp_path / "census.csv"
    victim.write_text("employee_id,employee_birth_date\nE1,1980-01-01\n")
    before = victim.read_bytes()
    for args in (("summary", "--database", victim), ("run", "--census", victim, "--years", "2025", "--database", victim)):
        clean_failure(planwise(*args, cwd=tmp_path), 1, "is not a DuckDB database: it is a text file (a CSV?)")
    assert victim.read_bytes() == before


def test_a_reader_waits_while_a_run_holds_the_file_briefly(copy, tmp_path):
    holder = duckdb.connect(str(copy))  # a writer's lock, as a run's log write at start or publish
    release = threading.Timer(1.5, holder.close)
    release.start()
    started = time.monotonic()
    proc = planwise("summary", "--database", copy, "--json", cwd=tmp_path)
    release.join()
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started >= 1.4


def test_a_foreign_database_with_planwise_table_names_is_refused_untouched(tmp_path):
    # N18: same-named tables of other columns do not make a database PlanWise's.
    census = tmp_path / "c.csv"
    census.write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation\n"
                      "E1,1980-01-01,2015-01-01,50000\n")
    foreign = tmp_path / "f2.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("create schema raw; create table raw.census(a int); create table fct_workforce_snapshot(x int);"
                    "insert into fct_workforce_snapshot values (1), (2); create table planwise_run_log(a int)")
    before = foreign.read_bytes()
    proc = planwise("run", "--census", census, "--years", "2025", "--database", foreign, cwd=tmp_path)
    clean_failure(proc, 1, "PlanWise did not create")
    clean_failure(planwise("summary", "--database", foreign, cwd=tmp_path), 1, "not written by PlanWise")
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "f2.duckdb"]  # no lock, build or rejects left
