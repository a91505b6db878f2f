"""Dirty censuses (docs/domain.md, Census): errors refuse or drop rows, warnings never refuse, paths are paths.

Most cases call the validator and loader directly (a DuckDB file, no dbt); one real run loads a
5,000-row HR-style extract with --on-invalid-rows drop, and one runs salaries at the capacity ceiling.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from planwise_core.census import (
    capacity_for, generate_census, load_census, validate_census,
)
from planwise_core.config import PlanwiseConfig, load_config
from planwise_core.errors import CensusError
from helpers.cli import planwise

CENSUS_DATE = date(2024, 12, 31)
HEADER = ["employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
          "employee_gross_compensation", "employee_deferral_rate", "level_id"]


def row(employee_id="E1", birth="1980-05-01", hire="2010-03-15", term="", salary="65000.00", deferral="0.06",
        level="1") -> list[str]:
    return [employee_id, birth, hire, term, salary, deferral, level]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, before: str = "") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(before)
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_rejects(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- errors and warnings


WARNINGS = [
    ("hired_before_14", row("W1", birth="2000-01-01", hire="2013-12-31"), "hired before age 14 at line 3 "),
    ("hired_before_birth", row("W1", birth="2010-01-01", hire="2009-06-01"), "hired before birth at line 3 "),
    ("under_14", row("W1", birth="2012-01-01", hire="2024-06-01"), "under 14 at the census date at line 3 "),
    ("over_100", row("W1", birth="1920-01-01", hire="1950-06-01"), "over 100 at the census date at line 3 "),
    ("salary_over_10m", row("W1", salary="12000000"), "salary over 10,000,000 at line 3 "),
]


@pytest.mark.parametrize("bad, fragment", [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_a_warning_never_refuses_and_is_listed_with_its_line(tmp_path, bad, fragment):
    path = write_csv(tmp_path / "census.csv", [row("E1"), bad])
    for policy in ("refuse", "drop"):
        summary = validate_census(path, CENSUS_DATE, on_invalid_rows=policy)
        assert (summary.rows, summary.loaded, summary.dropped, summary.warning_rows) == (2, 2, 0, 1)
        assert any(fragment in w for w in summary.warnings), summary.warnings


ERRORS = [
    ("salary_rounds_to_zero", row("X", salary="0.004"), "employee_gross_compensation",
     "must be a number of at least 0.01"),
    ("salary_not_finite", row("X", salary="NaN"), "employee_gross_compensation", "must be a number"),
    ("birth_year_0001", row("X", birth="0001-01-01"), "employee_birth_date", "birth date is before 1900-01-01"),
    ("hire_year_1066", row("X", hire="1066-10-14"), "employee_hire_date", "hire date is before 1900-01-01"),
    ("not_born_yet", row("X", birth="2025-01-01", hire="2024-06-01"), "employee_birth_date",
     "birth date is after the census date 2024-12-31"),
    ("deferral_in_percent", row("X", deferral="6"), "employee_deferral_rate", "must be empty or a number from 0"),
    ("future_hire", row("X", hire="2025-01-02"), "employee_hire_date", "hire date is after the census date"),
    ("salary_beyond_capacity", row("X", salary="1000000000000"), "employee_gross_compensation",
     "salary above 10,000,000,000.00"),
]


@pytest.mark.parametrize("bad, column, reason", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_an_error_refuses_the_file_or_drops_only_that_row(tmp_path, bad, column, reason):
    path = write_csv(tmp_path / "census.csv", [row("E1"), bad, row("E3")])
    with pytest.raises(CensusError) as refused:
        validate_census(path, CENSUS_DATE)
    message = str(refused.value)
    assert f"Census {path} is invalid (nothing was loaded" in message
    assert f"column {column}: {reason}" in message and " at line 3 " in message
    assert "`on_invalid_rows` drop" in message and "--" not in message  # the Python terms; the CLI shows the flag

    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    summary = load_census(con, path, CENSUS_DATE, on_invalid_rows="drop", rejects_file=tmp_path / "rejects.csv")
    assert (summary.rows, summary.loaded, summary.dropped) == (3, 2, 1)
    assert con.execute("select list(employee_id order by employee_id) from raw.census").fetchone()[0] == ["E1", "E3"]
    rejects = read_rejects(tmp_path / "rejects.csv")
    assert [(r["row_number"], r["employee_id"], r["column"]) for r in rejects] == [("3", "X", column)]
    assert rejects[0]["reason"].startswith(reason)


def test_salaries_are_rounded_half_up_to_cents_once(tmp_path):
    path = write_csv(tmp_path / "census.csv", [row("A", salary="0.005"), row("B", salary="65000.125"),
                                              row("C", salary="6.5e4")])
    con = duckdb.connect()
    load_census(con, path, CENSUS_DATE)
    assert con.execute("select list(employee_gross_compensation order by employee_id) from raw.census").fetchone()[0] \
        == [Decimal("0.01"), Decimal("65000.13"), Decimal("65000.00")]


def test_duplicated_ids_are_all_dropped_never_deduplicated(tmp_path):
    path = write_csv(tmp_path / "census.csv", [row("E1"), row("=HYPERLINK(\"http://x\")"), row("E3"),
                                              row("=HYPERLINK(\"http://x\")", salary="1")])
    con = duckdb.connect()
    summary = load_census(con, path, CENSUS_DATE, on_invalid_rows="drop", rejects_file=tmp_path / "r.csv")
    assert summary.dropped == 2
    rejects = read_rejects(tmp_path / "r.csv")
    assert [(r["row_number"], r["employee_id"]) for r in rejects] == [("3", "'=HYPERLINK(\"http://x\")"),
                                                                      ("5", "'=HYPERLINK(\"http://x\")")]
    assert all(r["reason"].startswith("duplicate id (2 rows have it") for r in rejects)
    assert con.execute("select count(*) from raw.census_rejects").fetchone()[0] == 2


def test_file_problems_refuse_even_with_drop(tmp_path):
    header = HEADER[:2] + ["employee_id"] + HEADER[2:]
    path = write_csv(tmp_path / "dupcol.csv", [["E1", "1980-01-01", "E9", *row()[2:]]], header=header)
    with pytest.raises(CensusError, match="column 'employee_id': appears 2 times in the header"):
        validate_census(path, CENSUS_DATE, on_invalid_rows="drop")
    every_row_bad = write_csv(tmp_path / "allbad.csv", [row("E1", salary="0"), row("E2", hire="x")])
    with pytest.raises(CensusError, match="no active employee, every valid row is terminated"):
        validate_census(every_row_bad, CENSUS_DATE, on_invalid_rows="drop")


def test_a_leading_note_line_keeps_line_numbers_and_hash_ids_are_rows(tmp_path):
    path = write_csv(tmp_path / "census.csv", [row("E1"), row("#42"), row("E3", salary="-1")],
                     before="# HR extract 2024-12-31, confidential\r\n")
    with pytest.raises(CensusError) as refused:
        validate_census(path, CENSUS_DATE)
    assert "the header is line 2" in str(refused.value)
    assert "must be a number of at least 0.01 at line 5 " in str(refused.value)
    con = duckdb.connect()
    load_census(con, path, CENSUS_DATE, on_invalid_rows="drop", rejects_file=tmp_path / "r.csv")
    assert con.execute("select list(employee_id order by employee_id) from raw.census").fetchone()[0] == ["#42", "E1"]
    assert [r["row_number"] for r in read_rejects(tmp_path / "r.csv")] == ["5"]


def test_a_later_load_without_rejects_removes_the_stale_list(tmp_path):
    rejects = tmp_path / "r.csv"
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    load_census(con, write_csv(tmp_path / "a.csv", [row("E1"), row("E2", salary="x")]), CENSUS_DATE,
                on_invalid_rows="drop", rejects_file=rejects)
    assert rejects.exists()
    load_census(con, write_csv(tmp_path / "b.csv", [row("E1")]), CENSUS_DATE, on_invalid_rows="drop",
                rejects_file=rejects)
    assert not rejects.exists()
    assert con.execute("select rows_dropped, rejects_file from raw.census_load").fetchone() == (0, None)


# --------------------------------------------------------------------------- paths and time zones


@pytest.mark.parametrize("name, neighbours", [
    ("c[1].csv", ["c1.csv"]),
    ("census*.csv", ["census_a.csv", "census_b.csv"]),
    ("a?b.csv", ["axb.csv"]),
    ("~home.csv", []),
], ids=["brackets", "star", "question-mark", "tilde"])
def test_a_census_path_is_that_file_never_a_pattern(tmp_path, monkeypatch, name, neighbours):
    monkeypatch.chdir(tmp_path)
    for i, other in enumerate(neighbours):
        generate_census(5 + i, i, other)
    generate_census(9, 99, name)
    assert validate_census(name, CENSUS_DATE).rows == 9
    con = duckdb.connect()
    assert load_census(con, Path(name), CENSUS_DATE).rows == 9
    assert con.execute("select count(*) from raw.census").fetchone()[0] == 9
    with pytest.raises(CensusError, match="not found"):
        validate_census(name.replace(".csv", "x*.csv"), CENSUS_DATE)


TZ_SCRIPT = """
import duckdb, sys
from datetime import date
from planwise_core.census import load_census
con = duckdb.connect()
load_census(con, sys.argv[1], date(2024, 12, 31))
print(con.execute("select list(employee_birth_date::varchar order by employee_id), "
                  "list(employee_hire_date::varchar order by employee_id) from raw.census").fetchone())
"""


def test_parquet_timestamps_with_a_time_zone_load_as_the_same_date_in_every_time_zone(tmp_path):
    path = tmp_path / "tz.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""COPY (SELECT * FROM (VALUES
        ('E1', TIMESTAMPTZ '1980-05-01 00:00:00+00', TIMESTAMPTZ '2010-03-15 00:00:00+00', 65000.0),
        ('E2', TIMESTAMPTZ '1975-12-31 00:00:00+00', TIMESTAMPTZ '2001-01-01 00:00:00+00', 70000.0))
        t(employee_id, employee_birth_date, employee_hire_date, employee_gross_compensation))
        TO '{path}' (FORMAT parquet)""")
    seen = set()
    for zone in ("UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Tokyo"):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run([sys.executable, "-c", TZ_SCRIPT, str(path)], env={**env, "TZ": zone},
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        seen.add(proc.stdout.strip())
    assert seen == {"(['1980-05-01', '1975-12-31'], ['2010-03-15', '2001-01-01'])"}


# --------------------------------------------------------------------------- what the arithmetic carries


def test_capacity_follows_the_horizon_and_the_rates():
    five, ten = (capacity_for(PlanwiseConfig().with_overrides(**{"simulation.end_year": y})) for y in (2029, 2034))
    assert five.max_salary > ten.max_salary > 0
    steep = capacity_for(PlanwiseConfig().with_overrides(**{"compensation.merit_budget": 1.0}))
    assert steep.max_salary < five.max_salary
    # default rates: promotions up to 15 % (four at most), merit up to 3.75 %, COLA 0.5 %
    assert five.growth == Decimal("1.15") ** 4 * Decimal("1.0425") ** 5


@pytest.mark.slow
def test_a_salary_at_the_ceiling_runs_every_year_and_one_cent_more_is_refused(tmp_path):
    (tmp_path / "config.yaml").write_text("simulation: {start_year: 2025, end_year: 2027}\n"
                                          "workforce: {total_termination_rate: 0.0}\nrandom_seed: 42\n"
                                          "orchestration: {max_retries: 0, fail_fast: true}\n")
    ceiling = capacity_for(load_config(tmp_path / "config.yaml")).max_salary
    # Level 4 with ten years of tenure: promoted, merit and COLA raised, and never terminated.
    rows = [row(f"E{i}", hire="2015-01-01", salary="90000", level="4") for i in range(1, 20)]
    rows.append(row("TOP", hire="2015-01-01", salary=str(ceiling), level="4"))
    path = write_csv(tmp_path / "census.csv", rows)
    proc = planwise("--config", "config.yaml", "run", "--census", path, "--database", "at.duckdb", "--json",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["completed_years"] == [2025, 2026, 2027]

    rows[-1] = row("TOP", hire="2015-01-01", salary=str(ceiling + Decimal("0.01")), level="4")
    over = write_csv(tmp_path / "over.csv", rows)
    proc = planwise("--config", "config.yaml", "run", "--census", over, "--database", "over.duckdb", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"salary above {ceiling:,.2f}, the most this configuration can carry" in proc.stderr
    assert not (tmp_path / "over.duckdb").exists()


# --------------------------------------------------------------------------- a real HR extract, end to end


def hr_extract(folder: Path) -> tuple[Path, dict]:
    """5,000 rows as an HR system exports them: extra columns, many leavers, a few impossible rows, and people
    hired before 14 or before they were born (a data-entry habit). Returns the file and what it holds."""
    source = generate_census(5000, 21, folder / "source.csv")
    with source.open(newline="") as handle:
        records = list(csv.DictReader(handle))
    invalid = {101: ("employee_birth_date", "1980-02-30"), 202: ("employee_gross_compensation", "-5"),
               303: ("employee_deferral_rate", "6"), 404: ("employee_hire_date", "2025-06-01"),
               505: ("employee_gross_compensation", "n/a"), 606: ("employee_birth_date", "2025-02-01")}
    young, unborn = set(), set()
    for i, rec in enumerate(records):
        hire = date.fromisoformat(rec["employee_hire_date"])
        if i % 8 == 3 and not rec["employee_termination_date"]:
            rec["employee_termination_date"] = max(hire, date(2024, 1, 1)).isoformat()
        if i % 111 == 7 and hire.year < 2023:
            rec["employee_birth_date"], _ = hire.replace(year=hire.year + 1).isoformat(), unborn.add(i)
        elif i % 37 == 5:
            rec["employee_birth_date"], _ = hire.replace(year=hire.year - 10).isoformat(), young.add(i)
        if i in invalid:
            column, value = invalid[i]
            rec[column] = value
        rec.update({"Employee Name": f"Person {i}", "department": "Sales", "Cost Center": f"CC{i % 40}",
                    "manager_id": f"M{i % 90}"})
    records[707]["employee_id"] = records[708]["employee_id"]  # a duplicated id: both rows go
    path = folder / "hr_extract.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["employee_id", "Employee Name", "department", *HEADER[1:],
                                                    "Cost Center", "manager_id"])
        writer.writeheader()
        writer.writerows(records)
    dropped = set(invalid) | {707, 708}
    # 404 is also "termination before hire" when it left in 2024: one row, possibly two problems.
    return path, {"dropped": len(dropped), "warning_rows": len((young | unborn) - dropped),
                  "terminated": sum(1 for i, r in enumerate(records)
                                    if r["employee_termination_date"] and i not in dropped)}


@pytest.mark.slow
def test_a_dirty_hr_extract_is_refused_whole_or_loaded_without_its_bad_rows(tmp_path):
    path, expected = hr_extract(tmp_path)
    refused = planwise("run", "--census", path, "--database", "hr.duckdb", cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"Error: Census {path} is invalid (nothing was loaded; line numbers are lines")
    for fragment in ("column employee_birth_date: must be a date YYYY-MM-DD at line 103 ",
                     "column employee_gross_compensation: must be a number of at least 0.01 at lines 204, 507 ",
                     "column employee_deferral_rate: must be empty or a number from 0 to 1 at line 305 ",
                     "column employee_hire_date: hire date is after the census date 2024-12-31 at line 406 ",
                     "column employee_birth_date: birth date is after the census date 2024-12-31 at line 608 ",
                     "at lines 709, 710 ", "--on-invalid-rows drop"):
        assert fragment in refused.stderr, (fragment, refused.stderr)
    assert not (tmp_path / "hr.duckdb").exists()

    proc = planwise("run", "--census", path, "--database", "hr.duckdb", "--on-invalid-rows", "drop",
                    "--start-year", 2025, "--end-year", 2025, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    census = json.loads(proc.stdout)["census"]
    assert (census["rows"], census["dropped"], census["loaded"]) == (5000, expected["dropped"],
                                                                    5000 - expected["dropped"])
    assert census["warning_rows"] == expected["warning_rows"] > 100
    assert census["terminated"] == expected["terminated"] > 600
    assert census["extra_columns"] == ["Employee Name", "department", "Cost Center", "manager_id"]
    rejects = tmp_path / "hr.duckdb.rejects.csv"
    assert census["rejects_file"] == str(rejects)
    listed = read_rejects(rejects)
    assert sorted({int(r["row_number"]) for r in listed}) == [103, 204, 305, 406, 507, 608, 709, 710]
    assert {r["column"] for r in listed} >= {"employee_birth_date", "employee_gross_compensation",
                                            "employee_deferral_rate", "employee_hire_date", "employee_id"}
    # The warnings are listed (first lines and a count) and never fatal.
    assert "rows with warnings (simulated as given)" in proc.stderr
    assert "hired before age 14 at lines " in proc.stderr and "hired before birth at lines " in proc.stderr
    assert " more (check the birth and hire dates)" in proc.stderr
    # The log names the list where it stays, not the build folder it is written in first.
    assert f"left out as invalid, listed in {rejects} (once the run completes)" in proc.stderr
    assert ".build" not in proc.stderr

    summary = planwise("summary", "--database", "hr.duckdb", cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert next(line for line in summary.stdout.splitlines() if line.startswith("census:")) == (
        f"census: 5,000 rows, {5000 - expected['dropped']:,} loaded, {expected['dropped']} dropped as invalid "
        f"(listed in {rejects}), {expected['warning_rows']} with warnings; columns ignored: Employee Name, "
        "department, Cost Center, manager_id")
    with duckdb.connect(str(tmp_path / "hr.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.census").fetchone()[0] == 5000 - expected["dropped"]
        assert con.execute("select rows_dropped, warning_rows from raw.census_load").fetchone() == (
            expected["dropped"], expected["warning_rows"])
        assert con.execute("select count(distinct row_number) from raw.census_rejects").fetchone()[0] == 8
