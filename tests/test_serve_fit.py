"""Fit and backtest in `planwise serve` (docs/serve.md, "Fit and backtest"): a history of censuses picked in
the workspace, checked by the fit library before it is queued; `planwise fit` run by the real worker (no dbt:
a second or two), its report served from the workspace, its tables saved as a scenario's tables."""

from __future__ import annotations

import pytest

from helpers.serve import BEARER, ORIGIN, app_client, sign_in, wait_for


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from planwise_core.fit import generate_history

    history = generate_history(400, tmp_path_factory.mktemp("history") / "h", snapshots=3, seed=3)
    workspace = tmp_path_factory.mktemp("fit") / "workspace"
    client, _gate = app_client(workspace, worker=None)
    with client:
        ids = []
        for path in sorted(history.glob("census_*.csv")):
            day = path.stem.removeprefix("census_")
            response = client.put("/api/v1/censuses/upload", params={"name": path.stem, "census_date": day},
                                  content=path.read_bytes(), headers={**BEARER, "Content-Type": "text/csv"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        assert client.post("/api/v1/scenarios", headers=BEARER, json={"name": "fitted"}).status_code == 201
        response = client.post("/api/v1/fits", headers=BEARER, json={"census_ids": ids})
        assert response.status_code == 202, response.text
        job = wait_for(lambda: client.get(f"/api/v1/fits/{response.json()['id']}", headers=BEARER).json(),
                       ("completed", "failed", "interrupted"), 120)
        yield client, workspace, ids, job


def test_a_fit_runs_as_a_job_and_its_report_is_served_from_the_workspace(fitted):
    client, workspace, ids, job = fitted
    assert job["status"] == "completed", job
    assert [d for d, _ in job["snapshots"]] == ["2021-12-31", "2022-12-31", "2023-12-31"]
    assert {"age_bands", "tenure_bands", "job_levels", "promotion_hazard"} <= set(job["tables"])
    report = client.get(job["reports"]["fit"], headers=BEARER)
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    assert "<svg" in report.text and str(workspace.resolve()) not in report.text
    assert client.get(f"/api/v1/fits/{job['id']}/backtest-report.html", headers=BEARER).status_code == 404
    page = client.get(f"/fits/{job['id']}", headers=BEARER).text
    assert f'src="/api/v1/fits/{job["id"]}/report.html"' in page and 'action="/fits/' in page


def test_the_fitted_tables_become_a_scenarios_tables(fitted):
    client, workspace, _ids, job = fitted
    csrf = sign_in(client)
    saved = client.post(f"/fits/{job['id']}/save-tables", data={"csrf_token": csrf, "scenario": "fitted"},
                        headers={"Origin": ORIGIN}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    fit_folder = workspace / "fits" / job["id"] / "sim" / "out"
    scenario = client.get("/api/v1/scenarios/fitted", headers=BEARER).json()
    for table in job["tables"]:
        assert scenario["tables"][table]["source"] == "replaced"
        source = fit_folder / f"{table}.csv" if (fit_folder / f"{table}.csv").is_file() else \
            fit_folder / "tables" / f"{table}.csv"
        assert (workspace / "scenarios" / "fitted" / "tables" / f"{table}.csv").read_bytes() == source.read_bytes()
    assert scenario["problems"] == [] or all(p["severity"] == "warning" for p in scenario["problems"])
    # The rates the fit estimated go with the tables, as the scenario's overrides (the growth, a plan input, not).
    import json

    published = json.loads((fit_folder / "fit_manifest.json").read_text())["published"]
    rates = {k: v["value"] for k, v in published.items() if k in ("workforce.total_termination_rate",
             "workforce.new_hire_termination_rate", "enrollment.voluntary_enrollment.annual_probability")
             and v["basis"] in ("experience", "blended")}
    assert "workforce.total_termination_rate" in rates and scenario["overrides"] == rates
    assert "simulation.target_growth_rate" not in scenario["overrides"]
    missing = client.post(f"/api/v1/fits/{job['id']}/save-tables", headers=BEARER, json={"scenario": "nope"})
    assert missing.status_code == 404
    misspelt = client.post(f"/api/v1/fits/{job['id']}/save-tables", headers=BEARER, json={"scenari": "fitted"})
    assert misspelt.status_code == 422 and misspelt.json()["error"]["code"] == "unknown_keys"


def test_a_history_is_checked_before_anything_is_queued(fitted):
    client, workspace, ids, _job = fitted
    before = sorted((workspace / "fits").iterdir())
    one = client.post("/api/v1/fits", headers=BEARER, json={"census_ids": ids[:1]})
    assert one.status_code == 422 and "snapshot(s): need 2" in one.json()["error"]["problems"][0]["message"]
    gap = client.post("/api/v1/fits", headers=BEARER, json={"census_ids": [ids[0], ids[2]]})
    assert gap.status_code == 422 and "one calendar year apart" in gap.text
    short = client.post("/api/v1/backtests", headers=BEARER, json={"census_ids": ids[:2], "holdout": 1})
    assert short.status_code == 422 and "need 3" in short.text
    bad = client.post("/api/v1/backtests", headers=BEARER, json={"census_ids": ids, "replicates": 0})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["key"] == "replicates"
    unknown = client.post("/api/v1/fits", headers=BEARER, json={"census_ids": ["cen_20200101_000000_000000"]})
    assert unknown.status_code == 404
    assert sorted((workspace / "fits").iterdir()) == before
    assert job_uses(client, ids[0]) and client.delete(f"/api/v1/censuses/{ids[0]}", headers=BEARER).status_code == 204


def job_uses(client, census_id: str) -> bool:
    """The census page lists the fit that read it."""
    return "fit_" in client.get(f"/censuses/{census_id}", headers=BEARER).text.split("Used by:")[1]
