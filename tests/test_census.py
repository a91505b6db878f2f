"""Census generator, validator and loader (docs/census.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from planwise_core.census import (
    CensusSummary,
    builtin_census,
    generate_census,
    load_census,
    validate_census,
)
from planwise_core.errors import CensusError

CENSUS_DATE = date(2024, 12, 31)
HEADER = ("employee_id,employee_birth_date,employee_hire_date,employee_termination_date,"
          "employee_gross_compensation,employee_deferral_rate,level_id")


def row(employee_id="E1", birth="1980-05-01", hire="2010-03-15", term="", salary="65000.00",
        deferral="0.06", level="1") -> str:
    return ",".join([employee_id, birth, hire, term, salary, deferral, level])


GOOD = [row("E1"), row("E2", salary="95000"), row("E3", deferral="", level=""), row("E4")]


def census_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


# --------------------------------------------------------------------------- generator


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_generate_is_deterministic(tmp_path, suffix):
    first = generate_census(500, 7, tmp_path / f"a{suffix}")
    second = generate_census(500, 7, tmp_path / f"b{suffix}")
    other_seed = generate_census(500, 8, tmp_path / f"c{suffix}")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other_seed.read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_generated_census_is_valid_with_exact_columns(tmp_path, suffix):
    path = generate_census(1234, 3, tmp_path / f"census{suffix}")
    summary = validate_census(path, CENSUS_DATE)
    assert summary.rows == 1234 and summary.has_level_id
    assert summary.actives + summary.terminated == 1234
    con = duckdb.connect()
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
    assert columns == HEADER.split(",")
    first_id = con.execute(f"SELECT min(employee_id), max(employee_id) FROM '{path}'").fetchone()
    assert first_id == ("EMP_000001", "EMP_001234")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return generate_census(20_000, 42, tmp_path_factory.mktemp("gen") / "census.parquet")


def test_generated_level_matches_salary_band(generated):
    con = duckdb.connect()
    wrong = con.execute(f"""
        SELECT count(*) FROM '{generated}'
        WHERE level_id <> CASE WHEN employee_gross_compensation < 80000 THEN 1
                               WHEN employee_gross_compensation < 120000 THEN 2
                               WHEN employee_gross_compensation < 160000 THEN 3
                               WHEN employee_gross_compensation < 275000 THEN 4 ELSE 5 END
           OR employee_gross_compensation < 45000 OR employee_gross_compensation >= 400000""").fetchone()[0]
    assert wrong == 0
    shares = dict(con.execute(f"SELECT level_id, count(*) / 20000 FROM '{generated}' GROUP BY 1").fetchall())
    for level, expected in {1: .55, 2: .25, 3: .12, 4: .06, 5: .02}.items():
        assert shares[level] == pytest.approx(expected, abs=0.02)


def test_generated_shapes_and_shares(generated):
    con = duckdb.connect()
    enrolled, terminated, bad_rate, min_age, max_age, max_tenure, too_young, term_outside = con.execute(f"""
        SELECT avg((employee_deferral_rate > 0)::INT), avg((employee_termination_date IS NOT NULL)::INT),
               count(*) FILTER (WHERE employee_deferral_rate NOT IN (0, .03, .04, .05, .06, .08, .10, .15)),
               min(date_sub('year', employee_birth_date, DATE '2024-12-31')),
               max(date_sub('year', employee_birth_date, DATE '2024-12-31')),
               max(date_sub('year', employee_hire_date, DATE '2024-12-31')),
               count(*) FILTER (WHERE employee_hire_date < employee_birth_date + INTERVAL 18 YEAR
                                   OR employee_hire_date > DATE '2024-12-31'),
               count(*) FILTER (WHERE employee_termination_date < greatest(employee_hire_date, DATE '2024-01-01')
                                   OR employee_termination_date > DATE '2024-12-31')
        FROM '{generated}'""").fetchone()
    assert enrolled == pytest.approx(0.60, abs=0.05)
    assert terminated == pytest.approx(0.03, abs=0.015)
    assert bad_rate == 0 and too_young == 0 and term_outside == 0
    assert 22 <= min_age and max_age <= 64 and max_tenure <= 35


def test_generated_ndt_columns_keep_the_other_columns_and_give_owners_and_officers(tmp_path):
    plain = generate_census(3000, 11, tmp_path / "plain.csv")
    ndt = generate_census(3000, 11, tmp_path / "ndt.csv", ndt_columns=True)
    again = generate_census(3000, 11, tmp_path / "again.csv", ndt_columns=True)
    assert ndt.read_bytes() == again.read_bytes()
    plain_lines, ndt_lines = plain.read_text().splitlines(), ndt.read_text().splitlines()
    assert ndt_lines[0] == HEADER + ",ownership_pct,is_officer,employee_deferral_balance"
    # Every row starts with the same bytes as the census without the NDT columns (docs/census.md).
    assert all(n.startswith(p + ",") for p, n in zip(plain_lines[1:], ndt_lines[1:], strict=True))
    summary = validate_census(ndt, CENSUS_DATE)
    assert summary.rows == 3000 and summary.warnings == () and summary.extra_columns == ()
    con = duckdb.connect()
    shares = [r[0] for r in con.execute(f"SELECT ownership_pct FROM '{ndt}' WHERE ownership_pct > 0 "
                                        "ORDER BY ownership_pct DESC").fetchall()]
    # 3000 // 100 = 30 owners capped at 20: three 5 % owners, then 17 at 2 %.
    assert [float(v) for v in shares] == [0.30, 0.15, 0.06] + [0.02] * 17
    officers, wrong_level, bad_balance = con.execute(f"""
        SELECT count(*) FILTER (WHERE is_officer), count(*) FILTER (WHERE is_officer AND level_id < 4),
               count(*) FILTER (WHERE employee_deferral_balance < 0 OR (employee_deferral_rate = 0
                                      AND employee_deferral_balance <> 0))
        FROM '{ndt}'""").fetchone()
    top_levels = con.execute(f"SELECT count(*) FROM '{ndt}' WHERE level_id >= 4").fetchone()[0]
    assert wrong_level == 0 and bad_balance == 0
    assert officers == pytest.approx(top_levels / 4, rel=0.3) and officers > 0
    # The loader keeps the three columns (they are census columns, not ignored extras).
    load_census(con, ndt, CENSUS_DATE)
    loaded = con.execute("SELECT count(*) FILTER (WHERE ownership_pct > 0), count(*) FILTER (WHERE is_officer), "
                         "sum(employee_deferral_balance) FROM raw.census").fetchone()
    assert loaded == (20, officers, con.execute(f"SELECT sum(employee_deferral_balance::DECIMAL(18, 2)) FROM '{ndt}'").fetchone()[0])


def test_generate_refuses_bad_arguments(tmp_path):
    with pytest.raises(CensusError, match="employees"):
        generate_census(0, 1, tmp_path / "c.csv")
    with pytest.raises(CensusError, match=r"\.csv or \.parquet"):
        generate_census(10, 1, tmp_path / "c.xlsx")


def test_builtin_census_is_generated_once(tmp_path):
    path = builtin_census(tmp_path / "cache", employees=200, seed=5)
    assert path == tmp_path / "cache" / "synthetic_census_200_5.parquet"
    stamp = path.stat().st_mtime_ns
    assert builtin_census(tmp_path / "cache", employees=200, seed=5) == path
    assert path.stat().st_mtime_ns == stamp
    assert validate_census(path, CENSUS_DATE).rows == 200


# --------------------------------------------------------------------------- loading


def snapshot(db: Path) -> tuple:
    con = duckdb.connect(str(db))
    try:
        return (con.execute("DESCRIBE raw.census").fetchall(),
                con.execute("SELECT * FROM raw.census ORDER BY rowid").fetchall())
    finally:
        con.close()


@pytest.fixture
def database(tmp_path) -> Path:
    """A database file whose raw.census already holds a known good census."""
    db = tmp_path / "planwise.duckdb"
    good = tmp_path / "good.csv"
    good.write_text(census_text(*GOOD))
    con = duckdb.connect(str(db))
    load_census(con, good, CENSUS_DATE)
    con.close()
    return db


def test_load_good_census_types_and_rows(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text(census_text(*GOOD, row("E5", term="2024-06-30", level="")))
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    summary = load_census(con, path, CENSUS_DATE)
    assert summary == CensusSummary(path=path, rows=5, actives=4, terminated=1, enrolled=3, has_level_id=True)
    types = dict((r[0], r[1]) for r in con.execute("DESCRIBE raw.census").fetchall())
    assert types == {"employee_id": "VARCHAR", "employee_birth_date": "DATE", "employee_hire_date": "DATE",
                     "employee_termination_date": "DATE", "employee_gross_compensation": "DECIMAL(18,2)",
                     "employee_deferral_rate": "DECIMAL(9,6)", "level_id": "INTEGER",
                     "employer_match_balance": "DECIMAL(18,2)", "employer_core_balance": "DECIMAL(18,2)",
                     "auto_escalation_opt_out": "BOOLEAN", "ownership_pct": "DECIMAL(9,6)", "is_officer": "BOOLEAN",
                     "employee_deferral_balance": "DECIMAL(18,2)"}
    e3 = con.execute("SELECT employee_deferral_rate, level_id FROM raw.census WHERE employee_id = 'E3'").fetchone()
    assert e3 == (0, None)
    assert con.execute("SELECT count(*) FROM raw.census").fetchone()[0] == 5


def test_load_generated_parquet_without_optional_columns(tmp_path):
    source = generate_census(300, 1, tmp_path / "full.parquet")
    slim = tmp_path / "slim.parquet"
    duckdb.sql(f"COPY (SELECT employee_id, employee_birth_date, employee_hire_date, employee_gross_compensation "
               f"FROM '{source}') TO '{slim}' (FORMAT parquet)")
    con = duckdb.connect()
    summary = load_census(con, slim, CENSUS_DATE)
    assert (summary.rows, summary.actives, summary.enrolled, summary.has_level_id) == (300, 300, 0, False)
    assert con.execute("SELECT count(level_id), sum(employee_deferral_rate) FROM raw.census").fetchone() == (0, 0)


def test_load_keeps_bom_and_replaces_previous_census(tmp_path, database):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + census_text(row("B1"), row("B2")).encode())
    con = duckdb.connect(str(database))
    assert load_census(con, path, CENSUS_DATE).rows == 2
    assert con.execute("SELECT list(employee_id ORDER BY rowid) FROM raw.census").fetchone()[0] == ["B1", "B2"]


# --------------------------------------------------------------------------- defects

R = row  # shorthand for the table below

# (case id, file content (str for a CSV, bytes for raw bytes), fragments the message must contain)
DEFECTS = [
    ("unsupported_format", None, ["unsupported file type", ".xlsx"]),
    ("empty_file", "", ["is empty"]),
    ("garbage", bytes(range(256)) * 20, ["cannot be read as CSV"]),
    ("header_only", census_text(), ["no data rows"]),
    ("missing_columns", census_text(R(), header=HEADER.replace("employee_hire_date", "hired")),
     ["employee_hire_date", "required but missing", "columns found", "'hired'"]),
    ("typo_column", census_text(R(), header=HEADER.replace("deferral_rate", "deferal_rate")),
     ["'employee_deferal_rate'", "misspelling of employee_deferral_rate"]),
    ("empty_id", census_text(R("E1"), R(" "), R("E3")), ["column employee_id: must not be empty at line 3 "]),
    ("duplicate_id", census_text(R("E1"), R("E2"), R("E1"), R("E1")),
     ["column employee_id: duplicate id 'E1' at lines 2, 4, 5 "]),
    ("bad_birth_date", census_text(R("E1"), R("E2", birth="1980-13-01")),
     ["column employee_birth_date: must be a date YYYY-MM-DD at line 3 "]),
    ("bad_hire_date", census_text(R("E1", hire="15-03-2010"), R("E2", hire="")),
     ["column employee_hire_date: must be a date YYYY-MM-DD at lines 2, 3 "]),
    # A day/month date is a format to convert, not a bad row: the exact conversion and the option that reads it.
    ("day_month_hire_date", census_text(R("E1", hire="15/03/2010"), R("E2")),
     ["column employee_hire_date: dates written as '15/03/2010', not YYYY-MM-DD; they are DD/MM/YYYY",
      "(15/03/2010 -> 2010-03-15)", "--date-format '%d/%m/%Y'", "at line 2"]),
    ("bad_termination_date", census_text(R("E1"), R("E2", term="2024-02-30")),
     ["column employee_termination_date: must be empty or a date YYYY-MM-DD at line 3 "]),
    ("salary_not_positive", census_text(R("E1"), R("E2", salary="abc"), R("E3"), R("E4", salary="-5")),
     ["column employee_gross_compensation: must be a number of at least 0.01 at lines 3, 5 "]),
    ("deferral_out_of_range", census_text(R("E1", deferral="6"), R("E2", deferral="x"), R("E3", deferral="1")),
     ["column employee_deferral_rate: must be empty or a number from 0 to 1 at lines 2, 3 "]),
    ("level_not_1_to_5", census_text(R("E1", level="7"), R("E2", level="2.5"), R("E3", level="5")),
     ["column level_id: must be empty or an integer from 1 to 5 at lines 2, 3 "]),
    ("hire_after_census_date", census_text(R("E1"), R("E2", hire="2025-01-01")),
     ["column employee_hire_date: hire date is after the census date 2024-12-31 at line 3 "]),
    ("termination_before_hire", census_text(R("E1"), R("E2", term="2009-01-01")),
     ["column employee_termination_date: termination date is before the hire date at line 3 "]),
    ("no_active_employee", census_text(R("E1", term="2024-03-01"), R("E2", term="2024-12-31")),
     ["column employee_termination_date: no active employee"]),
    ("ragged_line", census_text(R("E1"), R("E2") + ",extra", R("E3")),
     ["header has 7 fields but line 3 has a different number of fields"]),
    ("blank_lines_and_quoted_newline", census_text("", R("E1"), "", R('"E2\nX"', salary="x"), R("E3", salary="0")),
     ["column employee_gross_compensation: must be a number of at least 0.01 at lines 5, 7 "]),
    ("more_than_five_rows", census_text(*[R(f"E{i}", salary="0") for i in range(8)]),
     ["at lines 2, 3, 4, 5, 6 and 3 more "]),
]


@pytest.mark.parametrize("content, fragments", [d[1:] for d in DEFECTS], ids=[d[0] for d in DEFECTS])
def test_defective_census_is_refused_and_nothing_changes(tmp_path, database, content, fragments):
    path = tmp_path / ("census.xlsx" if content is None else "census.csv")
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content or "")
    before = snapshot(database)
    con = duckdb.connect(str(database))
    with pytest.raises(CensusError) as caught:
        load_census(con, path, CENSUS_DATE)
    con.close()
    message = str(caught.value)
    assert message.startswith(f"Census {path} is invalid (nothing was loaded")
    for fragment in fragments:
        assert fragment in message
    assert snapshot(database) == before


def test_missing_file_is_refused(tmp_path, database):
    before = snapshot(database)
    con = duckdb.connect(str(database))
    with pytest.raises(CensusError, match="not found") as caught:
        load_census(con, tmp_path / "nope.csv", CENSUS_DATE)
    con.close()
    assert str(tmp_path / "nope.csv") in str(caught.value)
    assert snapshot(database) == before


def test_all_problems_are_reported_at_once(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text(census_text(R("E1", salary="0"), R("E1", birth="x"), R("E3", level="9")))
    with pytest.raises(CensusError) as caught:
        validate_census(path, CENSUS_DATE)
    message = str(caught.value)
    assert "line numbers are lines of the file, the header is line 1" in message
    assert len(caught.value.problems) == 4
    for fragment in ["employee_gross_compensation: must be a number of at least 0.01 at line 2 ",
                     "employee_birth_date: must be a date YYYY-MM-DD at line 3 ",
                     "level_id: must be empty or an integer from 1 to 5 at line 4 ",
                     "duplicate id 'E1' at lines 2, 3 "]:
        assert fragment in message


def test_parquet_defect_reports_row_numbers(tmp_path, database):
    source = tmp_path / "good.csv"
    source.write_text(census_text(R("E1"), R("E2"), R("E3", salary="-1"), R("E4", hire="2030-01-01")))
    path = tmp_path / "census.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{source}', all_varchar = true)) TO '{path}' (FORMAT parquet)")
    before = snapshot(database)
    con = duckdb.connect(str(database))
    with pytest.raises(CensusError) as caught:
        load_census(con, path, CENSUS_DATE)
    con.close()
    message = str(caught.value)
    assert f"Census {path} is invalid" in message
    assert "row numbers count the Parquet rows from 1" in message
    assert "column employee_gross_compensation: must be a number of at least 0.01 at row 3 " in message
    assert "column employee_hire_date: hire date is after the census date 2024-12-31 at row 4 " in message
    assert snapshot(database) == before


def test_unknown_columns_that_are_not_typos_are_ignored(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text(census_text(R() + ",Sales", header=HEADER + ",department"))
    assert validate_census(path, CENSUS_DATE).rows == 1
