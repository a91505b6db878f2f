"""`planwise serve`'s limits (docs/serve.md, "Runs: queue, progress, cancel, restart"): a batch holds
``max_concurrent`` slots of the server's ``--max-concurrent`` (first in, first out: a job waits for the slots it
needs), a full queue is a 429 with Retry-After, and a database another process holds is a 503 with
Retry-After. In process, with the quick fake worker."""

from __future__ import annotations

import subprocess
import sys
import time

from helpers.serve import BEARER, app_client, completed_run, wait_for


def getter(client, path):
    return lambda: client.get(path, headers=BEARER).json()


def test_a_batch_holds_its_slots_and_a_later_run_waits_for_one(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_STEP", "0.6")
    client, _gate = app_client(tmp_path / "ws", max_concurrent=2)
    with client:
        refused = client.post("/api/v1/ensembles", headers=BEARER, json={"seeds": 2, "max_concurrent": 0})
        assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["key"] == "max_concurrent"
        wide = client.post("/api/v1/ensembles", headers=BEARER,
                           json={"seeds": 3, "years": "2025-2025", "max_concurrent": 5}).json()
        assert wide["max_concurrent"] == 2  # clipped to the server's --max-concurrent
        batch = wait_for(getter(client, f"/api/v1/batches/{wide['id']}"), ("running",))
        run = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2025"}).json()
        time.sleep(0.8)  # several scheduler ticks: the batch holds both slots
        waiting = client.get(f"/api/v1/runs/{run['id']}", headers=BEARER).json()
        assert waiting["status"] == "queued" and waiting["queue_position"] == 1
        assert client.get(f"/api/v1/batches/{batch['id']}", headers=BEARER).json()["status"] == "running"
        wait_for(getter(client, f"/api/v1/runs/{run['id']}"), ("completed",))
        finished = client.get(f"/api/v1/batches/{batch['id']}", headers=BEARER).json()
        assert finished["status"] == "completed" and finished["finished_at"] <= waiting_started(client, run["id"])


def waiting_started(client, run_id):
    return client.get(f"/api/v1/runs/{run_id}", headers=BEARER).json()["started_at"]


def test_a_one_slot_batch_leaves_room_for_a_run(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_STEP", "1.0")
    client, _gate = app_client(tmp_path / "ws", max_concurrent=2)
    with client:
        narrow = client.post("/api/v1/batches", headers=BEARER,
                             json={"scenarios": ["default"], "seeds": 3, "years": "2025-2025"}).json()
        assert narrow["max_concurrent"] == 1  # the default: one run at a time
        wait_for(getter(client, f"/api/v1/batches/{narrow['id']}"), ("running",))
        run = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2025"}).json()
        wait_for(getter(client, f"/api/v1/runs/{run['id']}"), ("running", "completed"), 5)
        assert client.get(f"/api/v1/batches/{narrow['id']}", headers=BEARER).json()["status"] == "running"
        client.post(f"/api/v1/batches/{narrow['id']}/cancel", headers=BEARER)
        wait_for(getter(client, f"/api/v1/batches/{narrow['id']}"), ("cancelled",))


def test_a_full_queue_answers_429_with_retry_after(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_STEP", "2.0")
    client, _gate = app_client(tmp_path / "ws", max_concurrent=1, max_queued=1)
    with client:
        running = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2026"}).json()
        wait_for(getter(client, f"/api/v1/runs/{running['id']}"), ("running",))
        client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2026"})
        full = client.post("/api/v1/ensembles", headers=BEARER, json={"seeds": 2})
        assert full.status_code == 429 and full.json()["error"]["code"] == "queue_full"
        assert int(full.headers["retry-after"]) > 0
        for job in client.get("/api/v1/runs", headers=BEARER).json()["items"]:
            client.post(f"/api/v1/runs/{job['id']}/cancel", headers=BEARER)
        wait_for(getter(client, f"/api/v1/runs/{running['id']}"), ("cancelled",))


def test_a_database_held_by_another_process_is_a_503_with_retry_after(tmp_path, monkeypatch):
    import planwise_core.database.sql as sql
    from planwise_core.serve.workspace import Workspace

    monkeypatch.setattr(sql, "READER_WAIT_SECONDS", 0.3)  # the reader's wait for a writer, shortened
    workspace = Workspace.open(tmp_path / "ws").root
    run_id = "run_20260101_000000_bbbbbb"
    (tmp_path / "empty").write_bytes(b"")
    completed_run(workspace, tmp_path / "empty", run_id)
    database = workspace / "runs" / run_id / "sim" / "simulation.duckdb"
    database.unlink()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # a writer holds the run's database
        client, _gate = app_client(workspace)
        with client:
            response = client.get(f"/api/v1/runs/{run_id}/summary", headers=BEARER)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "2" and response.json()["error"]["code"] == "database_busy"
            assert str(workspace) not in response.text
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_the_batch_forms_take_runs_at_once(tmp_path):
    from helpers.serve import ORIGIN, sign_in

    client, _gate = app_client(tmp_path / "ws", max_concurrent=3)
    with client:
        csrf = sign_in(client)
        assert 'name="max_concurrent"' in client.get("/batches").text
        refused = client.post("/ensembles", data={"csrf_token": csrf, "seeds": "2", "max_concurrent": "0"},
                              headers={"Origin": ORIGIN})
        assert refused.status_code == 422 and 'data-key="max_concurrent"' in refused.text
        started = client.post("/ensembles", data={"csrf_token": csrf, "seeds": "2", "years": "2025-2025",
                                                  "max_concurrent": "2"}, headers={"Origin": ORIGIN},
                              follow_redirects=False)
        batch_id = started.headers["location"].rsplit("/", 1)[1]
        batch = wait_for(getter(client, f"/api/v1/batches/{batch_id}"), ("completed",))
        assert batch["max_concurrent"] == 2
