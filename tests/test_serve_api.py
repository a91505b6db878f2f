"""`planwise serve`'s API (docs/serve.md, "API"): censuses, scenarios, the queue, idempotency, cancel,
resume, restart reconciliation, events, the compatibility endpoint. In process, with the quick fake worker
(tests/helpers/fake_worker.py); the real worker runs in tests/test_serve_e2e.py."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from helpers.serve import BEARER, ORIGIN, app_client, sign_in, wait_for

CENSUS_HEADER = ("employee_id,employee_ssn,employee_birth_date,employee_hire_date,employee_termination_date,"
                 "employee_gross_compensation,employee_deferral_rate,active\n")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("api") / "workspace"
    client, gate = app_client(workspace, stream_seconds=2.0)
    with client:
        yield client, workspace


def get_run(client, run_id):
    return lambda: client.get(f"/api/v1/runs/{run_id}", headers=BEARER).json()


def census_csv(rows: int, bad: int = 0) -> bytes:
    lines = [CENSUS_HEADER]
    for i in range(rows):
        lines.append(f"E{i:04d},SSN{i:04d},1980-01-01,2015-03-01,,{60000 + i},0.05,true\n")
    for i in range(bad):
        lines.append(f"B{i:04d},SSNB{i:03d},1980-01-01,2015-03-01,,-5,0.05,true\n")  # negative pay: dropped
    return "".join(lines).encode()


def test_census_upload_reports_rows_dropped_lines_and_a_profile(api):
    client, workspace = api
    response = client.put("/api/v1/censuses/upload?name=small&census_date=2024-12-31&on_invalid_rows=drop",
                          content=census_csv(20, bad=2), headers={**BEARER, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    census = response.json()
    assert (census["validation"]["rows"], census["validation"]["loaded"], census["validation"]["dropped"]) == (22, 20, 2)
    assert census["format"] == "csv" and len(census["sha256"]) == 64 and census["census_date"] == "2024-12-31"
    assert (workspace / "censuses" / census["id"] / "census.csv").read_bytes() == census_csv(20, bad=2)
    profile = client.get(f"/api/v1/censuses/{census['id']}/profile", headers=BEARER).json()
    assert profile["actives"] == 20
    page = client.get(f"/censuses/{census['id']}", headers=BEARER).text
    assert "Dropped rows" in page and census["sha256"] in page
    listed = client.get("/api/v1/censuses", headers=BEARER).json()["items"]
    assert [c["id"] for c in listed] == [census["id"]]


def test_a_census_refused_whole_is_a_422_and_nothing_is_kept(api):
    client, workspace = api
    before = set((workspace / "censuses").iterdir())
    response = client.put("/api/v1/censuses/upload?name=bad", content=b"name,age\nx,1\n",
                          headers={**BEARER, "Content-Type": "text/csv"})
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    assert problems and any("employee_id" in p["message"] for p in problems)
    assert set((workspace / "censuses").iterdir()) == before


def test_scenario_problems_are_tied_to_their_key_and_nothing_is_saved(api):
    client, workspace = api
    bad = client.post("/api/v1/scenarios", headers=BEARER,
                      json={"name": "turnover", "overrides": {"workforce.total_termination_rate": 1.5}})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["key"] == "workforce.total_termination_rate"
    assert not (workspace / "scenarios" / "turnover").exists()
    created = client.post("/api/v1/scenarios", headers=BEARER,
                          json={"name": "turnover", "overrides": {"workforce.total_termination_rate": 0.2}})
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    stale = client.put("/api/v1/scenarios/turnover", headers={**BEARER, "If-Match": '"0"'}, json={"overrides": {}})
    assert stale.status_code == 409
    saved = client.put("/api/v1/scenarios/turnover", headers={**BEARER, "If-Match": '"1"'},
                       json={"overrides": {"workforce.total_termination_rate": 0.25}})
    assert saved.status_code == 200 and saved.headers["etag"] == '"2"'
    one = client.get("/api/v1/scenarios/turnover", headers=BEARER).json()
    assert one["effective_config"]["workforce"]["total_termination_rate"] == 0.25
    check = client.post("/api/v1/scenarios/turnover/validate", headers=BEARER,
                        json={"overrides": {"simulation.end_year": 2020}})
    assert check.status_code == 200 and not check.json()["valid"]
    assert [p["key"] for p in check.json()["problems"] if p["severity"] == "error"] == ["simulation.end_year"]


def test_parameter_table_problems_name_the_table_and_a_valid_one_is_saved(api):
    client, workspace = api
    read = client.get("/api/v1/scenarios/turnover/tables/job_levels", headers=BEARER)
    built_in, match = read.text, {**BEARER, "If-Match": read.headers["etag"]}
    broken = built_in.replace("\n", "\nnot,a,valid,row\n", 1)
    refused = client.put("/api/v1/scenarios/turnover/tables/job_levels", content=broken, headers=match)
    assert refused.status_code == 422 and refused.json()["error"]["problems"]
    assert not (workspace / "scenarios" / "turnover" / "tables" / "job_levels.csv").exists()
    accepted = client.put("/api/v1/scenarios/turnover/tables/job_levels", content=built_in, headers=match)
    assert accepted.status_code == 200 and accepted.json()["source"] == "replaced"
    match["If-Match"] = accepted.headers["etag"]
    batch = yaml.safe_load(client.get("/api/v1/batch-file", headers=BEARER).text)
    entry = batch["scenarios"][0]
    assert entry == {"name": "turnover", "description": "", "assumptions": "scenarios/turnover/tables",
                     "overrides": {"workforce.total_termination_rate": 0.25}}
    assert client.delete("/api/v1/scenarios/turnover/tables/job_levels", headers=match).status_code == 204


def test_a_run_is_validated_before_it_is_queued(api):
    client, workspace = api
    before = set((workspace / "runs").iterdir())
    bad = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2026",
                                                           "set": {"workforce.total_termination_rate": 2}})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["key"] == "workforce.total_termination_rate"
    assert client.post("/api/v1/runs", headers=BEARER, json={"scenario": "nope"}).status_code == 404
    assert client.post("/api/v1/runs", headers=BEARER, json={"census_id": "cen_20200101_000000_000000"}).status_code == 404
    assert set((workspace / "runs").iterdir()) == before


def test_a_run_goes_through_the_queue_with_its_progress_and_command(api):
    client, workspace = api
    response = client.post("/api/v1/runs", headers=BEARER, json={"scenario": "turnover", "years": "2025-2026", "seed": 7})
    assert response.status_code == 202 and response.headers["location"].endswith(response.json()["id"])
    run = wait_for(get_run(client, response.json()["id"]), ("completed",))
    assert run["progress"]["done"] == run["progress"]["total"] == 3
    assert run["seed"] == 7 and run["years"] == [2025, 2026] and run["resumable"] is False
    assert run["command"].startswith(f"planwise run --config runs/{run['id']}/sim/config.yaml")
    assert run["result"]["success"] is True and run["result"]["database"].startswith("runs/")
    events = client.get(f"/api/v1/runs/{run['id']}/events.json", headers=BEARER).json()
    kinds = [e["type"] for e in events["items"]]
    assert kinds == ["queued", "started", "stage", "step_done", "stage", "step_done", "stage", "step_done", "finished"]
    assert events["terminal"] is True and events["last_event_id"] == 9
    later = client.get(f"/api/v1/runs/{run['id']}/events.json?after=7", headers=BEARER).json()
    assert [e["id"] for e in later["items"]] == [8, 9]
    job = json.loads((workspace / "runs" / run["id"] / "job.json").read_text())
    assert job["spec"]["config"]["workforce"]["total_termination_rate"] == 0.25


def test_sse_replays_from_last_event_id_and_ends_after_finished(api):
    client, _ws = api
    run_id = client.get("/api/v1/runs?status=completed", headers=BEARER).json()["items"][0]["id"]
    with client.stream("GET", f"/api/v1/runs/{run_id}/events", headers={**BEARER, "Last-Event-ID": "6"}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    assert text.startswith("retry: 1000") and ids == [7, 8, 9] and "event: finished" in text


def test_idempotency_key_gives_the_same_run_back_and_refuses_another_body(api):
    client, _ws = api
    body = {"years": "2025-2025", "seed": 11}
    first = client.post("/api/v1/runs", headers={**BEARER, "Idempotency-Key": "k-1"}, json=body)
    again = client.post("/api/v1/runs", headers={**BEARER, "Idempotency-Key": "k-1"}, json=body)
    assert (first.status_code, again.status_code) == (202, 200) and first.json()["id"] == again.json()["id"]
    other = client.post("/api/v1/runs", headers={**BEARER, "Idempotency-Key": "k-1"}, json={**body, "seed": 12})
    assert other.status_code == 409
    wait_for(get_run(client, first.json()["id"]), ("completed",))


def test_cancel_keeps_a_run_resumable_and_resume_finishes_it(api, monkeypatch):
    client, workspace = api
    monkeypatch.setenv("FAKE_WORKER_STEP", "1.0")
    run_id = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2027"}).json()["id"]
    wait_for(lambda: {"status": "running"} if (workspace / "runs" / run_id / "sim" / "done.json").exists()
             else {"status": "waiting"}, ("running",), 30)
    cancelled = client.post(f"/api/v1/runs/{run_id}/cancel", headers=BEARER)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelling"
    run = wait_for(get_run(client, run_id), ("cancelled",))
    assert run["resumable"] is True and run["cancel_requested"] is True
    assert client.post(f"/api/v1/runs/{run_id}/cancel", headers=BEARER).status_code == 409
    monkeypatch.setenv("FAKE_WORKER_STEP", "0.05")
    resumed = client.post(f"/api/v1/runs/{run_id}/resume", headers=BEARER)
    assert resumed.status_code == 202 and resumed.json()["attempt"] == 2
    run = wait_for(get_run(client, run_id), ("completed",))
    assert client.post(f"/api/v1/runs/{run_id}/resume", headers=BEARER).status_code == 409
    done = json.loads((workspace / "runs" / run_id / "sim" / "done.json").read_text())
    assert done == ["foundation", 2025, 2026, 2027]  # each step once: the resume skipped the finished ones


def test_a_queued_run_is_cancelled_at_once_and_the_queue_has_a_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_STEP", "2.0")
    client, _gate = app_client(tmp_path / "ws", max_concurrent=1, max_queued=1)
    with client:
        running = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2026"}).json()
        wait_for(get_run(client, running["id"]), ("running",))
        queued = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2026"}).json()
        assert queued["status"] == "queued" and queued["queue_position"] == 1
        assert client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2026"}).status_code == 429
        cancelled = client.post(f"/api/v1/runs/{queued['id']}/cancel", headers=BEARER).json()
        assert cancelled["status"] == "cancelled" and cancelled["resumable"] is False
        client.post(f"/api/v1/runs/{running['id']}/cancel", headers=BEARER)
        wait_for(get_run(client, running["id"]), ("cancelled",))


def test_a_restart_turns_orphaned_jobs_into_interrupted_never_stuck(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_STEP", "0.05")
    workspace = tmp_path / "ws"
    client, _gate = app_client(workspace)
    with client:
        run_id = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2025"}).json()["id"]
        wait_for(get_run(client, run_id), ("completed",))
    job_file = workspace / "runs" / run_id / "job.json"
    job = json.loads(job_file.read_text())
    orphan = {**job, "id": "run_20260101_000000_aaaaaa", "status": "running", "pid": 2**22 + 7, "pid_create_time": 1.0}
    (workspace / "runs" / orphan["id"]).mkdir()
    (workspace / "runs" / orphan["id"] / "job.json").write_text(json.dumps(orphan))
    again, _gate = app_client(workspace)
    with again:
        run = again.get(f"/api/v1/runs/{orphan['id']}", headers=BEARER).json()
        assert run["status"] == "interrupted" and "resume" in run["error"]
        assert again.get(f"/api/v1/runs/{run_id}", headers=BEARER).json()["status"] == "completed"


def test_the_compatibility_endpoint_keeps_the_seed_shape(api):
    client, workspace = api
    jobs = set(workspace.glob("runs/*/job.json"))

    def new_job_level() -> str:
        (job,) = set(workspace.glob("runs/*/job.json")) - jobs
        jobs.add(job)
        return json.loads(job.read_text())["optimization_level"]

    response = client.post("/api/v1/simulation/run", headers=BEARER,
                           json={"start_year": 2025, "end_year": 2026, "optimization_level": "high"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["data"]["completed_years"] == [2025, 2026]
    assert not os.path.isabs(body["data"]["database"])
    assert new_job_level() == "high"  # the level asked for
    default = client.post("/api/v1/simulation/run", headers=BEARER, json={"start_year": 2025, "end_year": 2025})
    assert default.status_code == 200, default.text
    assert new_job_level() == "max"  # else the default: max (the compiled engine)
    (workspace / "my.yaml").write_text("simulation: {start_year: 2025, end_year: 2025}\nworkforce: {total_termination_rate: 5}\n")
    invalid = client.post("/api/v1/simulation/run", headers=BEARER,
                          json={"start_year": 2025, "end_year": 2025, "config_path": "my.yaml"})
    assert invalid.status_code == 422 and "total_termination_rate" in invalid.json()["detail"]
    years = client.post("/api/v1/simulation/run", headers=BEARER, json={"start_year": "x", "end_year": 2025})
    assert years.status_code == 422 and set(years.json()) == {"detail"}


def test_pages_work_without_javascript(api):
    """A plain form POST answers 303 (or 422 with the problem next to its field)."""
    client, _ws = api
    csrf = sign_in(client)
    headers = {"Origin": ORIGIN}
    form = {"csrf_token": csrf, "revision": "2", "workforce.total_termination_rate": "1.5", "description": ""}
    page = client.post("/scenarios/turnover", data=form, headers=headers)
    assert page.status_code == 422
    slot = page.text.split('data-key="workforce.total_termination_rate"')[1].split("</p>")[0]
    assert "did you mean 0.015" in slot
    saved = client.post("/scenarios/turnover", data={**form, "workforce.total_termination_rate": "0.15"},
                        headers=headers, follow_redirects=False)
    assert saved.status_code == 303
    started = client.post("/runs", data={"csrf_token": csrf, "scenario": "turnover", "years": "2025-2025"},
                          headers=headers, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/runs/run_")
    run_id = started.headers["location"].rsplit("/", 1)[1]
    wait_for(get_run(client, run_id), ("completed",))
    assert "Reproduce" in client.get(f"/runs/{run_id}").text
