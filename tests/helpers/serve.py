"""What the `planwise serve` tests share: an in-process app with the quick fake worker, a real server
subprocess, and waiting for a run to reach a state (docs/serve.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TOKEN = "test-token-" + "x" * 32
BEARER = {"Authorization": f"Bearer {TOKEN}"}
FAKE_WORKER = str(ROOT / "tests" / "helpers" / "fake_worker.py")
HOST = "testserver"
ORIGIN = f"http://{HOST}"


def app_client(workspace: Path, raise_server_exceptions: bool = True, **settings):
    """(TestClient, gate) over ``workspace`` with the fake worker; use as a context manager for the lifespan."""
    from starlette.testclient import TestClient

    from planwise_core.serve.app import create_app
    from planwise_core.serve.settings import Settings

    settings.setdefault("worker", FAKE_WORKER)
    gate = create_app(Settings(workspace=workspace, token=TOKEN, allowed_hosts=(HOST,), **settings))
    return TestClient(gate, base_url=ORIGIN, raise_server_exceptions=raise_server_exceptions), gate


def route_table(app):
    """(route, path) of every route, through FastAPI's included routers."""
    for route in app.routes:
        if hasattr(route, "original_router"):
            yield from route_table(route.original_router)
        elif getattr(route, "methods", None):
            yield route


def threaded_server(app):
    """uvicorn on 127.0.0.1, a free port, in a daemon thread; (server, base URL)."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", access_log=False,
                                           log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (server.started and server.servers):
        assert time.monotonic() < deadline, "the threaded server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def sign_in(client) -> str:
    """Sign the client in through ``/?token=``; returns the page's CSRF token."""
    response = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/scenarios").text
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def wait_for(get_run, statuses: tuple[str, ...], seconds: float = 60.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        run = get_run()
        if run["status"] in statuses:
            return run
        assert time.monotonic() < deadline, f"run stayed {run['status']}, wanted {statuses}: {run}"
        time.sleep(0.1)


def start_server(workspace: Path, log: Path, *extra: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """A real ``planwise serve --port 0`` subprocess; (process, base URL) once it listens."""
    server_json = workspace / ".serve" / "server.json"
    server_json.unlink(missing_ok=True)
    env = {**{k: v for k, v in os.environ.items() if k != "PLANWISE_SERVE_WORKER"}, "PLANWISE_SERVE_TOKEN": TOKEN,
           **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "planwise_core", "serve", str(workspace), "--port", "0", *extra],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=workspace.parent)
    deadline = time.monotonic() + 60
    while not server_json.is_file():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
    return proc, json.loads(server_json.read_text())["url"]


def completed_run(workspace: Path, database: Path, run_id: str) -> None:
    """A completed run in the workspace from a real result database of the shared registry."""
    folder = workspace / "runs" / run_id
    (folder / "sim").mkdir(parents=True)
    shutil.copy(database, folder / "sim" / "simulation.duckdb")
    (folder / "sim" / "run.json").write_text(json.dumps({"status": "completed", "completed_years": [2025, 2027]}))
    (folder / "events.jsonl").write_text(json.dumps({"t": "2026-01-01T00:00:00", "type": "finished",
                                                     "status": "completed"}) + "\n")
    job = {"id": run_id, "kind": "run", "status": "completed", "scenario": "report-spec", "seed": 42,
           "years": [2025, 2027], "overrides": {}, "census": {"builtin": 800}, "optimization_level": "max",
           "plugin": None, "created_at": "2026-01-01T00:00:00", "queued_at": "2026-01-01T00:00:00", "attempt": 1,
           "finished_at": "2026-01-01T00:01:00", "error": None,
           "spec": {"folder": f"runs/{run_id}/sim", "census": None, "config": {"simulation": {}}}}
    (folder / "job.json").write_text(json.dumps(job))
