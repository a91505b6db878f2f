"""`planwise serve` in a real headless browser: Selenium driving Debian's chromium + chromium-driver, with
explicit paths (nothing downloaded). Sign in, upload a census, edit a scenario (a bad value explained next
to its field), run it and watch it live, cancel and resume, open a completed run's report, compare two runs;
on every page no console error and no CSP violation; screenshots in output/test-artifacts/serve/."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from helpers.serve import TOKEN, app_client, completed_run, threaded_server
from test_report import SPEC

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "output" / "test-artifacts" / "serve"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def browser_paths() -> tuple[str, str]:
    chromium = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    driver = DRIVER if Path(DRIVER).exists() else shutil.which("chromedriver")
    if not chromium or not driver:
        message = "chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the browser test (.ci/run installs them)")
        pytest.skip(message)
    return chromium, driver


@pytest.fixture(scope="module")
def site(sims, tmp_path_factory):
    chromium, driver_path = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    workspace = tmp_path_factory.mktemp("browser") / "workspace"
    database = sims.get(SPEC).database
    _client, gate = app_client(workspace, stream_seconds=5.0)
    for run_id in ("run_20260101_000000_aaaaa1", "run_20260101_000000_aaaaa2"):
        completed_run(workspace, database, run_id)
    gate.app.state.scheduler.load()
    server, thread, url = threaded_server(gate)
    gate.settings.allowed_hosts = (url.removeprefix("http://"),)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 f"--user-data-dir={tmp_path_factory.mktemp('profile')}", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    downloads = tmp_path_factory.mktemp("downloads")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved_step = os.environ.get("FAKE_WORKER_STEP")
    try:
        yield driver, url, workspace
    finally:
        os.environ.pop("FAKE_WORKER_STEP", None)
        if saved_step is not None:
            os.environ["FAKE_WORKER_STEP"] = saved_step
        driver.quit()
        server.should_exit = True
        thread.join(15)


def visit_ok(driver, name: str) -> None:
    """No console error and no CSP violation on the page; a screenshot kept."""
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    entries = driver.get_log("browser")
    bad = [e for e in entries if e["level"] == "SEVERE" or "Content Security Policy" in e["message"]
           or "violates" in e["message"]]
    assert bad == [], (name, bad)


def wait(condition, seconds: float = 30.0, driver=None):
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # noqa: BLE001 - the page is changing under us: try again
            pass
        assert time.monotonic() < deadline, "timed out" + (f" on {driver.current_url}: {driver.page_source[:3000]}"
                                                           if driver else "")
        time.sleep(0.2)


def by(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def test_sign_in_removes_the_token_from_the_address(site):
    driver, url, _ws = site
    driver.get(f"{url}/?token={TOKEN}")
    assert driver.current_url == f"{url}/" and TOKEN not in driver.current_url
    assert "Runs" in driver.title
    visit_ok(driver, "runs")


def test_upload_a_census_and_read_its_report(site, tmp_path):
    driver, url, _ws = site
    census = tmp_path / "census.csv"
    census.write_text("employee_id,employee_ssn,employee_birth_date,employee_hire_date,employee_termination_date,"
                      "employee_gross_compensation,employee_deferral_rate,active\n"
                      + "".join(f"E{i},S{i},1980-01-01,2015-03-01,,{60000 + i},0.05,true\n" for i in range(30))
                      + "B1,SB1,1980-01-01,2015-03-01,,-5,0.05,true\n")
    driver.get(f"{url}/censuses")
    by(driver, "input[name=name]").send_keys("browser census")
    by(driver, "#census-file").send_keys(str(census))
    by(driver, "#upload-button").click()
    wait(lambda: "/censuses/cen_" in driver.current_url, driver=driver)
    table = by(driver, "#validation").text
    assert "rows 31" in table and "dropped 1" in table and "Dropped rows" in driver.page_source
    visit_ok(driver, "census")


def test_a_bad_value_is_explained_next_to_its_field_then_saved(site):
    driver, url, _ws = site
    driver.get(f"{url}/scenarios")
    by(driver, "input[name=name]").send_keys("browser")
    by(driver, "form[action='/scenarios'] button").click()
    wait(lambda: driver.current_url.endswith("/scenarios/browser"))
    field = by(driver, "input[name='workforce.total_termination_rate']")
    field.clear()
    field.send_keys("1.5")
    by(driver, "input[name=description]").click()  # leaves the field: change -> live validation
    slot = "p[data-key='workforce.total_termination_rate']"
    wait(lambda: "did you mean 0.015" in by(driver, slot).text)
    visit_ok(driver, "scenario-problem")
    field = by(driver, "input[name='workforce.total_termination_rate']")
    field.clear()
    field.send_keys("0.15")
    by(driver, "#save-button").click()
    wait(lambda: "saved=1" in driver.current_url)
    assert by(driver, "#saved").is_displayed() and by(driver, slot).text.strip() == ""
    visit_ok(driver, "scenario-saved")


def test_run_it_and_watch_progress_live_then_cancel_and_resume_another(site):
    driver, url, workspace = site
    os.environ["FAKE_WORKER_STEP"] = "0.4"
    driver.get(f"{url}/runs/new?scenario=browser")
    by(driver, "input[name=years]").send_keys("2025-2026")
    by(driver, "#run-button").click()
    wait(lambda: "/runs/run_" in driver.current_url)
    wait(lambda: by(driver, "#progress").get_attribute("data-status") == "completed", 60)
    assert "3/3 steps" in by(driver, "#progress").text and "planwise run --config" in driver.page_source
    visit_ok(driver, "run-completed")
    os.environ["FAKE_WORKER_STEP"] = "3"
    driver.get(f"{url}/runs/new")
    by(driver, "input[name=years]").send_keys("2025-2026")
    by(driver, "#run-button").click()
    wait(lambda: by(driver, "#progress").get_attribute("data-status") == "running")
    wait(lambda: "foundation" in by(driver, "#progress").text)  # a live update, no reload
    by(driver, "#cancel-button").click()
    wait(lambda: by(driver, "#progress").get_attribute("data-status") == "cancelled", 60)
    os.environ["FAKE_WORKER_STEP"] = "0.2"
    # the progress fragment can show "cancelled" before the run's "finished" event reloads the page with its button
    wait(lambda: driver.find_elements("css selector", "#resume-button"))
    by(driver, "#resume-button").click()
    wait(lambda: by(driver, "#progress").get_attribute("data-status") == "completed", 60)
    visit_ok(driver, "run-resumed")


def test_a_completed_run_shows_the_whole_report_with_every_chart(site):
    driver, url, workspace = site
    driver.get(f"{url}/runs/run_20260101_000000_aaaaa1")
    driver.switch_to.frame(by(driver, "iframe.report"))
    wait(lambda: by(driver, "body").get_attribute("data-charts-rendered"))
    assert str(workspace.resolve()) not in driver.page_source and "./runs/run_20260101_000000_aaaaa1" in driver.page_source
    body = by(driver, "body")
    assert body.get_attribute("data-charts-rendered") == body.get_attribute("data-charts-total") != "0"
    driver.switch_to.default_content()
    visit_ok(driver, "run-report")


def test_download_the_workbook_from_the_run_page(site):
    import openpyxl

    driver, url, _ws = site
    driver.get(f"{url}/runs/run_20260101_000000_aaaaa1")
    by(driver, "#export-xlsx").click()
    workbook = wait(lambda: next((p for p in driver.downloads.iterdir() if p.suffix == ".xlsx"), None), 60)
    assert len(openpyxl.load_workbook(workbook, read_only=True).sheetnames) >= 3
    driver.get(f"{url}/about")
    visit_ok(driver, "about-after-download")


def test_one_employee_year_by_year(site):
    import duckdb

    driver, url, workspace = site
    database = workspace / "runs" / "run_20260101_000000_aaaaa1" / "sim" / "simulation.duckdb"
    con = duckdb.connect(str(database), read_only=True)
    employee, = con.execute("select min(employee_id) from fct_workforce_snapshot").fetchone()
    pays = [f"${p:,.2f}" for (p,) in con.execute("select current_compensation from fct_workforce_snapshot "
                                                 "where employee_id = ? order by simulation_year",
                                                 [employee]).fetchall()]
    con.close()
    driver.get(f"{url}/runs/run_20260101_000000_aaaaa1")
    by(driver, "input[name=employee_id]").send_keys(employee)
    by(driver, "#employee-button").click()
    wait(lambda: "/employee?" in driver.current_url)
    rows = driver.find_elements("css selector", "#employee-years tbody tr")
    assert [r.find_elements("css selector", "td")[5].text for r in rows] == pays
    visit_ok(driver, "employee")


def test_compare_two_runs_and_visit_every_other_page(site):
    driver, url, _ws = site
    driver.get(url + "/")
    for box in driver.find_elements("css selector", "input[name=runs]")[-2:]:
        box.click()
    by(driver, "form[action='/compare'] button").click()
    wait(lambda: "/compare?" in driver.current_url)
    assert "against the baseline" in driver.page_source and "<table" in driver.page_source
    charts = driver.find_elements("css selector", "#compare-charts figure[data-chart^='compare-'] svg path.line")
    assert len(charts) >= 2  # a line per run, for each headline metric
    visit_ok(driver, "compare")
    first, second = [a.text for a in driver.find_elements("css selector", "#compare-runs li > a:first-child")]
    by(driver, "a.make-baseline").click()  # switch the baseline
    wait(lambda: f"runs={second},{first}" in driver.current_url.replace("%2C", ","))
    assert f"Baseline {second}" in by(driver, "main").text
    visit_ok(driver, "compare-switched")
    for path, name in (("/scenarios", "scenarios"), ("/scenarios/browser/tables/job_levels", "table"),
                       ("/censuses", "censuses"), ("/about", "about"), ("/runs/new", "new-run")):
        driver.get(url + path)
        assert "Error" not in driver.title, path
        visit_ok(driver, name)


def test_run_an_ensemble_and_read_its_fan_charts(site):
    driver, url, _ws = site
    os.environ["FAKE_WORKER_STEP"] = "0.3"
    driver.get(url + "/batches")
    visit_ok(driver, "batches")
    by(driver, "form[action='/ensembles'] input[name=seeds]").send_keys("3")
    by(driver, "form[action='/ensembles'] input[name=years]").send_keys("2025-2026")
    by(driver, "#ensemble-button").click()
    wait(lambda: "/batches/bat_" in driver.current_url)
    wait(lambda: driver.find_elements("css selector", "iframe.report"), driver=driver)  # reloaded once finished
    assert driver.page_source.count("status-completed") >= 4  # the batch and its 3 runs
    visit_ok(driver, "batch")
    driver.switch_to.frame(by(driver, "iframe.report"))
    assert wait(lambda: driver.find_elements("css selector", "figure[data-chart^='fan-'] path.band"))
    driver.switch_to.default_content()


def test_a_bad_table_cell_is_explained_on_its_cell(site):
    driver, url, _ws = site
    driver.get(url + "/scenarios/browser/tables/job_levels")
    cell = by(driver, "input[aria-label='row 2 merit_rate']")
    cell.clear()
    cell.send_keys("abc")
    by(driver, "#save-grid").click()
    marked = wait(lambda: by(driver, "td.invalid[data-cell='1.merit_rate']"), driver=driver)
    assert "must be a number" in marked.text
    other = [e for e in driver.get_log("browser") if not (e["source"] == "network" and "status of 422" in e["message"])]
    assert other == []  # the refused save is a 422 on purpose; nothing else may be logged
    visit_ok(driver, "table-grid-problem")


def test_fit_a_history_of_two_censuses_and_read_the_fit_report(site, tmp_path):
    import urllib.request

    from planwise_core.fit import generate_history

    driver, url, _ws = site
    history = generate_history(300, tmp_path / "history", snapshots=2, seed=4)
    for path in sorted(history.glob("census_*.csv")):
        request = urllib.request.Request(f"{url}/api/v1/censuses/upload?name={path.stem}&census_date="
                                         f"{path.stem.removeprefix('census_')}", data=path.read_bytes(), method="PUT",
                                         headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 201
    driver.get(url + "/fits")
    visit_ok(driver, "fits")
    for box in driver.find_elements("css selector", "input[name=census_ids]")[-2:]:
        box.click()
    by(driver, "#fit-button").click()
    wait(lambda: "/fits/fit_" in driver.current_url, driver=driver)

    def finished():
        driver.refresh()
        return driver.find_elements("css selector", "iframe.report")
    wait(finished, 60, driver=driver)
    visit_ok(driver, "fit")
    by(driver, "#save-tables-button").click()
    wait(lambda: "saved=" in driver.current_url, driver=driver)
    assert "are now the parameter tables of" in driver.page_source
    visit_ok(driver, "fit-saved")


def test_the_new_run_command_follows_the_fields(site):
    driver, url, _ws = site
    driver.get(f"{url}/runs/new")
    assert "planwise run" in by(driver, "#command").text
    by(driver, "input[name=years]").send_keys("2025-2026")
    by(driver, "input[name=seed]").send_keys("7")
    wait(lambda: "--years 2025-2026" in by(driver, "#command").text and "--seed 7" in by(driver, "#command").text)
    visit_ok(driver, "new-run-command")


def test_leaving_the_scenario_editor_with_unsaved_changes_asks_first(site):
    """The guard's beforeunload listener cancels the unload (which makes the browser ask) only while the form
    holds unsaved changes. Headless Chromium does not show the prompt to WebDriver, so the test dispatches a
    cancelable beforeunload event and reads whether the page's listener cancelled it."""
    driver, url, _ws = site
    leave = ("var e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); "
             "return e.defaultPrevented;")
    driver.get(f"{url}/scenarios/browser")  # made by the bad-value test
    assert driver.execute_script(leave) is False  # nothing changed yet
    by(driver, "input[name=description]").send_keys("edited")
    assert by(driver, "#scenario-form").get_attribute("data-dirty") == "true"
    assert driver.execute_script(leave) is True
    by(driver, "input[name=description]").clear()
    by(driver, "#save-button").click()  # saving clears the guard
    wait(lambda: "saved=1" in driver.current_url)
    assert driver.execute_script(leave) is False
    visit_ok(driver, "scenario-guard")
