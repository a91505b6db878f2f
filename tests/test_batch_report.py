"""The batch report: a self-contained HTML page over batch.duckdb, checked as text and in headless chromium.

The batch databases are built by batch_store.write_batch_database from hand-written rows, so every
number on the page can be checked against values worked out here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from planwise_core.batch.store import write_batch_database
from planwise_core.outputs.metrics import BATCH_METRICS as METRICS
from planwise_core.report.batch_report import axis_labels, write_batch_report
from planwise_core.errors import PlanwiseError
from test_report import body_attributes, browse, chart_elements, figure_table
from helpers.common import html_section as section

YEARS = (2025, 2026, 2027)
# scenario -> seed -> one row per year: head count, hires, terminations, payroll, enrolled share, deferral rate
RESULTS = {
    "baseline": {42: [(1000, 120, 90, 60_000_000, 0.705, 0.05), (1030, 125, 95, 62_400_000, 0.7125, 0.0512),
                      (1061, 130, 99, 64_900_000, 0.72, 0.0525)]},
    "high_growth": {
        1: [(1050, 160, 110, 63_000_000, 0.68, 0.048), (1120, 170, 100, 67_000_000, 0.69, 0.049),
            (1190, 180, 110, 71_500_000, 0.7, 0.050)],
        2: [(1030, 150, 120, 61_800_000, 0.67, 0.047), (1060, 150, 120, 63_600_000, 0.675, 0.047),
            (1100, 160, 120, 66_000_000, 0.68, 0.048)],
        3: [(1040, 155, 115, 62_400_000, 0.675, 0.0475), (1090, 160, 110, 65_400_000, 0.685, 0.048),
            (1130, 165, 125, 67_800_000, 0.69, 0.0490)],
    },
}
ERROR = "year 2026: model <b>int_hiring_events</b> failed & the run stopped"
INVALID = "employee_match.max_match_pct must be at most 1 (got 1.5)"
ROOT = Path(__file__).resolve().parent.parent
CHARTS = [f"scenarios-{m}" for m in METRICS] + [f"fan-high_growth-{m}" for m in METRICS]
INFO = {"batch_id": "b-20250101", "kind": "scenarios", "source": "config/batch.yaml", "output": "out/batch"}


def run(scenario: str, seed: int, status: str = "completed", error: str | None = None, **more) -> dict:
    return {"run_id": f"{scenario}-{seed}", "scenario": scenario, "seed": seed, "status": status, "error": error,
            "seconds": 2.5, "completed_years": 3 if status == "completed" else 0, "reused": seed == 2,
            "worker": f"w{seed % 2}", "database": f"runs/{scenario}-{seed}.duckdb", **more}


def year_rows() -> list[dict]:
    return [{"run_id": f"{scenario}-{seed}", "scenario": scenario, "seed": seed, "simulation_year": year,
             **dict(zip(METRICS, values))}
            for scenario, seeds in RESULTS.items() for seed, rows in seeds.items()
            for year, values in zip(YEARS, rows)]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    runs = [run(s, seed) for s, seeds in RESULTS.items() for seed in seeds]
    runs += [run("high_growth", 4, "failed", ERROR, completed_years=1),
             run("bad_design", 7, "invalid", INVALID, seconds=None)]
    return write_batch_database(tmp_path_factory.mktemp("batch") / "batch.duckdb", INFO, runs, year_rows())


@pytest.fixture(scope="module")
def report(batch) -> Path:
    return write_batch_report(batch, batch.parent / "report" / "batch.html")


def table_rows(fragment: str) -> list[tuple[str, list[str]]]:
    """(row class, cell texts) of every body row in ``fragment``."""
    rows = re.findall(r'<tr(?: class="(\w+)")?>(.*?)</tr>', fragment, flags=re.S)
    return [(cls, re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)) for cls, body in rows if "<td" in body]


def cells(fragment: str, first: str) -> list[str]:
    """The cells of the first body row in ``fragment`` whose first cell is ``first``."""
    return next(row for _, row in table_rows(fragment) if row[0] == first)


def test_page_is_self_contained_with_the_expected_charts(report):
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"https?://", page)
    assert not re.search(r"<link|<img|<iframe|\bsrc=|@import|url\(", page)
    assert page.count("<script") == 1
    assert "<title>PlanWise batch report — config/batch.yaml</title>" in page

    charts = chart_elements(page)
    assert list(charts) == CHARTS  # no fan charts for baseline (one seed) nor bad_design (no results)
    for name, element in charts.items():
        assert re.search(r'<(rect|path|circle) class="mark', element), name
    for metric in METRICS:  # one line per scenario with results, none for bad_design; the baseline's drawn last
        lines = re.findall(r'<path class="mark line([^"]*)"', charts[f"scenarios-{metric}"])
        assert lines == ["", " baseline"]
        fan = charts[f"fan-high_growth-{metric}"]
        assert fan.count('<path class="mark band"') == 1 and fan.count('class="mark line dashed"') == 2
    assert ">high_growth: Head count on Dec 31 (actives) — P10/P50/P90 over 3 seeds<" in page
    assert "linear interpolation" in page
    assert "<title>baseline · 2027: 1,061 (mean of 1 run)</title>" in charts["scenarios-end_headcount"]
    assert "<title>high_growth · 2027: 1,140 (mean of 3 runs; P10–P90 1,106 – 1,178)</title>" \
        in charts["scenarios-end_headcount"]
    # The P50 tooltip of 2027 headcount: sorted 1100, 1130, 1190.
    assert "<title>2027: P50 1,130; P10–P90 1,106 – 1,178; min–max 1,100 – 1,190; mean 1,140 (3 seeds)</title>" \
        in charts["fan-high_growth-end_headcount"]


def test_overview_and_runs_table(report):
    page = report.read_text(encoding="utf-8")
    cards = dict(re.findall(r"<div class=card><span>(.*?)</span><b>(.*?)</b></div>", page))
    assert cards == {"planned runs": "6", "completed": "4", "failed": "1", "invalid": "1", "scenarios": "3",
                     "years": "2025–2027", "total run seconds": "12.5s"}

    runs = page[page.index('id="runs"'):page.index('id="scenarios"')]
    escaped = "year 2026: model &lt;b&gt;int_hiring_events&lt;/b&gt; failed &amp; the run stopped"
    assert table_rows(runs) == [
        ("invalid", ["bad_design", "7", "invalid", "–", "0", "no", "w1", INVALID]),
        ("", ["baseline", "42", "completed", "2.50", "3", "no", "w0", ""]),
        ("", ["high_growth", "1", "completed", "2.50", "3", "no", "w1", ""]),
        ("", ["high_growth", "2", "completed", "2.50", "3", "yes", "w0", ""]),
        ("", ["high_growth", "3", "completed", "2.50", "3", "no", "w1", ""]),
        ("failed", ["high_growth", "4", "failed", "2.50", "1", "no", "w0", escaped]),
    ]
    assert "<b>int_hiring_events" not in page


def test_side_by_side_table_shows_last_year_means_and_p10_p90(report):
    page = report.read_text(encoding="utf-8")
    side = page[page.index('id="scenarios"'):]
    assert cells(side, "baseline") == ["baseline", "1", "1", "1,061", "130", "99", "$64.9M", "72.00%", "5.25%"]
    # high_growth 2027 over seeds 1, 2, 3; sorted headcounts 1100, 1130, 1190, mean 1140.
    # Linear interpolation at position q * (n - 1): P10 at 0.2 -> 1100 + 0.2 * 30 = 1106,
    # P90 at 1.8 -> 1130 + 0.8 * 60 = 1178.
    row = cells(side, "high_growth")
    assert row[:4] == ["high_growth", "3", "4", "1,140\nP10–P90 1,106 – 1,178"]
    # hires 180, 160, 165: mean 168.33; P10 160 + 0.2 * 5 = 161; P90 165 + 0.8 * 15 = 177.
    assert row[4] == "168\nP10–P90 161 – 177"
    # payroll 71.5M, 66M, 67.8M: mean 68.43M; P10 66 + 0.2 * 1.8 = 66.36M; P90 67.8 + 0.8 * 3.7 = 70.76M.
    assert row[6] == "$68.4M\nP10–P90 $66.4M – $70.8M"
    # deferral 0.050, 0.048, 0.049: mean 4.90%; P10 4.82%; P90 4.98%.
    assert row[8] == "4.90%\nP10–P90 4.82% – 4.98%"
    assert cells(side, "bad_design") == ["bad_design", "0", "1", "–", "–", "–", "–", "–", "–"]


def test_every_chart_has_its_numbers_in_a_table(report):
    tables = {name: figure_table(element) for name, element in chart_elements(report.read_text("utf-8")).items()}
    assert list(tables) == CHARTS
    # Means over the seeds, a column per scenario: high_growth 2025 (1050 + 1030 + 1040) / 3 = 1040.
    assert tables["scenarios-end_headcount"] == (["year", "baseline", "high_growth"],
                                             [["2025", "1,000", "1,040"], ["2026", "1,030", "1,090"],
                                              ["2027", "1,061", "1,140"]])
    # In full under the chart: payroll 2025 (63 + 61.8 + 62.4) / 3 = 62.4M; participation 2026
    # (69 + 67.5 + 68.5) / 3 = 68.33%; deferral 2027 (5.0 + 4.8 + 4.9) / 3 = 4.90%.
    assert tables["scenarios-payroll"][1][0] == ["2025", "$60,000,000", "$62,400,000"]
    assert tables["scenarios-enrolled_share_of_actives"][1][1] == ["2026", "71.25%", "68.33%"]
    assert tables["scenarios-average_deferral_rate"][1][2] == ["2027", "5.25%", "4.90%"]
    # The fan: 2025 sorted 1030, 1040, 1050: P10 1030 + 0.2 * 10, P90 1040 + 0.8 * 10; 2027 as in the tooltip.
    assert tables["fan-high_growth-end_headcount"] == (
        ["year", "seeds", "min", "P10", "P50", "P90", "max", "mean"],
        [["2025", "3", "1,030", "1,032", "1,040", "1,048", "1,050", "1,040"],
         ["2026", "3", "1,060", "1,066", "1,090", "1,114", "1,120", "1,090"],
         ["2027", "3", "1,100", "1,106", "1,130", "1,178", "1,190", "1,140"]])


def test_scenario_names_are_escaped_everywhere(tmp_path):
    name = '<i>x</i> & "y"'
    year_rows = [{"run_id": f"{name}-1", "scenario": name, "seed": 1, "simulation_year": year,
                  **dict(zip(METRICS, values))} for year, values in zip(YEARS, RESULTS["baseline"][42])]
    database = write_batch_database(tmp_path / "batch.duckdb", INFO, [run(name, 1)], year_rows)
    page = write_batch_report(database, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<i>" not in page
    # Once in the runs table, the scenarios table, the side-by-side table and the differences heading (it is
    # the baseline); per metric chart in its legend, its three tooltips and its table's header.
    assert page.count("&lt;i&gt;x&lt;/i&gt; &amp; &quot;y&quot;") == 4 + 5 * len(METRICS)


def test_pages_render_from_the_built_package(report, batch, tmp_path):
    """Templates, stylesheet and script are package data: the package as setuptools builds it (build_py
    lays out the files a wheel holds) renders the same page as the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for folder in ("planwise_core", "plugins"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "target", "logs"))
    lib = tmp_path / "lib"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    build = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                            "--build-lib", str(lib)], cwd=src, env=env, capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr[-2000:]
    assert sorted(p.name for p in (lib / "planwise_core" / "report" / "templates").iterdir()) == \
        ["backtest_report.html", "base.html", "batch_report.html", "fit_report.html", "macros.html", "run_report.html"]

    out = tmp_path / "built.html"
    script = ("import sys, planwise_core.report.batch_report as b; assert b.__file__.startswith(sys.argv[1]), "
              "b.__file__; b.write_batch_report(sys.argv[2], sys.argv[3])")
    proc = subprocess.run([sys.executable, "-c", script, str(lib), str(batch), str(out)], cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(lib)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_text(encoding="utf-8") == report.read_text(encoding="utf-8")


def test_axis_labels_show_round_ticks_exactly():
    assert axis_labels("payroll")([2_000_000, 2_250_000, 2_500_000]) == ["$2.00M", "$2.25M", "$2.50M"]
    assert axis_labels("payroll")([0, 500, 1_000]) == ["$0.0k", "$0.5k", "$1.0k"]
    assert axis_labels("end_headcount")([1000, 1050, 1100]) == ["1,000", "1,050", "1,100"]
    assert axis_labels("average_deferral_rate")([0.045, 0.05]) == ["4.5%", "5.0%"]
    assert axis_labels("enrolled_share_of_actives")([0.6, 0.65, 0.7]) == ["60%", "65%", "70%"]


def test_batch_report_renders_in_a_real_browser(report, tmp_path):
    expected = len(chart_elements(report.read_text(encoding="utf-8")))
    assert expected == len(CHARTS)
    attrs = body_attributes(browse(report, tmp_path, "--dump-dom").stdout)
    assert "data-script-error" not in attrs, attrs["data-script-error"]
    assert attrs.get("data-charts-rendered") == str(expected), attrs
    assert attrs.get("data-charts-total") == str(expected), attrs

    shot = tmp_path / "batch.png"
    browse(report, tmp_path, f"--screenshot={shot}", "--window-size=1400,4000")
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_batch_without_completed_runs_renders_the_runs_and_a_message(tmp_path):
    runs = [run("baseline", 1, "failed", ERROR), run("baseline", 2, "failed", "dbt exited with 2")]
    database = write_batch_database(tmp_path / "batch.duckdb", INFO, runs, [])
    out = write_batch_report(database, tmp_path / "empty.html")
    page = out.read_text(encoding="utf-8")
    assert chart_elements(page) == {}
    assert '<body data-charts-total="0">' in page
    assert "No completed runs in this batch" in page
    assert page.count('<tr class="failed">') == 2 and "dbt exited with 2" in page

    attrs = body_attributes(browse(out, tmp_path, "--dump-dom").stdout)
    assert "data-script-error" not in attrs, attrs["data-script-error"]
    assert attrs.get("data-charts-total") == "0" and attrs.get("data-charts-rendered") == "0", attrs


def test_bad_inputs_are_refused_with_the_path(batch, tmp_path):
    with pytest.raises(PlanwiseError, match=r"missing\.duckdb does not exist"):
        write_batch_report(tmp_path / "missing.duckdb", tmp_path / "r.html")
    plain = tmp_path / "plain.duckdb"
    with duckdb.connect(str(plain)) as con:
        con.execute("create table batch_runs (run_id varchar)")
    with pytest.raises(PlanwiseError, match=rf"{re.escape(str(plain))} is not a batch database "
                                            r"\(missing tables: batch_info, batch_run_years"):
        write_batch_report(plain, tmp_path / "r.html")
    with pytest.raises(PlanwiseError, match=r"is a folder"):
        write_batch_report(batch, tmp_path)
    assert not (tmp_path / "r.html").exists()


# In file order: the scenario named baseline is not the first; one scenario coincides with it exactly.
DESIGNS = [{"scenario": "high_growth", "position": 1, "description": "6 % growth, <three> seeds",
            "overrides": {"simulation": {"target_growth_rate": 0.06}, "enrollment.deferral_rate_distribution":
                          {"0.03": 0.5, "0.06": 0.5}}},
           {"scenario": "baseline", "position": 2, "description": "the plan as it is", "overrides": {}},
           {"scenario": "same", "position": 3, "description": "changes nothing that matters",
            "overrides": {"orchestration.max_workers": 1}},
           {"scenario": "bad_design", "position": 4, "description": "", "overrides": {"employee_match.max": 1.5}}]


def designed_batch(folder: Path, designs: list[dict], rename: dict[str, str] | None = None) -> Path:
    """The module's batch plus a scenario 'same' with the baseline's results, and the scenario file's designs."""
    rename = rename or {}
    results = {**RESULTS, "same": RESULTS["baseline"]}
    runs = [run(rename.get(s, s), seed) for s, seeds in results.items() for seed in seeds]
    runs.append(run("bad_design", 7, "invalid", INVALID, seconds=None))
    years = [{"run_id": f"{s}-{seed}", "scenario": rename.get(s, s), "seed": seed, "simulation_year": y,
              **dict(zip(METRICS, values))}
             for s, seeds in results.items() for seed, rows in seeds.items() for y, values in zip(YEARS, rows)]
    designs = [{**d, "scenario": rename.get(d["scenario"], d["scenario"])} for d in designs]
    database = write_batch_database(folder / "batch.duckdb", INFO, runs, years, designs)
    return write_batch_report(database, folder / "report.html")


def test_scenarios_are_described_in_file_order_with_the_baseline_marked(tmp_path):
    page = designed_batch(tmp_path, DESIGNS).read_text(encoding="utf-8")
    assert table_rows(section(page, "designs")) == [
        ("", ["high_growth", "", "6 % growth, &lt;three&gt; seeds",
              'simulation.target_growth_rate: 0.06\nenrollment.deferral_rate_distribution[&quot;0.03&quot;]: 0.5\n'
              'enrollment.deferral_rate_distribution[&quot;0.06&quot;]: 0.5', "all built-in", "3 / 3"]),
        ("baseline", ["baseline", "baseline", "the plan as it is", "none: the base configuration", "all built-in",
                      "1 / 1"]),
        ("", ["same", "", "changes nothing that matters", "orchestration.max_workers: 1", "all built-in", "1 / 1"]),
        ("", ["bad_design", "", "", "employee_match.max: 1.5", "all built-in", "0 / 1"])]
    # Side by side and in every chart's table, the file's order too.
    assert [row[0] for _, row in table_rows(section(page, "scenarios").split("<figure")[0])] == [
        "high_growth", "baseline", "same", "bad_design"]


def test_differences_against_the_baseline_per_year(tmp_path):
    page = designed_batch(tmp_path, DESIGNS).read_text(encoding="utf-8")
    differences = section(page, "differences")
    assert "<h2>Differences against the baseline (baseline)</h2>" in differences
    rows = [row for _, row in table_rows(differences)]
    assert [r[:2] for r in rows] == [[s, str(y)] for s in ("high_growth", "same") for y in YEARS]
    # high_growth means over its three seeds against baseline's one run (RESULTS):
    # 2025 headcount 1040 - 1000 = +40 (+4.00 %); payroll 62.4M - 60M = +2.4M (+4.00 %);
    # 2026 participation 68.333 - 71.25 = -2.92 pp (-4.09 %); 2027 deferral 4.90 % - 5.25 % = -0.35 pp (-6.67 %).
    assert rows[0][2] == "+40\n+4.00%" and rows[0][5] == "+$2,400,000\n+4.00%"
    assert rows[1][6] == "-2.92 pp\n-4.09%"
    assert rows[2][7] == "-0.35 pp\n-6.67%"
    # 2027 hires (180 + 160 + 165) / 3 = 168.33 against 130: +38 (+29.49 %)
    assert rows[2][3] == "+38\n+29.49%"
    assert all(cell in ("+0\n+0.00%", "+$0\n+0.00%", "+0.00 pp\n+0.00%") for r in rows[3:] for cell in r[2:])


def test_the_baseline_line_is_drawn_last_and_stays_visible_where_lines_coincide(tmp_path):
    charts = chart_elements(designed_batch(tmp_path, DESIGNS).read_text(encoding="utf-8"))
    for metric in METRICS:
        chart = charts[f"scenarios-{metric}"]
        lines = re.findall(r'<path class="mark line( baseline)?" d="([^"]+)" stroke="([^"]+)"', chart)
        assert [b for b, _, _ in lines] == ["", "", " baseline"], metric  # high_growth, same, then baseline
        same, base = lines[1], lines[2]
        assert same[1] == base[1], "the test needs a scenario that coincides with the baseline"
        assert base[2] == "#1f2d3d" and same[2] != base[2]
        assert "baseline (dashed)" in chart


def test_without_a_scenario_named_baseline_the_first_of_the_file_is_the_baseline(tmp_path):
    page = designed_batch(tmp_path, DESIGNS, rename={"baseline": "current"}).read_text(encoding="utf-8")
    assert table_rows(section(page, "designs"))[0] == (
        "baseline", ["high_growth", "baseline", "6 % growth, &lt;three&gt; seeds", table_rows(
            section(page, "designs"))[0][1][3], "all built-in", "3 / 3"])
    differences = section(page, "differences")
    assert "<h2>Differences against the baseline (high_growth)</h2>" in differences
    rows = [row for _, row in table_rows(differences)]
    assert [r[0] for r in rows] == ["current"] * 3 + ["same"] * 3
    assert rows[0][2] == "-40\n-3.85%"  # 1000 against 1040


def test_a_batch_database_without_designs_takes_overrides_from_the_runs(tmp_path):
    runs = [run("baseline", 42, overrides_json="{}"),
            run("high_growth", 1, overrides_json='{"simulation.target_growth_rate": 0.06}')]
    years = [r for r in year_rows() if r["run_id"] in ("baseline-42", "high_growth-1")]
    page = write_batch_report(write_batch_database(tmp_path / "batch.duckdb", INFO, runs, years),
                              tmp_path / "r.html").read_text(encoding="utf-8")
    assert [row for _, row in table_rows(section(page, "designs"))] == [
        ["baseline", "baseline", "", "none: the base configuration", "not recorded", "1 / 1"],
        ["high_growth", "", "", "simulation.target_growth_rate: 0.06", "not recorded", "1 / 1"]]
    assert [r[0] for _, r in table_rows(section(page, "differences"))] == ["high_growth"] * 3


# Plan designs (config/scenarios_example.yaml style): employer cost, its share of payroll, match and core per run-year.
COSTS = {"baseline": {42: [(2_400_000, 0.040, 2_400_000, 0)] * 3},
         "richer_match": {1: [(3_000_000, 0.050, 3_000_000, 0)] * 3, 2: [(3_200_000, 0.052, 3_200_000, 0)] * 3,
                          3: [(3_100_000, 0.051, 3_100_000, 0)] * 3},
         "add_core": {42: [(4_200_000, 0.070, 2_400_000, 1_800_000)] * 3}}


def test_each_plan_design_shows_its_cost_first_with_its_band(tmp_path):
    runs = [run(s, seed) for s, seeds in COSTS.items() for seed in seeds]
    years = [{"run_id": f"{s}-{seed}", "scenario": s, "seed": seed, "simulation_year": y,
              **dict(zip(METRICS, RESULTS["baseline"][42][i])),
              **dict(zip(("total_employer_gross", "employer_cost_pct_payroll", "total_match", "total_core"), v))}
             for s, seeds in COSTS.items() for seed, rows in seeds.items() for i, (y, v) in enumerate(zip(YEARS, rows))]
    page = write_batch_report(write_batch_database(tmp_path / "batch.duckdb", INFO, runs, years),
                              tmp_path / "batch.html").read_text(encoding="utf-8")
    charts = list(chart_elements(page))
    assert charts[:4] == ["scenarios-total_employer_gross", "scenarios-employer_cost_pct_payroll",
                          "scenarios-total_match", "scenarios-total_core"]
    assert "fan-richer_match-total_employer_gross" in charts
    side = page[page.index('id="scenarios"'):]
    # richer_match 2027 over 3 seeds: 3.0M, 3.1M, 3.2M -> mean 3.1M, P10 3.02M, P90 3.18M; 5.0 %, 5.1 %, 5.2 %.
    assert cells(side, "richer_match")[3:7] == ["$3.1M\nP10–P90 $3.0M – $3.2M", "5.10%\nP10–P90 5.02% – 5.18%",
                                                "$3.1M\nP10–P90 $3.0M – $3.2M", "$0\nP10–P90 $0 – $0"]
    assert cells(side, "add_core")[3:7] == ["$4.2M", "7.00%", "$2.4M", "$1.8M"]
    assert cells(side, "baseline")[3:5] == ["$2.4M", "4.00%"]
    fan = figure_table(chart_elements(page)["fan-richer_match-total_employer_gross"])
    assert fan[1][0] == ["2025", "3", "$3,000,000", "$3,020,000", "$3,100,000", "$3,180,000", "$3,200,000",
                         "$3,100,000"]


def test_batch_run_years_is_the_run_keys_and_the_year_summary_columns(tmp_path):
    """No rename layer: a run's fct_year_summary row lands under the mart's own column names (the mart's columns
    are outputs/metrics.py's, tests/test_dbt_project.py), after the run keys and before the NDT results."""
    from planwise_core.outputs.metrics import METRICS as ALL

    row = {"run_id": "r-1", "scenario": "r", "seed": 1, "simulation_year": 2025, "end_headcount": 7,
           "enrolled_share_of_actives": 0.7143, "total_employer_gross": 1234.56}
    database = write_batch_database(tmp_path / "batch.duckdb", INFO, [run("r", 1)], [row])
    with duckdb.connect(str(database), read_only=True) as con:
        columns = [r[0] for r in con.execute("describe batch_run_years").fetchall()]
        stored = con.execute("select end_headcount, enrolled_share_of_actives, total_employer_gross, payroll "
                             "from batch_run_years").fetchall()
    assert columns == ["run_id", "scenario", "seed", "simulation_year", *(m.key for m in ALL),
                       "ndt_adp", "ndt_acp", "ndt_top_heavy", "ndt_total_correction"]
    assert stored == [(7, 0.7143, 1234.56, None)]
