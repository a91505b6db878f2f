"""`planwise report`: a self-contained HTML page, checked as text and in a real headless browser (chromium)."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from helpers.sims import CensusSpec, SimSpec
from helpers.sql import rows, scalar
from helpers.common import money_text
from planwise_core.errors import PlanwiseError
from planwise_core.report.page import macro
from planwise_core.report.run_report import write_report
from helpers.cli import planwise

ROOT = Path(__file__).resolve().parent.parent
# The same run as tests/test_export.py: one simulation serves both modules.
SPEC = SimSpec.make(CensusSpec.generated(800, 3), end_year=2027)
CHARTS = ("headcount", "events", "growth", "age-bands", "tenure-bands", "level-mix", "retirements", "payroll",
          "pay-distribution", "pay-by-level", "participation", "participation-age", "participation-tenure",
          "deferral-distribution", "performance")
# With the money layer (a hand-built copy, tests/money_tables.py): the employer cost chart too.
PLAN_CHARTS = (*CHARTS[:-1], "employer-cost", "performance")
ARTIFACTS = ROOT / "output" / "test-artifacts"  # screenshots kept for CI (output/ is ignored by git)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=5000")


@pytest.fixture(scope="module")
def database(sims) -> Path:
    return sims.get(SPEC).database


@pytest.fixture(scope="module")
def report(database, tmp_path_factory) -> Path:
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    out = write_report(database, tmp_path_factory.mktemp("report") / "sub" / "report.html")
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before, "the report must not write to the database"
    return out


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must run the browser test (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def body_attributes(dom: str) -> dict[str, str]:
    match = re.search(r"<body([^>]*)>", dom)
    assert match, dom[:2000]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))


def chart_elements(page: str) -> dict[str, str]:
    """data-chart name -> the element's HTML."""
    return dict(re.findall(r'<figure class="chart" data-chart="([^"]+)">(.*?)</figure>', page, flags=re.S))


def figure_table(element: str) -> tuple[list[str], list[list[str]]]:
    """(headers, body rows as cell texts) of the table of numbers under a chart; fails when there is none."""
    match = re.search(r'<div class="numbers">(<table class="data">.*?</table>)</div>', element, flags=re.S)
    assert match, f"no table of numbers in {element[:200]}"
    table = match.group(1)
    body = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table)]
    return re.findall(r"<th>(.*?)</th>", table), [cells for cells in body if cells]


def config_keys(value, found=None) -> set[str]:
    found = set() if found is None else found
    if isinstance(value, dict):
        for k, v in value.items():
            found.add(k)
            config_keys(v, found)
    return found


def test_report_is_self_contained_with_every_chart_config_and_year(report, database):
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"https?://", page), "the page must not reference anything on the network"
    assert not re.search(r"<link|<img|<iframe|\bsrc=|@import|url\(", page)
    assert page.count("<script>") == 1

    charts = chart_elements(page)
    assert list(charts) == list(PLAN_CHARTS)  # the default configuration runs the plan layer
    for name, element in charts.items():
        assert "<svg" in element, name
        assert re.search(r'<(rect|path|circle) class="mark', element), f"chart {name} draws no mark"

    with duckdb.connect(str(database), read_only=True) as con:
        config = json.loads(con.execute("select config_json from planwise_run_log order by started_at desc")
                            .fetchone()[0])
        run_id = con.execute("select run_id from planwise_run_log").fetchone()[0]
    for key in config_keys(config):
        assert f">{key}</th>" in page, f"config key {key} missing from the assumptions"
    assert f'>{config["workforce"]["total_termination_rate"]}<' in page
    assert run_id in page
    for year in SPEC.years:
        assert f">{year}<" in page
    # The performance table: one row per year with plugin and level (the default: compiled at max).
    assert re.search(r"<td>2027</td><td>compiled</td><td>max</td>", page)


def test_every_chart_has_its_numbers_in_a_table(report, database):
    """The numbers under each chart, checked against counts made here from the snapshot and the events
    (the page reads the per-year ones from the fct_year_summary mart)."""
    tables = {name: figure_table(element) for name, element in chart_elements(report.read_text("utf-8")).items()}
    years = [str(y) for y in SPEC.years]
    actives = "from fct_workforce_snapshot where employment_status = 'active'"
    with duckdb.connect(str(database), read_only=True) as con:
        status = {(str(y), code): n for y, code, n in rows(con, """
            select simulation_year, detailed_status_code, count(*) from fct_workforce_snapshot group by all""")}
        events = {(str(y), kind): n for y, kind, n in rows(con, """
            select simulation_year, event_type, count(*) from fct_yearly_events group by all""")}
        enrolled = {str(y): (e, a) for y, e, a in rows(con, f"""
            select simulation_year, count(*) filter (where is_enrolled), count(*) {actives} group by 1""")}
        pay = {(str(y), lvl): avg for lvl, y, avg in rows(con, f"""
            select level_id, simulation_year, avg(current_compensation) {actives} group by all""")}
        levels = [r[0] for r in rows(con, f"select distinct level_id {actives} order by 1")]
        last_actives = scalar(con, f"select count(*) {actives} and simulation_year = {years[-1]}")
        band_cells = {(dim, str(y), band): (n, e) for dim in ("age", "tenure") for y, band, n, e in rows(con, f"""
            select simulation_year, {dim}_band, count(*), count(*) filter (where is_enrolled) {actives} group by all""")}
        # Band order is the seed's lower bound, whatever the names: "5-9" comes before "10-19".
        seed_order = {dim: [r[0] for r in rows(con, f"select {dim}_band from stg_{dim}_bands order by min_{dim}")]
                      for dim in ("age", "tenure")}
        level_counts = {(str(y), lvl): n for y, lvl, n in rows(con, f"select simulation_year, level_id, count(*) "
                                                                     f"{actives} group by all")}
        payroll = {str(y): p for y, p in rows(con, "select simulation_year, sum(prorated_annual_compensation) "
                                                   "from fct_workforce_snapshot group by 1")}
        participants = scalar(con, f"select count(*) {actives} and simulation_year = {years[-1]} and is_enrolled "
                                   "and deferral_rate is not null")
        employer = {str(y): (m, k) for y, m, k in rows(con, """select simulation_year, sum(employer_match),
                                                               sum(employer_core) from fct_dc_contributions group by 1""")}

    codes = ("continuous_active", "new_hire_active", "experienced_termination", "new_hire_termination")
    assert tables["headcount"] == (
        ["year", "continuing active", "new hire, active", "experienced termination", "new hire, terminated", "total"],
        [[y, *(f"{status[y, c]:,}" for c in codes), f"{sum(status[y, c] for c in codes):,}"] for y in years])
    # The match response (docs/plan_money.md R2a) moves census participants in the first year only.
    kinds = ["hire", "termination", "promotion", "raise", "eligibility", "enrollment", "opt_out",
             "deferral_match_response"]
    assert tables["events"] == (["year", *kinds], [[y, *(f"{events.get((y, k), 0):,}" for k in kinds)] for y in years])
    assert events[years[0], "deferral_match_response"] > 0 and (years[1], "deferral_match_response") not in events
    percent = {y: Decimal(100 * e) / a for y, (e, a) in enrolled.items()}
    assert tables["participation"][1] == [
        [y, f"{enrolled[y][0]:,}", f"{enrolled[y][1]:,}", f"{percent[y].quantize(Decimal('0.01'), ROUND_HALF_UP)}%"]
        for y in years]
    growth = tables["growth"][1]
    assert [r[0] for r in growth] == years
    assert [r[2] for r in growth] == [f"{enrolled[y][1]:,}" for y in years]  # actives at the end
    assert [r[1] for r in growth[1:]] == [r[2] for r in growth[:-1]]  # a year starts with the last one's actives
    assert tables["pay-by-level"] == (["level", *(f"average {y}" for y in years)],
                                      [[str(lvl), *(f"${pay[y, lvl]:,.0f}" for y in years)] for lvl in levels])
    # The distributions: every active (participant) of the last year counted in exactly one row.
    assert sum(int(r[1].replace(",", "")) for r in tables["pay-distribution"][1]) == last_actives
    assert sum(int(r[1].replace(",", "")) for r in tables["deferral-distribution"][1]) == participants
    assert [r[0] for r in tables["performance"][1]] == years

    for dim, label in (("age", "age band"), ("tenure", "tenure band")):
        present = [b for b in seed_order[dim] if any((dim, y, b) in band_cells for y in years)]
        assert present != sorted(present), "the census must cover bands whose names sort differently"
        count = {k: v[0] for k, v in band_cells.items()}
        assert tables[f"{dim}-bands"] == ([label, *years], [[html.escape(b), *(f"{count.get((dim, y, b), 0):,}"
                                                                               for y in years)] for b in present])
        pct = {k: (Decimal(100 * e) / n).quantize(Decimal("0.01"), ROUND_HALF_UP) for k, (n, e) in band_cells.items()}
        assert tables[f"participation-{dim}"] == (
            [label, *years, f"enrolled {years[-1]}", f"actives {years[-1]}"],
            [[html.escape(b), *(f"{pct[dim, y, b]}%" if (dim, y, b) in pct else "–" for y in years),
              f"{band_cells.get((dim, years[-1], b), (0, 0))[1]:,}", f"{band_cells.get((dim, years[-1], b), (0, 0))[0]:,}"]
             for b in present])
    assert [r[:-1] for r in tables["level-mix"][1]] == [[str(lvl), *(f"{level_counts.get((y, lvl), 0):,}" for y in years)]
                                                        for lvl in levels]
    shares = [Decimal(r[-1].rstrip("%")) for r in tables["level-mix"][1]]
    assert abs(sum(shares) - 100) <= Decimal("0.01") * len(shares)
    assert tables["payroll"][1] == [[y, f"${payroll[y]:,.0f}", f"{enrolled[y][1]:,}"] for y in years]
    # The employer's cost as rendered, to the cent, summed here from the contribution rows (not the summary marts).
    headers, body = tables["employer-cost"]
    assert headers[:4] == ["year", "match", "core", "employer cost"]
    assert [r[:4] for r in body] == [[y, money_text(employer[y][0]), money_text(employer[y][1]),
                                      money_text(sum(employer[y]))] for y in years]
    assert all(employer[y][0] > 0 for y in years)


def test_report_has_a_print_stylesheet_and_prints(report, tmp_path):
    page = report.read_text(encoding="utf-8")
    # On paper the tables of numbers are printed whole (on screen they scroll) and the charts stack.
    printed = re.search(r"@media print\{(.*)\}\s*</style>", page, flags=re.S)
    assert printed, "no print stylesheet"
    assert re.search(r"\.numbers\{[^}]*max-height:none", printed.group(1))
    assert re.search(r"\.grid2\{display:block\}", printed.group(1))

    pdf = tmp_path / "report.pdf"
    browse(report, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    document = pdf.read_bytes()
    assert document[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page[^s]", document)) >= 3


def test_legend_swatches_are_svg_so_a_chart_needs_no_inline_style(report):
    """A legend's colour keys are SVG shapes: no style= attribute anywhere (a strict CSP blocks them), and a chart
    cut out of the page alone keeps its key colours."""
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"<[a-z][^>]*\sstyle=", page), "an inline style= attribute"
    chart = re.search(r'<figure class="chart" data-chart="events">.*?</figure>', page, flags=re.S).group(0)
    keys = re.findall(r'<span class="key"><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
                      r'<rect width="10" height="10" rx="2" fill="(#[0-9a-f]{6})"/></svg>([^<]+)</span>', chart)
    assert len(keys) >= 2 and len({colour for colour, _ in keys}) == len(keys), keys
    assert chart.count('class="key"') == len(keys)


def test_report_escapes_text():
    nested_table = macro("nested_table")  # the shared macro the assumptions section is rendered with
    table = str(nested_table({"<script>alert(1)</script>": {"a&b": "\"quoted\" <b>", "list": [1, None, True]}}))
    assert "<script>" not in table and "<b>" not in table
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table
    assert "a&amp;b" in table and "&quot;quoted&quot; &lt;b&gt;" in table
    assert "1, null, true" in table


def test_report_renders_in_a_real_browser(report, tmp_path):
    expected = len(chart_elements(report.read_text(encoding="utf-8")))
    assert expected >= 7

    dom = browse(report, tmp_path, "--dump-dom").stdout
    attrs = body_attributes(dom)
    assert "data-script-error" not in attrs, attrs["data-script-error"]
    assert attrs.get("data-charts-rendered") == str(expected), attrs
    assert attrs.get("data-charts-total") == str(expected), attrs

    keep_screenshot(report, tmp_path, "report.png")


def keep_screenshot(page: Path, tmp_path: Path, name: str, height: int = 9000) -> Path:
    """Screenshot ``page`` whole into the test's folder and keep a copy as a CI artefact
    (output/test-artifacts/<name>, ignored by git); returns the test folder's copy."""
    shot = tmp_path / name
    browse(page, tmp_path, f"--screenshot={shot}", f"--window-size=1400,{height}")
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / name)
    return shot


def test_browser_check_catches_script_errors(report, tmp_path):
    """The attributes the browser test reads are real evidence: a broken page is reported as broken."""
    page = report.read_text(encoding="utf-8")
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("</body>", "<script>notAFunction();</script></body>"), encoding="utf-8")
    attrs = body_attributes(browse(broken, tmp_path, "--dump-dom").stdout)
    assert "notAFunction" in attrs.get("data-script-error", ""), attrs

    blank = tmp_path / "blank.html"  # one chart loses its svg: it must not count as rendered
    blank.write_text(re.sub(r'(data-chart="events">.*?)<svg viewBox.*?</svg>', r"\1", page, count=1, flags=re.S),
                     encoding="utf-8")
    attrs = body_attributes(browse(blank, tmp_path, "--dump-dom").stdout)
    assert attrs.get("data-charts-rendered") == str(len(PLAN_CHARTS) - 1), attrs


def test_write_report_refuses_a_database_without_results(tmp_path):
    with pytest.raises(PlanwiseError, match=r"missing\.duckdb does not exist: run a simulation into it first"):
        write_report(tmp_path / "missing.duckdb", tmp_path / "r.html")
    duckdb.connect(str(tmp_path / "foreign.duckdb")).close()
    with pytest.raises(PlanwiseError, match=r"foreign\.duckdb was not written by PlanWise"):
        write_report(tmp_path / "foreign.duckdb", tmp_path / "r.html")
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:  # PlanWise's, without results
        con.execute("create table planwise_database (format integer, created_at timestamp)")
    with pytest.raises(PlanwiseError, match=r"empty\.duckdb holds no simulation results.*run a simulation into it first"):
        write_report(tmp_path / "empty.duckdb", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_cli_report(database, tmp_path):
    proc = planwise("report", "--database", database, "--out", "out/report.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {Path('out/report.html')}"
    assert len(chart_elements((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))) == len(PLAN_CHARTS)

    proc = planwise("report", cwd=tmp_path)  # default database output/planwise.duckdb does not exist here
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: Database output/planwise.duckdb does not exist")
    assert not (tmp_path / "output").exists()


# Counts, in the page as print lays it out (the print rules applied on screen at about an A4 page's width), the
# numeric cells whose text takes more lines than it has: a number broken across lines.
LINES_SCRIPT = """<script>
window.addEventListener('load', function () {
  var broken = [], checked = 0;
  document.querySelectorAll('td.num').forEach(function (cell) {
    if (!cell.textContent.trim()) return;
    var range = document.createRange(); range.selectNodeContents(cell);
    var tops = new Set(Array.from(range.getClientRects()).map(function (r) { return Math.round(r.top); }));
    checked += 1;
    if (tops.size > cell.textContent.split('\\n').length) broken.push(cell.textContent);
  });
  document.body.setAttribute('data-num-cells', String(checked));
  document.body.setAttribute('data-broken', broken.slice(0, 5).join(' | ') || 'none');
});
</script>"""


def test_no_number_is_broken_across_lines_in_print(report, tmp_path):
    page = report.read_text(encoding="utf-8").replace("@media print{", "@media all{")
    printed = tmp_path / "printed.html"
    printed.write_text(page.replace("</body>", LINES_SCRIPT + "</body>"), encoding="utf-8")
    attrs = body_attributes(browse(printed, tmp_path, "--dump-dom", "--window-size=700,1000").stdout)
    assert int(attrs["data-num-cells"]) > 200
    assert attrs["data-broken"] == "none", attrs["data-broken"]
