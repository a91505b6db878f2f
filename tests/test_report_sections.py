"""The report's analyst sections: headline by year with the change over the horizon, the plan cost (from a
hand-built fct_dc_plan_summary with the documented columns, tests/money_tables.py), retirements, the
baseline census profile, the parameter tables in force; the page with every section in headless Chromium."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from helpers.sims import SimSpec
from helpers.sql import rows
from helpers.common import html_section as section
from helpers.common import money_text as money
from helpers.independent import year_figures
from helpers.money_tables import with_money_layer
from planwise_core.report.run_report import write_report
from test_report import (PLAN_CHARTS, SPEC, body_attributes, browse, chart_elements, figure_table, keep_screenshot)


@pytest.fixture(scope="module")
def database(sims) -> Path:
    return sims.get(SPEC).database


@pytest.fixture(scope="module")
def plan_off_database(sims) -> Path:
    return sims.get(SimSpec.make(SPEC.census, end_year=SPEC.end_year, **{"plan.enabled": False})).database


@pytest.fixture(scope="module")
def plan_database(database, tmp_path_factory) -> tuple[Path, dict]:
    return with_money_layer(database, tmp_path_factory.mktemp("plan") / "plan.duckdb")


@pytest.fixture(scope="module")
def plan_report(plan_database) -> Path:
    return write_report(plan_database[0], plan_database[0].with_name("plan.html"))


def table_after(fragment: str, marker: str = "") -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the first data table after ``marker`` in ``fragment``."""
    table = re.search(r'<table class="data">(.*?)</table>', fragment[fragment.index(marker):], flags=re.S).group(1)
    body = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table)]
    return re.findall(r"<th>(.*?)</th>", table), [cells for cells in body if cells]


def signed_money(value) -> str:
    return ("-" if value < 0 else "+" if value else "") + f"${abs(value):,.2f}"


def share_text(fraction: Decimal) -> str:
    """Fixed 2 decimals, half up: 0.033105 -> 3.31%."""
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"


def pct_change(first, last) -> str:
    return f"{(Decimal(last - first) * 100 / Decimal(first)).quantize(Decimal('0.01'), ROUND_HALF_UP):+.2f}%"


def test_headline_without_the_plan_layer_says_so(plan_off_database, tmp_path):
    database = plan_off_database
    page = write_report(database, tmp_path / "r.html").read_text(encoding="utf-8")
    headline = section(page, "headline")
    headers, body = table_after(headline)
    assert headers == ["year", "Head count on Dec 31 (actives)", "Payroll (prorated compensation)",
                       "Enrolled share of all actives", "Retirements"]
    with duckdb.connect(str(database), read_only=True) as con:  # recomputed from the snapshot and the events
        summary = [(y, f["end_headcount"], f["payroll"], f["enrolled_share_of_actives"], f["retirements"])
                   for y, f in sorted(year_figures(con).items())]
    assert [row[:4] for row in body[:-2]] == [[str(y), f"{h:,}", money(p), f"{100 * share:.2f}%"]
                                             for y, h, p, share, _ in summary]
    assert [row[4] for row in body[:-2]] == [str(r) for *_, r in summary]
    (y0, h0, p0, r0, _), (y1, h1, p1, r1, _) = summary[0], summary[-1]
    assert body[-2][:4] == [f"change {y0}–{y1}", f"{h1 - h0:+,}", signed_money(p1 - p0),
                            f"{100 * (Decimal(str(r1)) - Decimal(str(r0))):+.2f} pp"]
    assert body[-1][:4] == [f"change {y0}–{y1}, %", pct_change(h0, h1), pct_change(p0, p1),
                            pct_change(Decimal(str(r0)), Decimal(str(r1)))]
    assert "the plan's money layer\nwas not run" in headline
    plan = section(page, "plan")
    assert "no fct_dc_plan_summary table" in plan and 'data-chart="employer-cost"' not in plan
    assert 'data-chart="retirements"' in page  # the workforce model always counts them


def test_plan_cost_section_from_the_money_tables(plan_report, plan_database):
    page = plan_report.read_text(encoding="utf-8")
    _, plan = plan_database
    years = sorted(plan)
    assert list(chart_elements(page)) == list(PLAN_CHARTS)
    headers, body = figure_table(chart_elements(page)["employer-cost"])
    assert headers == ["year", "match", "core", "employer cost", "forfeitures applied", "net employer cost",
                       "cost % of payroll"]
    assert body == [[str(y), money(plan[y]["total_match"]), money(plan[y]["total_core"]),
                     money(plan[y]["total_employer_gross"]),
                     "–" if plan[y]["forfeitures_applied"] is None else money(plan[y]["forfeitures_applied"]),
                     money(plan[y]["net_employer_cost"]), f"{100 * plan[y]['employer_cost_pct_payroll']:.2f}%"]
                    for y in years]
    # match + core = employer cost, to the cent; net = gross - applied
    assert all(plan[y]["total_match"] + plan[y]["total_core"] == plan[y]["total_employer_gross"] for y in years)

    headers, body = table_after(section(page, "headline"))
    assert headers == ["year", "Head count on Dec 31 (actives)", "Payroll (prorated compensation)",
                       "Employer cost (match + core, before forfeitures)", "Employer cost, share of plan compensation",
                       "Participation (enrolled share of eligible)", "Net employer cost (after forfeitures)",
                       "Retirements"]
    first, last = plan[years[0]], plan[years[-1]]
    assert [r[3] for r in body[:-2]] == [money(plan[y]["total_employer_gross"]) for y in years]
    # the cost share as stored (6 dp) shown with 2 fixed decimals, half up: 0.033105 -> 3.31%
    assert [r[4] for r in body[:-2]] == [share_text(plan[y]["employer_cost_pct_payroll"]) for y in years]
    assert [r[7] for r in body[:-2]] == [str(y - 2020) for y in years]
    gross_change = last["total_employer_gross"] - first["total_employer_gross"]
    assert body[-2][3] == signed_money(gross_change)
    assert body[-1][3] == pct_change(first["total_employer_gross"], last["total_employer_gross"])

    headers, body = table_after(section(page, "plan"), "Plan cost and contributions by year")
    limit = "Share of contributors at the 402(g) limit"
    assert headers[:3] == ["year", "plan compensation", "eligible (Dec 31)"] and limit in headers
    share = headers.index(limit)
    assert [r[share] for r in body] == [f"{100 * plan[y]['at_402g_limit_share']:.2f}%" for y in years]
    assert "no fct_dc_plan_summary table" not in page

    retirements = figure_table(chart_elements(page)["retirements"])
    assert [r[:2] for r in retirements[1]] == [[str(y), str(y - 2020)] for y in years]


def test_assumptions_list_every_seed_and_the_irs_limits_with_their_status(plan_report, plan_database):
    page = plan_report.read_text(encoding="utf-8")
    assumptions = section(page, "assumptions")
    with duckdb.connect(str(plan_database[0]), read_only=True) as con:
        seeds = [r[0] for r in rows(con, "select table_name from information_schema.tables "
                                         "where table_schema = 'assumptions' order by 1")]
        levels = rows(con, "select level_id, level_name, merit_rate from assumptions.job_levels order by 1")
    shown = re.findall(r'data-seed="([^"]+)"', assumptions)
    # The IRS limits are shown by year with their status (the model), instead of the raw table.
    assert len(seeds) == 11 and set(shown) == set(seeds) - {"irs_limits"} | {"int_irs_limits_by_year"}
    assert shown[:3] == ["job_levels", "age_bands", "tenure_bands"]
    # each parameter table says where it came from and its hash (the run log's record)
    assert re.search(r"Job levels: [^<]* — built-in, sha256 [0-9a-f]{12}", assumptions)
    assert ">planwise version</dt><dd>" in assumptions and ">parameter tables</dt><dd>all built-in<" in assumptions
    headers, body = table_after(assumptions, 'data-seed="job_levels"')
    assert [[r[0], r[1], r[headers.index("merit_rate")]] for r in body] == [
        [str(lvl), name, format(Decimal(str(rate)).normalize(), "f")] for lvl, name, rate in levels]
    # The IRS limits of the simulated years only, each with its status.
    headers, body = table_after(assumptions, 'data-seed="int_irs_limits_by_year"')
    status = headers.index("status")
    assert [(r[0], r[status]) for r in body] == [("2025", "published"), ("2026", "published"), ("2027", "projected")]
    assert re.search(r"Retirement rates by age", assumptions)
    assert '>seed</dt><dd>42<' in assumptions


def test_baseline_shows_the_census_profile_it_is_given(database, tmp_path):
    profile = {"file": "census.csv", "rows": 800, "warnings": ["2 hire dates after the census date"],
               "age_bands": [{"band": "<25", "count": 31}, {"band": "25-34", "count": 190}],
               "pay_percentiles_by_level": {"1": {"p10": 50_000, "p50": 61_000}, "2": {"p10": 84_000, "p50": 97_500}},
               "participation": {"enrolled": 500, "rate": 0.625}}
    page = write_report(database, tmp_path / "r.html", census_profile=profile).read_text(encoding="utf-8")
    baseline = section(page, "baseline")
    assert "no-profile" not in baseline
    assert "<dt>rows</dt><dd>800</dd>" in baseline and "2 hire dates after the census date" in baseline
    assert table_after(baseline, "age_bands") == (["band", "count"], [["&lt;25", "31"], ["25-34", "190"]])
    assert table_after(baseline, "pay_percentiles_by_level") == (
        ["pay_percentiles_by_level", "p10", "p50"], [["1", "50000", "61000"], ["2", "84000", "97500"]])
    assert table_after(baseline, "participation")[1] == [["enrolled", "500"], ["rate", "0.625"]]

    # Without one, the page profiles the run's own baseline (planwise_core.census.profile.report_profile).
    bare = section(write_report(database, tmp_path / "bare.html").read_text(encoding="utf-8"), "baseline")
    with duckdb.connect(str(database), read_only=True) as con:
        actives = con.execute("select count(*) from int_baseline_workforce").fetchone()[0]
    assert "no-profile" not in bare and f"<dt>actives</dt><dd>{actives:,}</dd>" in bare
    # PlanWise's own profile in formatted tables: levels with pay percentiles to the cent, bands with shares.
    headers, body = table_after(bare, "Actives and annual pay by level")
    assert headers == ["level", "name", "actives", "p10", "p25", "median", "p75", "p90", "mean", "payroll"]
    with duckdb.connect(str(database), read_only=True) as con:
        levels = rows(con, "select level_id, count(*), sum(current_compensation) from int_baseline_workforce "
                           "group by 1 order by 1")
    assert [(int(r[0]), int(r[2].replace(",", "")), r[9]) for r in body] == [
        (level, n, f"${payroll:,.2f}") for level, n, payroll in levels]
    assert all(re.fullmatch(r"\$[\d,]+\.\d\d", cell) for r in body for cell in r[3:])
    headers, ages = table_after(bare, "Actives by age band")
    assert headers == ["band", "actives", "share"] and sum(int(r[1]) for r in ages) == actives
    assert "{" not in bare and "e+" not in bare  # no raw dicts, no float exponents


def test_the_page_with_every_section_renders_in_a_real_browser(plan_report, tmp_path):
    expected = len(PLAN_CHARTS)
    attrs = body_attributes(browse(plan_report, tmp_path, "--dump-dom").stdout)
    assert "data-script-error" not in attrs, attrs["data-script-error"]
    assert attrs.get("data-charts-total") == str(expected) and attrs.get("data-charts-rendered") == str(expected), attrs
    keep_screenshot(plan_report, tmp_path, "report-plan.png", height=12000)


def test_a_band_without_actives_is_a_dash_not_zero_percent():
    from planwise_core.report.plan_figures import participation_by_band_figure

    figure = participation_by_band_figure({"age": {"cells": {(2025, "<25"): (10, 5)}, "bands": ["<25", "25-34"]},
                                           "years": [2025]}, "age")
    shown = str(figure.plot) + str(figure.table)
    assert "50.00% (5 of 10 actives enrolled)" in shown and "25-34, 2025: – (no actives)" in shown
    assert "0 of 0" not in shown
