"""Where users see the nondiscrimination results (docs/ndt.md, docs/cli.md): `planwise ndt`, the summary's NDT
lines, the report's section (in a real browser), export and the workbook, and `diff` between a non-safe-harbor
design that fails the ADP (test_ndt_invariants' design A) and a safe-harbor design (B) of the same census."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from helpers.sql import rows
from helpers.cli import clean_failure, planwise
from helpers.common import html_section
from test_money_invariants import SPEC as NDT_OFF
from test_ndt_invariants import DESIGN_A, DESIGN_B
from test_report import body_attributes, browse, chart_elements

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def databases(sims):
    sims.prefetch([DESIGN_A, DESIGN_B])
    return sims.get(DESIGN_A).database, sims.get(DESIGN_B).database


def summary_rows(database, test="adp") -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return rows(con, "select simulation_year, status, total_excess, qnec_cost from fct_ndt_summary "
                         "where test = ? and test_group = 'main' order by 1", [test])


def test_planwise_ndt_prints_each_year_and_json_is_exact(databases):
    a, _ = databases
    year, status, excess, qnec = summary_rows(a)[0]
    assert status == "fail" and excess > 0
    with duckdb.connect(str(a), read_only=True) as con:  # the correction is the sum of the employees' excess
        assert rows(con, "select sum(adp_excess) from fct_ndt_employee where simulation_year = ?", [year]) == [(excess,)]
    text = planwise("ndt", "--database", a, "--year", year)
    assert text.returncode == 0, text.stderr
    line = next(row for row in text.stdout.splitlines() if re.match(rf"{year} adp\s+main", row))
    assert "fail" in line and f"correction ${excess:,.2f}" in line
    assert {row.split()[0] for row in text.stdout.splitlines()} == {str(year)}
    data = json.loads(planwise("ndt", "--database", a, "--json").stdout)
    adp = next(r for r in data if (r["simulation_year"], r["test"], r["test_group"]) == (year, "adp", "main"))
    assert Decimal(adp["total_excess"]) == excess and adp["status"] == "fail"


def test_planwise_ndt_refuses_a_database_without_ndt(sims):
    proc = planwise("ndt", "--database", sims.get(NDT_OFF).database)
    clean_failure(proc, 1, "no nondiscrimination results", "plan.ndt.enabled")


def test_summary_prints_one_ndt_line_per_year(databases):
    a, _ = databases
    out = planwise("summary", "--database", a).stdout
    lines = [row for row in out.splitlines() if row.startswith("NDT ")]
    assert len(lines) == 5 and lines[0].startswith("NDT 2025: ADP fail")
    data = json.loads(planwise("summary", "--database", a, "--json").stdout)
    assert data[0]["ndt"]["adp"] == "fail" and Decimal(data[0]["ndt"]["total_correction"]) > 0


def test_report_section_renders_with_its_numbers(databases, tmp_path):
    a, _ = databases
    page_path = tmp_path / "ndt.html"
    assert planwise("report", "--database", a, "--out", page_path).returncode == 0
    page = page_path.read_text(encoding="utf-8")
    section = html_section(page, "ndt")
    charts = chart_elements(section)
    assert set(charts) == {"ndt-adp", "ndt-acp"}
    year, status, excess, _ = summary_rows(a)[0]
    first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", charts["ndt-adp"], flags=re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first_row)
    assert cells[0] == str(year) and cells[1] == status and cells[6] == f"${excess:,.2f}"
    assert "Top-heavy by year" in section
    attrs = body_attributes(browse(page_path, tmp_path, "--dump-dom").stdout)
    assert "data-script-error" not in attrs
    assert attrs.get("data-charts-rendered") == attrs.get("data-charts-total") == str(len(chart_elements(page)))


def test_export_and_workbook_hold_both_tables(databases, tmp_path):
    a, _ = databases
    assert planwise("export", "--database", a, "--format", "xlsx", "--out", tmp_path / "per_year").returncode == 0
    book = openpyxl.load_workbook(tmp_path / "per_year" / "results.xlsx", read_only=True)
    assert book.sheetnames == ["summary", "plan_summary", "ndt_summary", "metadata"]  # the per-year default
    assert planwise("export", "--database", a, "--format", "xlsx", "--detail", "--out", tmp_path).returncode == 0
    book = openpyxl.load_workbook(tmp_path / "results.xlsx", read_only=True)
    assert {"ndt_summary", "ndt_employee"} <= set(book.sheetnames)
    with duckdb.connect(str(a), read_only=True) as con:
        counts = {t: rows(con, f"select count(*) from fct_{t}")[0][0] for t in ("ndt_summary", "ndt_employee")}
    assert {t: book[t].max_row - 1 for t in counts} == counts
    assert planwise("export", "--database", a, "--format", "csv", "--out", tmp_path / "csv").returncode == 0
    assert (tmp_path / "csv" / "ndt_summary.csv").exists() and (tmp_path / "csv" / "ndt_employee.csv").exists()


def test_diff_shows_the_tests_and_corrections_of_both_designs(databases):
    a, b = databases
    result = json.loads(planwise("diff", a, b, "--json").stdout)
    first = next(r for r in result["ndt"] if (r["year"], r["test"]) == (2025, "adp"))
    excess = summary_rows(a)[0][2]
    assert (first["first_status"], first["second_status"]) == ("fail", "exempt")
    assert Decimal(first["first_correction"]) == excess and Decimal(first["delta_correction"]) == -excess
    text = planwise("diff", a, b).stdout
    assert f"2025 adp main: fail -> exempt; correction ${excess:,.2f} -> $0.00" in text
    # The cost of each design (safe harbor against match + graded core): the employer cost of each year.
    cost = next(m for m in result["metrics"] if m["key"] == "total_employer_gross")["years"][0]
    for database, side in ((a, "first"), (b, "second")):
        with duckdb.connect(str(database), read_only=True) as con:
            assert rows(con, "select total_employer_gross from fct_dc_plan_summary where simulation_year = 2025") == \
                [(Decimal(str(cost[side])),)]


def test_batch_rows_carry_each_runs_ndt_results(databases):
    from planwise_core.batch.store import run_year_rows

    a, _ = databases
    found = {r["simulation_year"]: r for r in run_year_rows(a, 2025, 2029)}
    year, status, excess, _ = summary_rows(a)[0]
    assert found[year]["ndt_adp"] == status == "fail"
    with duckdb.connect(str(a), read_only=True) as con:
        total = rows(con, "select sum(total_correction) from fct_ndt_summary where simulation_year = ?", [year])[0][0]
    assert Decimal(found[year]["ndt_total_correction"]) == total


def test_batch_report_shows_the_scenarios_tests_side_by_side(tmp_path):
    from planwise_core.batch.store import write_batch_database
    from planwise_core.report.batch_report import write_batch_report

    info = {"batch_id": "b-ndt", "kind": "scenarios", "source": "batch.yaml", "output": "out"}
    runs = [{"run_id": f"{s}-{seed}", "scenario": s, "seed": seed, "status": "completed", "completed_years": 1,
             "database": f"{s}.duckdb"} for s, seed in (("match", 1), ("match", 2), ("safe_harbor", 1))]
    years = [{"run_id": f"{s}-{seed}", "scenario": s, "seed": seed, "simulation_year": 2025, "end_headcount": 100,
              "ndt_adp": adp, "ndt_acp": "pass", "ndt_top_heavy": th, "ndt_total_correction": cost}
             for s, seed, adp, th, cost in (("match", 1, "fail", "pass", "1000.10"), ("match", 2, "pass", "pass", "0.00"),
                                           ("safe_harbor", 1, "exempt", "exempt", "0.00"))]
    database = write_batch_database(tmp_path / "batch.duckdb", info, runs, years)
    page = write_batch_report(database, tmp_path / "batch.html").read_text(encoding="utf-8")
    body = html_section(page, "ndt")
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]
    assert [c for c in cells if c] == [["match", "2025", "fail 1/2, pass 1/2", "pass 2/2", "pass 2/2", "$500.05"],
                     ["safe_harbor", "2025", "exempt", "pass", "exempt", "$0.00"]]
