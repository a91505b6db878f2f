"""Batches and ensembles in `planwise serve` (docs/serve.md, "Batches and ensembles"): planned and validated
by the batch library before they are queued, one job of the queue each, their runs, bands and report.
The fake worker (tests/helpers/fake_worker.py) writes a real batch.duckdb with the library's own writer
from yearly rows it makes up (headcount 100 + seed + year offset), so every band is known in advance."""

from __future__ import annotations

import time

import pytest
import yaml

from helpers.serve import BEARER, ORIGIN, app_client, sign_in, wait_for


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("batches") / "workspace"
    client, _gate = app_client(workspace, stream_seconds=1.0)
    with client:
        created = client.post("/api/v1/scenarios", headers=BEARER,
                              json={"name": "high", "overrides": {"workforce.total_termination_rate": 0.2}})
        assert created.status_code == 201
        yield client, workspace


def get_batch(client, batch_id):
    return lambda: client.get(f"/api/v1/batches/{batch_id}", headers=BEARER).json()


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (position q * (n - 1)), written out by hand."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_an_ensemble_runs_as_one_job_and_its_bands_are_the_percentiles_over_seeds(api):
    client, workspace = api
    response = client.post("/api/v1/ensembles", headers=BEARER,
                           json={"scenario": "high", "seeds": 3, "first_seed": 7, "years": "2025-2026"})
    assert response.status_code == 202, response.text
    batch = wait_for(get_batch(client, response.json()["id"]), ("completed",))
    assert batch["kind"] == "ensemble" and batch["seeds"] == [7, 8, 9] and batch["planned"] == 3
    assert batch["completed_runs"] == 3 and batch["progress"] == {"done": 3, "total": 3}
    assert (workspace / "batches" / batch["id"] / "sim" / "batch.duckdb").is_file()
    job = (workspace / "batches" / batch["id"] / "job.json").read_text()
    assert '"workforce.total_termination_rate": 0.2' in job and str(workspace.resolve()) not in job
    rows = client.get(f"{batch['links']['bands']}?metric=end_headcount&scenario=high", headers=BEARER).json()["items"]
    assert [r["year"] for r in rows] == [2025, 2026]
    for row, offset in zip(rows, (0, 1)):
        values = [100 + seed + offset for seed in (7, 8, 9)]
        assert row["runs"] == 3 and row["min"] == min(values) and row["max"] == max(values)
        assert row["p10"] == pytest.approx(quantile(values, 0.1)) and row["p90"] == pytest.approx(quantile(values, 0.9))
        assert row["p50"] == pytest.approx(quantile(values, 0.5))
    report = client.get(batch["links"]["report"], headers=BEARER)
    assert report.status_code == 200 and "P10–P90" in report.text and "sandbox" in report.headers["content-security-policy"]
    assert batch["id"] not in client.get("/api/v1/runs", headers=BEARER).text  # a batch is not a run
    text = client.get(f"/api/v1/batches/{batch['id']}/files/scenarios.yaml", headers=BEARER).text
    scenario_file = yaml.safe_load(text)
    (workspace / "scenarios.yaml").write_text(text)
    from planwise_core.batch import plan_batch

    planned = plan_batch(workspace / "scenarios.yaml", workspace / "cli-out")  # `planwise batch` takes it as it is
    assert not planned.invalid and sorted(r.seed for r in planned.runs) == [7, 8, 9]
    assert scenario_file["scenarios"] == [{"name": "high", "overrides": {
        "workforce.total_termination_rate": 0.2, "simulation.start_year": 2025, "simulation.end_year": 2026},
        "seeds": [7, 8, 9]}]
    database = client.get(f"/api/v1/batches/{batch['id']}/files/batch.duckdb", headers=BEARER)
    assert database.status_code == 200 and database.content == (
        workspace / "batches" / batch["id"] / "sim" / "batch.duckdb").read_bytes()


def test_a_batch_of_saved_scenarios_is_validated_whole_before_it_is_queued(api):
    client, workspace = api
    before = set((workspace / "batches").iterdir()) if (workspace / "batches").is_dir() else set()
    assert client.post("/api/v1/batches", headers=BEARER, json={"scenarios": ["high", "nope"]}).status_code == 404
    empty = client.post("/api/v1/batches", headers=BEARER, json={"scenarios": []})
    assert empty.status_code == 422 and empty.json()["error"]["problems"][0]["key"] == "scenarios"
    seeds = client.post("/api/v1/ensembles", headers=BEARER, json={"scenario": "high", "seeds": 0})
    assert seeds.status_code == 422 and seeds.json()["error"]["problems"][0]["key"] == "seeds"
    bad_years = client.post("/api/v1/batches", headers=BEARER, json={"scenarios": ["high"], "years": "2030-2025"})
    assert bad_years.status_code == 422 and bad_years.json()["error"]["problems"]
    assert (set((workspace / "batches").iterdir()) if (workspace / "batches").is_dir() else set()) == before
    body = {"scenarios": ["default", "high"], "seeds": 2, "years": "2025-2025"}
    first = client.post("/api/v1/batches", headers={**BEARER, "Idempotency-Key": "b-1"}, json=body)
    again = client.post("/api/v1/batches", headers={**BEARER, "Idempotency-Key": "b-1"}, json=body)
    assert (first.status_code, again.status_code) == (202, 200) and first.json()["id"] == again.json()["id"]
    batch = wait_for(get_batch(client, first.json()["id"]), ("completed",))
    assert sorted((r["scenario"], r["seed"]) for r in batch["runs"]) == [("default", 42), ("default", 43),
                                                                          ("high", 42), ("high", 43)]
    listed = client.get("/api/v1/batches?limit=1", headers=BEARER).json()
    assert listed["items"][0]["id"] == batch["id"] and listed["next_cursor"] == "1"
    assert client.get("/api/v1/batches/bat_20200101_000000_000000", headers=BEARER).status_code == 404
    assert client.get("/api/v1/batches/run_20200101_000000_000000", headers=BEARER).status_code == 400


def test_the_batch_pages_start_an_ensemble_and_show_its_runs_and_report(api, monkeypatch):
    client, _ws = api
    monkeypatch.setenv("FAKE_WORKER_STEP", "1.0")  # two runs of a second: still in the queue when looked at
    csrf = sign_in(client)
    response = client.post("/ensembles", data={"csrf_token": csrf, "scenario": "default", "seeds": "2",
                                               "years": "2025-2025"}, headers={"Origin": ORIGIN},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/batches/bat_")
    batch_id = response.headers["location"].rsplit("/", 1)[1]
    queue = client.get("/fragments/queue").text  # the batch takes a slot of the queue: the runs page shows it
    assert f'href="/batches/{batch_id}"' in queue
    wait_for(get_batch(client, batch_id), ("completed",))
    page = client.get(f"/batches/{batch_id}").text
    assert f'src="/api/v1/batches/{batch_id}/report.html"' in page and page.count("status-completed") >= 3
    listing = client.get("/batches").text
    assert batch_id in listing and 'action="/ensembles"' in listing and 'value="high"' in listing
    refused = client.post("/ensembles", data={"csrf_token": csrf, "scenario": "default", "seeds": "0"},
                          headers={"Origin": ORIGIN})
    assert refused.status_code == 422 and 'data-key="seeds"' in refused.text


@pytest.mark.slow
def test_the_real_worker_runs_an_ensemble_that_is_cancelled_then_resumed(tmp_path):
    """The one real batch (two seeds, 300 employees, one year: ~20 s): cancelled once its first run has
    completed, it stops within seconds (the pool's process gets the SIGINT too); resumed, it reuses that run
    and runs the other; the bands and the report come from the batch loop's batch.duckdb."""
    client, _gate = app_client(tmp_path / "workspace", worker=None)
    with client:
        census = client.post("/api/v1/censuses/generate", headers=BEARER, json={"employees": 300, "seed": 5}).json()
        response = client.post("/api/v1/ensembles", headers=BEARER, json={
            "scenario": "default", "seeds": 2, "years": "2025-2025", "census_id": census["id"]})
        get = get_batch(client, response.json()["id"])
        deadline = time.monotonic() + 300
        while get()["progress"]["done"] < 1:
            assert time.monotonic() < deadline and get()["status"] in ("queued", "running"), get()
            time.sleep(0.2)
        asked = time.monotonic()
        assert client.post(f"/api/v1/batches/{get()['id']}/cancel", headers=BEARER).status_code == 202
        cancelled = wait_for(get, ("cancelled", "failed", "completed", "interrupted"), 60)
        assert cancelled["status"] == "cancelled" and cancelled["resumable"], cancelled
        assert time.monotonic() - asked < 15  # not the run's whole remaining time, nor the cancel grace
        assert client.post(f"/api/v1/batches/{get()['id']}/resume", headers=BEARER).status_code == 202
        batch = wait_for(get, ("completed", "failed", "interrupted"), 300)
        assert batch["status"] == "completed", batch
        assert sorted((r["run_id"], r["reused"]) for r in batch["runs"]) == [("default/seed-42", True),
                                                                              ("default/seed-43", False)]
        sim = tmp_path / "workspace" / "batches" / batch["id"] / "sim"
        assert all((sim / "runs" / "default" / f"seed-{s}" / "simulation.duckdb").is_file() for s in (42, 43))
        rows = client.get(f"{batch['links']['bands']}?metric=hires", headers=BEARER).json()["items"]
        assert [(r["year"], r["runs"]) for r in rows] == [(2025, 2)]
        assert rows[0]["min"] <= rows[0]["p10"] <= rows[0]["p50"] <= rows[0]["p90"] <= rows[0]["max"]
        report = client.get(batch["links"]["report"], headers=BEARER).text
        assert 'data-chart="fan-default-' in report and str(tmp_path) not in report
