"""`planwise export --format xlsx`: one workbook written by XlsxWriter, read back by other readers (openpyxl for
every sheet, LibreOffice headless for the first) and checked against the database; formula injection,
the Excel row limit, the metadata sheet and --years."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import json
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from helpers.money_tables import with_money_layer
from planwise_core.errors import PlanwiseError
from planwise_core.outputs.export import export_results
from planwise_core.outputs.xlsx import EXCEL_MAX_ROWS, write_workbook
from test_export import SPEC, planwise

SHEETS = ["summary", "plan_summary", "events", "snapshot", "metadata"]
QUERIES = {"summary": "select * from fct_year_summary order by simulation_year",
           "plan_summary": "select * from fct_dc_plan_summary order by simulation_year",
           "events": "select * from fct_yearly_events order by simulation_year, employee_id, event_sequence, event_id",
           "snapshot": "select s.*, a.age_band_id, t.tenure_band_id from fct_workforce_snapshot s "
                       "join stg_age_bands a on a.age_band = s.age_band "
                       "join stg_tenure_bands t on t.tenure_band = s.tenure_band order by simulation_year, employee_id"}
INJECTIONS = ("=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "=HYPERLINK(\"http://x\")")


@pytest.fixture(scope="module")
def plan_database(sims, tmp_path_factory) -> Path:
    """The export test's run with the plan tables added (tests/money_tables.py)."""
    return with_money_layer(sims.get(SPEC).database, tmp_path_factory.mktemp("xlsx") / "plan.duckdb")[0]


@pytest.fixture(scope="module")
def workbook(plan_database) -> Path:
    return export_results(plan_database, "xlsx", plan_database.parent / "out", detail=True)[0]


def as_stored(cell, value):
    """What openpyxl read, in the database's type: numbers compared exactly to the cent, dates as dates."""
    if value is None or cell is None:
        return cell
    if isinstance(value, Decimal):
        return Decimal(repr(cell)).quantize(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return cell.date()
    return cell


def sheet_rows(book, name: str) -> list[tuple]:
    return list(book[name].iter_rows(values_only=True))


def test_every_sheet_holds_its_table_read_back_by_openpyxl(workbook, plan_database):
    assert workbook.name == "results.xlsx"
    assert sorted(p.name for p in workbook.parent.iterdir()) == ["results.xlsx"], "no temporary file left"
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert book.sheetnames == SHEETS
    with duckdb.connect(str(plan_database), read_only=True) as con:
        for name, query in QUERIES.items():
            cur = con.execute(query)
            columns, expected = [d[0] for d in cur.description], cur.fetchall()
            got = sheet_rows(book, name)
            assert list(got[0]) == columns, name
            assert len(got) - 1 == len(expected) > 0, name
            assert [tuple(as_stored(c, v) for c, v in zip(row, values)) for row, values in zip(got[1:], expected)] \
                == expected, f"sheet {name} differs from its table"
        payroll = con.execute("select sum(prorated_annual_compensation) from fct_workforce_snapshot").fetchone()[0]
    summary = sheet_rows(book, "summary")
    column = summary[0].index("payroll")
    assert sum(Decimal(repr(r[column])) for r in summary[1:]) == payroll  # to the cent
    styled = openpyxl.load_workbook(workbook)  # not read-only: number formats
    assert styled["summary"].cell(row=2, column=column + 1).number_format == "#,##0.00"
    assert styled["events"]["F2"].number_format == "yyyy-mm-dd"  # effective_date


def test_libreoffice_reads_the_same_summary(workbook, plan_database, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        if os.environ.get("CI"):  # .ci/run installs it: in CI the independent reader must not be skipped
            pytest.fail("LibreOffice is not installed (soffice not found), and CI must read the workbook with it")
        pytest.skip("LibreOffice is not installed (openpyxl already read every sheet)")
    proc = subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "csv",
                           "--outdir", str(tmp_path), str(workbook)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "results.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    with duckdb.connect(str(plan_database), read_only=True) as con:
        cur = con.execute(QUERIES["summary"])
        expected = [[d[0] for d in cur.description], *cur.fetchall()]
    assert rows[0] == expected[0]
    payroll, hires = expected[0].index("payroll"), expected[0].index("hires")
    assert [(int(r[0]), int(r[hires]), Decimal(r[payroll])) for r in rows[1:]] == \
        [(r[0], r[hires], r[payroll]) for r in expected[1:]]


def test_strings_never_become_formulas(plan_database, tmp_path):
    hostile = tmp_path / "hostile.duckdb"
    shutil.copyfile(plan_database, hostile)
    with duckdb.connect(str(hostile)) as con:
        ids = [r[0] for r in con.execute("select distinct employee_id from fct_workforce_snapshot order by 1 limit 5")
               .fetchall()]
        for old, new in zip(ids, INJECTIONS):
            con.execute("update fct_workforce_snapshot set employee_id = ? where employee_id = ?", [new, old])
    path = export_results(hostile, "xlsx", tmp_path / "out", tables="snapshot")[0]
    with zipfile.ZipFile(path) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml, "a cell holds a formula"
    book = openpyxl.load_workbook(path)
    cells = [c for row in book["snapshot"].iter_rows(min_row=2, max_col=1) for c in row]
    hits = {c.value for c in cells if c.value in INJECTIONS}
    assert hits == set(INJECTIONS)
    assert all(c.data_type == "s" for c in cells if c.value in INJECTIONS)


def test_a_table_longer_than_a_sheet_is_split_into_numbered_sheets(plan_database, tmp_path):
    assert EXCEL_MAX_ROWS == 1_048_576
    assert inspect.signature(write_workbook).parameters["per_sheet"].default == EXCEL_MAX_ROWS - 1  # + header
    with duckdb.connect(str(plan_database), read_only=True) as con:
        expected = con.execute(QUERIES["events"]).fetchall()
        path = write_workbook(con, tmp_path / "split.xlsx", [("events", QUERIES["events"])], [("k", "v")],
                              per_sheet=1000)
    book = openpyxl.load_workbook(path, read_only=True)
    parts = -(-len(expected) // 1000)
    names = ["events", *(f"events_{i}" for i in range(2, parts + 1))]
    assert book.sheetnames == [*names, "metadata"]
    got = []
    for name in names:
        rows = sheet_rows(book, name)
        assert rows[0][0] == "event_id" and 0 < len(rows) - 1 <= 1000
        got += rows[1:]
    assert [r[0] for r in got] == [r[0] for r in expected]  # every event once, in order
    meta = dict(sheet_rows(book, "metadata")[1:])
    assert meta["sheet events"] == "rows 1-1000" and meta[f"sheet events_{parts}"] == \
        f"rows {1000 * (parts - 1) + 1}-{len(expected)}"


def test_metadata_and_years(plan_database, tmp_path):
    path = export_results(plan_database, "xlsx", tmp_path, years=(2026, 2027), detail=True)[0]
    book = openpyxl.load_workbook(path, read_only=True)
    meta = dict(sheet_rows(book, "metadata")[1:])
    with duckdb.connect(str(plan_database), read_only=True) as con:
        run_id, config_json, census = con.execute(
            "select run_id, config_json, census_path from planwise_run_log").fetchone()
        events = con.execute("select count(*) from fct_yearly_events where simulation_year between 2026 and 2027") \
            .fetchone()[0]
    assert meta["planwise version"] == "0.1.0" and meta["run id"] == run_id and meta["seed"] == 42
    assert meta["census file"] == census and len(meta["census content sha256"]) == 64
    assert json.loads(meta["configuration"]) == json.loads(config_json)
    assert meta["config workforce.total_termination_rate"] == 0.12
    assert meta["run's planwise version"] == "0.1.0"
    assert re.fullmatch(r"[0-9a-f]{64} \(built-in\)", meta["table job_levels"])
    assert meta["years exported"] == "2026-2027"
    assert meta["tables exported"] == "summary, plan_summary, events, snapshot"  # the tables this database has
    assert dt.datetime.fromisoformat(meta["created at"]).tzinfo is not None
    assert [r[0] for r in sheet_rows(book, "summary")[1:]] == [2026, 2027]
    assert len(sheet_rows(book, "events")) - 1 == events
    assert {r[2] for r in sheet_rows(book, "events")[1:]} == {2026, 2027}
    with pytest.raises(PlanwiseError, match=r"`years` 2027-2030: .* holds 2025-2027, not 2028, 2029, 2030"):
        export_results(plan_database, "xlsx", tmp_path / "none", years=(2027, 2030))
    assert not (tmp_path / "none").exists()


def test_cli_export_xlsx_with_years(sims, tmp_path):
    database = sims.get(SPEC).database
    proc = planwise("export", "--database", database, "--format", "xlsx", "--years", "2026", "--out", "x", "--detail",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"wrote {Path('x') / 'results.xlsx'}"]
    book = openpyxl.load_workbook(tmp_path / "x" / "results.xlsx", read_only=True)
    # The default configuration runs the plan layer: its two tables get their sheets.
    assert book.sheetnames == ["summary", "plan_summary", "events", "snapshot", "contributions", "metadata"]
    assert [r[0] for r in sheet_rows(book, "summary")[1:]] == [2026]
    with duckdb.connect(str(database), read_only=True) as con:
        events = con.execute("select count(*) from fct_yearly_events where simulation_year = 2026").fetchone()[0]
    # Progress on stderr, one line per table with its rows; stdout keeps only the file written.
    assert f"export: events: {events:,} rows in " in proc.stderr and "export: contributions: " in proc.stderr
    for bad, message in (("2029-2027", "runs backwards"), ("27", "give one year"), ("2031", "holds 2025-2027")):
        proc = planwise("export", "--database", database, "--format", "xlsx", "--years", bad, "--out", "y",
                        cwd=tmp_path)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "y").exists()


def test_the_default_workbook_holds_the_per_year_tables_and_tables_choose(sims, tmp_path):
    database = sims.get(SPEC).database
    proc = planwise("export", "--database", database, "--format", "xlsx", "--out", "x", "--quiet", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    book = openpyxl.load_workbook(tmp_path / "x" / "results.xlsx", read_only=True)
    assert book.sheetnames == ["summary", "plan_summary", "metadata"]
    assert dict(sheet_rows(book, "metadata")[1:])["tables exported"] == "summary, plan_summary"
    proc = planwise("export", "--database", database, "--format", "csv", "--tables", "plan_summary, summary",
                    "--out", "c", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["plan_summary.csv", "summary.csv"]
    for args, message in ((["--tables", "summary,payroll"], "--tables 'summary,payroll': unknown table 'payroll'; "
                           "choose among summary, plan_summary, ndt_summary, events, snapshot, contributions, ndt_employee"),
                          (["--tables", "summary", "--detail"], "--tables and --detail both choose the tables")):
        proc = planwise("export", "--database", database, "--format", "xlsx", "--out", "y", *args, cwd=tmp_path)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "y").exists()
