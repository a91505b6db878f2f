"""The census columns of the plan's money layer: optional, typed, validated with their line numbers."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from planwise_core.census import load_census
from planwise_core.errors import CensusError

CENSUS_DATE = date(2024, 12, 31)
HEADER = ("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation,"
          "employer_match_balance,employer_core_balance,auto_escalation_opt_out")


def write(tmp_path, *lines: str):
    path = tmp_path / "census.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def test_balances_and_opt_out_are_loaded(tmp_path):
    path = write(tmp_path, "E1,1980-01-01,2010-01-01,50000,3500.00,,TRUE",
                 "E2,1980-01-01,2010-01-01,50000,,120.5,no", "E3,1980-01-01,2010-01-01,50000,0,0,")
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    load_census(con, path, CENSUS_DATE)
    got = con.execute("""select employee_id, employer_match_balance, employer_core_balance, auto_escalation_opt_out
                         from raw.census order by 1""").fetchall()
    assert [(i, str(m), str(c), o) for i, m, c, o in got] == [
        ("E1", "3500.00", "0.00", True), ("E2", "0.00", "120.50", False), ("E3", "0.00", "0.00", False)]


@pytest.mark.parametrize("line, message", [
    ("E1,1980-01-01,2010-01-01,50000,-1,,", "column employer_match_balance: must be empty or a number >= 0 at line 2"),
    ("E1,1980-01-01,2010-01-01,50000,,lots,", "column employer_core_balance: must be empty or a number >= 0 at line 2"),
    ("E1,1980-01-01,2010-01-01,50000,,,maybe", "column auto_escalation_opt_out: must be empty, true or false at line 2"),
])
def test_bad_plan_columns_are_refused_with_their_line(tmp_path, line, message):
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    with pytest.raises(CensusError) as raised:
        load_census(con, write(tmp_path, line), CENSUS_DATE)
    assert message in str(raised.value)
