"""`planwise report`: a self-contained HTML page, checked as text and in a real headless browser (chromium)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import CensusSpec, SimSpec
from planwise_core.errors import PlanwiseError
from planwise_core.report.run_report import nested_table, write_report

ROOT = Path(__file__).resolve().parent.parent
PLANWISE = ROOT / ".venv" / "bin" / "planwise"
# The same run as tests/test_export.py: one simulation serves both modules.
SPEC = SimSpec.make(CensusSpec.generated(800, 3), end_year=2027)
CHARTS = ("headcount", "events", "growth", "pay-distribution", "pay-by-level", "participation",
          "deferral-distribution", "performance")
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


def planwise(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PLANWISE_BLOCK_PLUGINS", "PYTHONPATH")}
    return subprocess.run([str(PLANWISE), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


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
    assert list(charts) == list(CHARTS)
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
    # The performance table: one row per year with plugin and level.
    assert re.search(r"<td>2027</td><td>optimized</td><td>high</td>", page)


def test_report_escapes_text():
    table = nested_table({"<script>alert(1)</script>": {"a&b": "\"quoted\" <b>", "list": [1, None, True]}})
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

    shot = tmp_path / "report.png"
    browse(report, tmp_path, f"--screenshot={shot}", "--window-size=1400,3000")
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browser_check_catches_script_errors(report, tmp_path):
    """The attributes the browser test reads are real evidence: a broken page is reported as broken."""
    page = report.read_text(encoding="utf-8")
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("</body>", "<script>notAFunction();</script></body>"), encoding="utf-8")
    attrs = body_attributes(browse(broken, tmp_path, "--dump-dom").stdout)
    assert "notAFunction" in attrs.get("data-script-error", ""), attrs

    blank = tmp_path / "blank.html"  # one chart loses its svg: it must not count as rendered
    blank.write_text(re.sub(r'(data-chart="events">.*?)<svg.*?</svg>', r"\1", page, count=1, flags=re.S),
                     encoding="utf-8")
    attrs = body_attributes(browse(blank, tmp_path, "--dump-dom").stdout)
    assert attrs.get("data-charts-rendered") == str(len(CHARTS) - 1), attrs


def test_write_report_refuses_a_database_without_results(tmp_path):
    with pytest.raises(PlanwiseError, match=r"missing\.duckdb does not exist.*planwise run"):
        write_report(tmp_path / "missing.duckdb", tmp_path / "r.html")
    duckdb.connect(str(tmp_path / "foreign.duckdb")).close()
    with pytest.raises(PlanwiseError, match=r"foreign\.duckdb was not written by PlanWise"):
        write_report(tmp_path / "foreign.duckdb", tmp_path / "r.html")
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:  # PlanWise's, without results
        con.execute("create table planwise_database (format integer, created_at timestamp)")
    with pytest.raises(PlanwiseError, match=r"empty\.duckdb holds no simulation results.*planwise run"):
        write_report(tmp_path / "empty.duckdb", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_cli_report(database, tmp_path):
    proc = planwise("report", "--database", database, "--out", "out/report.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {Path('out/report.html')}"
    assert len(chart_elements((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))) == len(CHARTS)

    proc = planwise("report", cwd=tmp_path)  # default database output/planwise.duckdb does not exist here
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: Database output/planwise.duckdb does not exist")
    assert not (tmp_path / "output").exists()
