"""A census is read as meant or refused, never misread (docs/census.md, Column names and Formats).

An HR extract names its columns its own way (``Term Date``, ``DOB``, ``401k Deferral %``), writes percentages
(``6%``) and US dates (``03/15/2019``). Each such file is refused naming the fix, or read through an explicit
mapping and format; a terminated person is then not active and participation is right. Real ``planwise``
processes on tiny CSVs.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from helpers.cli import clean_failure, planwise
from planwise_core.census.columns import KNOWN, probable_column

# Headers HR systems export, and the census column each stands for (written by hand, not from the table).
HR_HEADERS = {
    "Employee ID": "employee_id", "EmpID": "employee_id", "Employee #": "employee_id", "SSN": "employee_id",
    "Emp No": "employee_id", "Employee_ID": "employee_id", "employee id": "employee_id",
    "DOB": "employee_birth_date", "Date of Birth": "employee_birth_date", "Birth Date": "employee_birth_date",
    "Date of Hire": "employee_hire_date", "Hire Date": "employee_hire_date", "Original Hire Date": "employee_hire_date",
    "Term Date": "employee_termination_date", "Termination Date": "employee_termination_date",
    "termination_date": "employee_termination_date", "Separation Date": "employee_termination_date",
    "Annual Salary": "employee_gross_compensation", "Base Pay": "employee_gross_compensation",
    "Salary": "employee_gross_compensation", "Gross Compensation": "employee_gross_compensation",
    "deferral_rate": "employee_deferral_rate", "401k Deferral %": "employee_deferral_rate",
    "401(k) Deferral Percent": "employee_deferral_rate", "Deferral %": "employee_deferral_rate",
    "Contribution Rate": "employee_deferral_rate",
    "Job Level/Grade": "level_id", "Job Level": "level_id", "Grade": "level_id", "LEVEL": "level_id",
    "Match Balance": "employer_match_balance", "Escalation Opt Out": "auto_escalation_opt_out",
}
NOT_CENSUS = ["Employee Name", "First Name", "department", "Cost Center", "manager_id", "Location", "Email",
              "FLSA Status", "Union Code"]

HR_EXTRACT = """\
Employee ID,Employee Name,DOB,Date of Hire,Term Date,Annual Salary,401k Deferral %,Job Level/Grade
A1,Ann,03/15/1980,06/01/2010,,85000,6%,2
A2,Bob,11/30/1975,01/15/2005,08/31/2024,60000,10%,1
A3,Cy,07/04/1990,09/05/2020,,52000,6.5%,1
A4,Di,12/24/1985,02/01/2018,,140000,0%,3
"""
MAPPING = {"employee_id": "Employee ID", "employee_birth_date": "DOB", "employee_hire_date": "Date of Hire",
           "employee_termination_date": "Term Date", "employee_gross_compensation": "Annual Salary",
           "employee_deferral_rate": "401k Deferral %", "level_id": "Job Level/Grade"}
FORMATS = ["--percent-strings", "--date-format", "%m/%d/%Y"]


def column_args(mapping: dict) -> list[str]:
    return [arg for target, header in mapping.items() for arg in ("--column", f"{target}={header}")]


@pytest.fixture
def extract(tmp_path) -> Path:
    path = tmp_path / "hr.csv"
    path.write_text(HR_EXTRACT, encoding="utf-8")
    return path


@pytest.mark.parametrize("header", sorted(HR_HEADERS))
def test_an_hr_header_is_recognised_as_the_census_column_it_means(header):
    assert probable_column(header) == HR_HEADERS[header]


@pytest.mark.parametrize("header", NOT_CENSUS)
def test_other_columns_are_not_taken_for_census_columns(header):
    assert probable_column(header) is None


def test_the_hr_extract_is_refused_naming_each_column_and_its_mapping(extract):
    proc = planwise("census", "profile", extract, cwd=extract.parent)
    for target, header in MAPPING.items():
        clean_failure(proc, 1, f"column {header!r}: not a census column, but it looks like another name or a "
                               f"misspelling of {target}", f"census.columns: {{{target}: \"{header}\"}}")
    assert "--column employee_termination_date='Term Date'" in proc.stderr
    assert "'Employee Name'" not in proc.stderr.split("columns found")[-1].split("\n", 1)[1]  # not flagged itself


def test_termination_and_deferral_under_other_names_are_refused_not_ignored(tmp_path):
    """The issue's case: the required columns plus termination_date and deferral_rate used to load silently."""
    path = tmp_path / "c.csv"
    path.write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation,"
                    "termination_date,deferral_rate\nE1,1980-01-01,2010-01-01,50000,2024-05-01,0.05\n"
                    "E2,1982-01-01,2012-01-01,60000,,0.04\n", encoding="utf-8")
    proc = planwise("census", "profile", path, cwd=tmp_path)
    clean_failure(proc, 1, "column 'termination_date': not a census column",
                  "misspelling of employee_termination_date", "column 'deferral_rate': not a census column")
    assert planwise("run", "--census", path, "--years", "2025", "--database", tmp_path / "x.duckdb",
                    cwd=tmp_path).returncode == 1
    assert not (tmp_path / "x.duckdb").exists()


def test_percentages_and_us_dates_are_refused_with_the_exact_conversion(extract):
    proc = planwise("census", "profile", extract, *column_args(MAPPING), cwd=extract.parent)
    clean_failure(proc, 1, f"Census {extract} is invalid",
                  "column employee_deferral_rate: percentages such as '6%': write the rate as a fraction "
                  "(6% -> 0.06), or read percentages with --percent-strings (census.percent_strings: true); "
                  "at lines 2, 3, 4, 5",
                  "column employee_birth_date: dates written as '03/15/1980', not YYYY-MM-DD; they are MM/DD/YYYY: "
                  "write them as YYYY-MM-DD (03/15/1980 -> 1980-03-15), or read them with --date-format '%m/%d/%Y'",
                  "column employee_termination_date: dates written as '08/31/2024'", "at line 3")


def test_ambiguous_day_month_dates_name_both_readings(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation\n"
                    "E1,1980-01-01,03/04/2010,50000\n", encoding="utf-8")
    clean_failure(planwise("census", "profile", path, cwd=tmp_path), 1,
                  "month and day cannot be told apart: write them as YYYY-MM-DD (03/04/2010 -> 2010-03-04 if "
                  "MM/DD/YYYY, 2010-04-03 if DD/MM/YYYY)")


def test_a_mapped_extract_profiles_leavers_out_and_participation_right(extract):
    proc = planwise("census", "profile", extract, *column_args(MAPPING), *FORMATS, "--json", cwd=extract.parent)
    assert proc.returncode == 0, proc.stderr
    profile = json.loads(proc.stdout)
    # By hand: A2 left on 2024-08-31, before the census date 2024-12-31; A1 (6%) and A3 (6.5%) defer, A4 (0%) not.
    assert (profile["rows"], profile["actives"], profile["enrolled"]) == (4, 3, 2)
    assert profile["participation_pct"] == 66.67
    assert {d["rate"]: d["enrolled"] for d in profile["deferral_rates"]} == {0.06: 1, 0.065: 1}
    assert profile["ignored_columns"] == ["Employee Name"]
    assert profile["mapped_columns"] == MAPPING
    text = planwise("census", "profile", extract, *column_args(MAPPING), *FORMATS, cwd=extract.parent).stdout
    assert "Columns ignored (not census columns): Employee Name" in text
    assert "employee_termination_date <- 'Term Date'" in text


def test_ignored_columns_are_listed_by_the_profile(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation,department\n"
                    "E1,1980-01-01,2010-01-01,50000,Sales\n", encoding="utf-8")
    proc = planwise("census", "profile", path, cwd=tmp_path)
    assert "Columns ignored (not census columns): department" in proc.stdout, proc.stderr


@pytest.mark.parametrize("args, code, fragments", [
    (["--column", "employee_id"], 2, ["Invalid value for '--column'", "is not NAME=HEADER"]),
    (["--column", "employee_id="], 2, ["gives no header"]),
    (["--column", "employee_id=A", "--column", "employee_id=B"], 2, ["employee_id is given twice"]),
    (["--column", "employee_terminaton_date=Term Date"], 1,
     ["census.columns.employee_terminaton_date: not a census column (did you mean employee_termination_date?)"]),
    (["--column", "employee_id=DOB", "--column", "level_id=DOB"], 1,
     ["census.columns: the header 'DOB' is mapped to employee_id and level_id"]),
    (["--column", "employee_id=Staff Number"], 1,
     ["column 'Staff Number': census.columns (or --column) maps employee_id to it, but the file has no such column"]),
    (["--date-format", "%m/%d/%y"], 1, ["census.date_format: must use %Y, %m and %d once each"]),
])
def test_bad_mappings_and_formats_get_one_clear_message(extract, args, code, fragments):
    clean_failure(planwise("census", "profile", extract, *args, cwd=extract.parent), code, *fragments)


def test_the_configuration_maps_columns_with_key_paths(tmp_path, extract):
    config = tmp_path / "c.yaml"
    config.write_text("simulation: {start_year: 2025, end_year: 2025}\nworkforce: {total_termination_rate: 0.1}\n"
                      "random_seed: 1\ncensus:\n  columns: {employee_terminaton_date: Term Date}\n"
                      "  percent_strings: maybe\n", encoding="utf-8")
    proc = planwise("validate-config", config, cwd=tmp_path)
    assert proc.returncode == 1
    assert "census.columns.employee_terminaton_date: not a census column" in proc.stdout
    assert "census.percent_strings: must be true or false" in proc.stdout


@pytest.mark.slow
def test_a_run_on_a_mapped_extract_simulates_leavers_as_leavers(tmp_path, extract):
    config = tmp_path / "plan.yaml"
    mapping = "\n".join(f'    {target}: "{header}"' for target, header in MAPPING.items())
    config.write_text("simulation: {start_year: 2025, end_year: 2025}\nworkforce: {total_termination_rate: 0.1}\n"
                      f"random_seed: 1\ncensus:\n  date_format: \"%m/%d/%Y\"\n  percent_strings: true\n"
                      f"  columns:\n{mapping}\n", encoding="utf-8")
    database = tmp_path / "run.duckdb"
    proc = planwise("--config", config, "run", "--census", extract, "--database", database, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["census"]["mapped_columns"] == MAPPING
    summary = planwise("summary", "--database", database, cwd=tmp_path).stdout
    assert "columns read under another name: employee_birth_date <- 'DOB'" in summary
    assert "; columns ignored: Employee Name" in summary
    with duckdb.connect(str(database), read_only=True) as con:
        census = dict(con.execute("select employee_id, employee_termination_date from raw.census").fetchall())
        baseline = dict(con.execute("select employee_id, deferral_rate from int_baseline_workforce").fetchall())
    assert str(census["A2"]) == "2024-08-31"
    assert baseline == {"A1": Decimal("0.060000"), "A3": Decimal("0.065000"), "A4": Decimal("0.000000")}


def test_the_template_lists_every_column_and_loads_as_written(tmp_path):
    out = tmp_path / "census.csv"
    proc = planwise("census", "template", "--out", out, cwd=tmp_path)
    assert proc.returncode == 0 and out.read_text() == planwise("census", "template", cwd=tmp_path).stdout
    lines = out.read_text().splitlines()
    header = next(line for line in lines if not line.startswith("#"))
    assert header.split(",") == list(KNOWN)
    assert all(any(line.startswith(f"# {name} (") for line in lines) for name in KNOWN)
    profile = json.loads(planwise("census", "profile", out, "--json", cwd=tmp_path).stdout)
    assert (profile["rows"], profile["actives"], profile["enrolled"], profile["ignored_columns"]) == (3, 2, 2, [])
    clean_failure(planwise("census", "template", "--out", tmp_path / "t.xlsx", cwd=tmp_path), 1, "ending in .csv")
