"""`planwise diff A.duckdb B.duckdb`: per-year deltas of the headline metrics and the configuration differences
of two result databases, refused when their censuses differ (unless --allow-different-census)."""

from __future__ import annotations

import json
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from helpers.sims import SimSpec
from helpers.independent import year_figures
from helpers.money_tables import with_money_layer
from planwise_core.database.runlog import year_span
from planwise_core.outputs.diff import CensusMismatchError, diff_databases, format_diff
from planwise_core.outputs.provenance import flatten
from test_report import SPEC, planwise
from helpers.common import file_sha256 as sha256

# The same census and years as SPEC, a higher termination rate: the scenario a user would compare.
HIGH_TURNOVER = SimSpec.make(SPEC.census, end_year=SPEC.end_year, **{"workforce.total_termination_rate": 0.16})


@pytest.fixture(scope="module")
def databases(sims) -> tuple[Path, Path]:
    sims.prefetch([SPEC, HIGH_TURNOVER])
    return sims.get(SPEC).database, sims.get(HIGH_TURNOVER).database


def summary(database: Path) -> dict[int, tuple]:
    """Head count, payroll, terminations and participation recomputed from the base tables (not the summary mart)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {y: (f["end_headcount"], f["payroll"], f["terminations"], f["enrolled_share_of_actives"])
                for y, f in year_figures(con).items()}

PLAN_METRICS = ("total_employee_deferrals", "total_match", "total_core", "total_employer_gross", "forfeitures_applied",
                "net_employer_cost", "employer_cost_pct_payroll", "participation_rate", "at_402g_limit_share")


def pct(a, b):
    return None if a == 0 else (Decimal(b - a) * 100 / Decimal(a)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_deltas_of_every_headline_metric_and_the_config_key_that_differs(databases):
    first, second = databases
    before = sha256(first), sha256(second)
    result = diff_databases(first, second)
    assert (sha256(first), sha256(second)) == before, "diff must not write to either database"

    assert result["census"] == {"same": True, "basis": "content", "columns": result["census"]["columns"]}
    assert result["years"] == SPEC.years and result["only_in_first"] == result["only_in_second"] == []
    assert [d["key"] for d in result["config"] if d["affects_results"]] == ["workforce.total_termination_rate"]
    change = next(d for d in result["config"] if d["key"] == "workforce.total_termination_rate")
    assert (change["first"], change["second"]) == (0.12, 0.16)

    a, b = summary(first), summary(second)
    metrics = {m["key"]: {r["year"]: r for r in m["years"]} for m in result["metrics"]}
    assert set(metrics) == {"end_headcount", "hires", "terminations", "retirements", "payroll", "enrolled_share_of_actives",
                            "average_deferral_rate", *PLAN_METRICS}  # the default configuration runs the plan
    for year in SPEC.years:
        for key, i in (("end_headcount", 0), ("payroll", 1), ("terminations", 2)):
            row = metrics[key][year]
            assert (row["first"], row["second"]) == (a[year][i], b[year][i])
            assert row["delta"] == b[year][i] - a[year][i] and row["pct_change"] == pct(a[year][i], b[year][i])
        row = metrics["enrolled_share_of_actives"][year]
        assert row["delta"] == b[year][3] - a[year][3]
    assert any(metrics["terminations"][y]["delta"] > 0 for y in SPEC.years), "more turnover must show"

    text = format_diff(result)
    assert "workforce.total_termination_rate: 0.12 -> 0.16" in text
    payroll = metrics["payroll"][SPEC.years[-1]]
    sign = "+" if payroll["delta"] > 0 else "-"
    assert f"{sign}${abs(payroll['delta']):,.2f}" in text and f"{payroll['pct_change']:+.2f}%" in text


def test_plan_cost_deltas_to_the_cent(databases, tmp_path):
    first, _ = with_money_layer(databases[0], tmp_path / "a.duckdb", scale=1)
    second, plan_b = with_money_layer(databases[0], tmp_path / "b.duckdb", scale=3)
    result = diff_databases(first, second)
    metrics = {m["key"]: {r["year"]: r for r in m["years"]} for m in result["metrics"]}
    for year, row in metrics["total_employer_gross"].items():
        # scale 3 against scale 1: the match is three times 1,000.25 + 100.10 k; core half of it, rounded half up
        k = year - SPEC.years[0]
        match = Decimal("1000.25") + Decimal("100.10") * k
        gross = lambda m: m + (m / 2).quantize(Decimal("0.01"), ROUND_HALF_UP)  # noqa: E731
        assert row["delta"] == gross(3 * match) - gross(match) == plan_b[year]["total_employer_gross"] - row["first"]
        assert metrics["total_match"][year]["delta"] == 2 * match
    assert metrics["retirements"][SPEC.years[0]]["delta"] == 0
    assert result["config"] == []
    as_json = json.loads(planwise("diff", first, second, "--json", cwd=tmp_path).stdout)
    cost = next(m for m in as_json["metrics"] if m["key"] == "total_employer_gross")["years"][0]
    assert Decimal(str(cost["delta"])) == metrics["total_employer_gross"][SPEC.years[0]]["delta"]


def test_the_census_is_identified_by_its_content(databases, tmp_path):
    moved = tmp_path / "moved.duckdb"
    shutil.copyfile(databases[0], moved)
    with duckdb.connect(str(moved)) as con:  # the same census read from elsewhere: still the same census
        con.execute("update planwise_run_log set census_path = 'elsewhere/census.csv'")
    result = diff_databases(databases[0], moved)
    assert result["census"]["same"] and result["census"]["basis"] == "content"
    # Every metric equal (forfeitures applied is empty in the first year, on both sides).
    assert all(r["delta"] == 0 or r["first"] is r["second"] is None for m in result["metrics"] for r in m["years"])

    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(databases[0], changed)
    with duckdb.connect(str(changed)) as con:  # one salary differs: another census
        con.execute("update raw.census set employee_gross_compensation = employee_gross_compensation + 1 "
                    "where employee_id = (select min(employee_id) from raw.census)")
    with pytest.raises(CensusMismatchError, match=r"different censuses .*`allow_different_census`"):
        diff_databases(databases[0], changed)
    assert diff_databases(databases[0], changed, allow_different_census=True)["census"]["same"] is False

    unknown = tmp_path / "unknown.duckdb"
    shutil.copyfile(changed, unknown)
    with duckdb.connect(str(unknown)) as con:  # no loaded census, and the run log names none: cannot tell
        con.execute("drop table raw.census")
        con.execute("update planwise_run_log set census_sha256 = null, census_path = null")
    with pytest.raises(CensusMismatchError, match=r"Cannot tell whether .* same census"):
        diff_databases(databases[0], unknown)


def test_flatten_names_every_key():
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "dist": {"0.03": 0.25}, "tiers": [1, 2], "e": {},
                    "x": {"y.z": 2}, "9": 3}) == {
        "a.b": 1, "a.c.d": None, 'dist["0.03"]': 0.25, "tiers": [1, 2], "e": {}, "x.y.z": 2, '["9"]': 3}


def test_year_span_writes_a_gapless_run_as_a_range():
    """The one year-list formatter the diff header and the run log's lineage messages share."""
    assert year_span([]) == "none"
    assert year_span([2027]) == "2027"
    assert year_span([2025, 2026, 2027]) == "2025-2027"
    assert year_span([2025, 2027]) == "2025, 2027"
    assert year_span([2025, 2026, 2028]) == "2025, 2026, 2028"


def test_cli_diff(databases, tmp_path):
    first, second = databases
    proc = planwise("diff", first, second, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"A: {first} (run run_") and lines[2] == "census: same, by content"
    assert "Configuration differences (1):" in lines
    a, b = summary(first)[2027], summary(second)[2027]
    delta = re.escape(f"{b[0] - a[0]:+,}")
    assert re.search(rf"^Head count on Dec 31 \(actives\) +2027 +{a[0]:,} +{b[0]:,} +{delta} +[-+][\d.]+%$",
                     proc.stdout, flags=re.M)

    result = json.loads(planwise("diff", first, second, "--json", cwd=tmp_path).stdout)
    assert result["years"] == SPEC.years and result["first"]["seed"] == 42

    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(first, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("delete from raw.census where employee_id = (select max(employee_id) from raw.census)")
    proc = planwise("diff", first, changed, cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"Error: {first} and {changed} were simulated from different censuses")
    proc = planwise("diff", first, changed, "--allow-different-census", cwd=tmp_path)
    assert proc.returncode == 0 and "census: DIFFERENT (compared anyway" in proc.stdout, proc.stderr

    proc = planwise("diff", first, "missing.duckdb", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: Database missing.duckdb does not exist")
    assert not (tmp_path / "missing.duckdb").exists()


def test_metrics_only_one_database_holds_are_listed_not_compared(databases, tmp_path):
    plan_off = tmp_path / "plan_off.duckdb"  # what plan.enabled: false leaves: the plan marts without rows
    shutil.copyfile(databases[0], plan_off)
    with duckdb.connect(str(plan_off)) as con:
        con.execute("delete from fct_dc_plan_summary")
        con.execute("delete from fct_dc_contributions")
    with_plan, _ = with_money_layer(databases[0], tmp_path / "plan.duckdb")
    result = diff_databases(plan_off, with_plan)
    assert result["metrics_only_in_first"] == []
    assert result["metrics_only_in_second"] == list(PLAN_METRICS)
    assert [m["key"] for m in result["metrics"]] == ["end_headcount", "hires", "terminations", "retirements", "payroll",
                                                     "enrolled_share_of_actives", "average_deferral_rate"]
    assert "only in B (not compared): total_employee_deferrals" in format_diff(result)
