"""`planwise serve` end to end: a real server subprocess on 127.0.0.1 running real small simulations (300
employees, 2025-2026) through its worker processes: the compatibility endpoint, downloads, cancel, resume,
the server killed mid-run and restarted (the run becomes interrupted, never stuck), SSE followed across the
restart with Last-Event-ID, and the resumed run's tables equal to an uninterrupted run's (docs/serve.md)."""

from __future__ import annotations

import io
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from helpers.sql import table_digest
from helpers.serve import TOKEN, start_server

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Server:
    def __init__(self, workspace: Path):
        self.workspace, self.log = workspace, workspace.parent / "server.log"
        self.proc, self.url = start_server(workspace, self.log, "--max-concurrent", "1")

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict | str, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={**AUTH, "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                status, raw, head = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, raw, head = exc.code, exc.read(), dict(exc.headers)
        kind = head.get("content-type", "")
        return status, json.loads(raw) if kind.startswith("application/json") else raw, head

    def run(self, run_id: str) -> dict:
        return self.call("GET", f"/api/v1/runs/{run_id}")[1]

    def events(self, run_id: str, after: int = 0) -> list[dict]:
        return self.call("GET", f"/api/v1/runs/{run_id}/events.json?after={after}")[1]["items"]

    def wait(self, run_id: str, until, seconds: float = 240) -> dict:
        deadline = time.monotonic() + seconds
        while not until(self.run(run_id)):
            assert time.monotonic() < deadline, self.run(run_id)
            time.sleep(0.25)
        return self.run(run_id)

    def stop(self, sig=signal.SIGINT) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("e2e") / "workspace")
    status, census, _ = server.call("POST", "/api/v1/censuses/generate", {"employees": 300, "seed": 5})
    assert status == 201, census
    yield server, census["id"]
    if server.proc.poll() is None:
        server.stop()


def digests(database: Path) -> dict:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {t: table_digest(con, t) for t in ("fct_yearly_events", "fct_workforce_snapshot")}
    finally:
        con.close()


@pytest.fixture(scope="module")
def uninterrupted(served) -> dict:
    """One run through the compatibility endpoint (2025-2026, the module's census): its response body, which the
    first test checks and whose tables the interrupted and resumed run of another test must equal."""
    server, census_id = served
    status, body, _ = server.call("POST", "/api/v1/simulation/run",
                                  {"start_year": 2025, "end_year": 2026, "census_id": census_id})
    assert status == 200, body
    return body


def test_the_compatibility_endpoint_runs_a_real_simulation_and_its_results_download(served, uninterrupted):
    server, _ = served
    body = uninterrupted
    data = body["data"]
    assert body["status"] == "success" and data["success"] and data["completed_years"] == [2025, 2026]
    run_id, database = data["simulation_id"], server.workspace / data["database"]
    con = duckdb.connect(str(database), read_only=True)
    actives = con.execute("select count(*) from fct_workforce_snapshot where simulation_year = 2026 "
                          "and employment_status = 'active'").fetchone()[0]
    con.close()
    summary = server.call("GET", f"/api/v1/runs/{run_id}/summary")[1]
    assert [r["simulation_year"] for r in summary] == [2025, 2026] and summary[-1]["end_headcount"] == actives
    status, page, head = server.call("GET", f"/api/v1/runs/{run_id}/report.html")
    assert status == 200 and b"<svg" in page and "sandbox" in head["content-security-policy"]
    status, export, _ = server.call("POST", f"/api/v1/runs/{run_id}/exports", {"format": "xlsx"})
    assert status == 202
    import openpyxl

    deadline = time.monotonic() + 120
    while (download := server.call("GET", export["href"]))[0] == 202:  # preparing in the background
        assert time.monotonic() < deadline
        time.sleep(0.25)
    workbook = openpyxl.load_workbook(io.BytesIO(download[1]), read_only=True)
    assert len(workbook.sheetnames) >= 3


def test_cancel_resume_kill_restart_and_sse_across_the_restart(served, uninterrupted):
    server, census_id = served
    reference = digests(server.workspace / uninterrupted["data"]["database"])  # what the resumed run must equal
    status, run, _ = server.call("POST", "/api/v1/runs", {"years": "2025-2026", "census_id": census_id},
                                 {"Idempotency-Key": "e2e-1"})
    assert status == 202
    run_id = run["id"]
    server.wait(run_id, lambda r: r["progress"]["done"] >= 1)  # the foundation is built
    assert server.call("POST", f"/api/v1/runs/{run_id}/cancel")[0] == 202
    cancelled = server.wait(run_id, lambda r: r["status"] not in ("running", "cancelling"), 60)
    assert cancelled["status"] == "cancelled" and cancelled["resumable"], cancelled
    assert server.call("POST", f"/api/v1/runs/{run_id}/resume")[0] == 202
    running = server.wait(run_id, lambda r: r["status"] == "running" and r["progress"]["steps"], 120)
    worker = json.loads((server.workspace / "runs" / run_id / "job.json").read_text())["pid"]
    seen = server.events(run_id)[-1]["id"]
    server.stop(signal.SIGKILL)  # no goodbye: the worker must notice on its own
    deadline = time.monotonic() + 5
    while _alive(worker):
        assert time.monotonic() < deadline, "the worker outlived its server"
        time.sleep(0.1)
    server.proc, server.url = start_server(server.workspace, server.log, "--max-concurrent", "1")
    interrupted = server.run(run_id)
    assert interrupted["status"] == "interrupted" and interrupted["resumable"], interrupted
    request = urllib.request.Request(server.url + f"/api/v1/runs/{run_id}/events",
                                     headers={**AUTH, "Last-Event-ID": str(seen)})
    with urllib.request.urlopen(request, timeout=60) as stream:
        text = stream.read().decode()
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    assert ids and ids[0] == seen + 1 and "event: finished" in text and '"interrupted"' in text
    assert server.call("POST", f"/api/v1/runs/{run_id}/resume")[0] == 202
    done = server.wait(run_id, lambda r: r["status"] not in ("queued", "running"))
    assert done["status"] == "completed", done
    assert running["attempt"] == 2 and done["attempt"] == 3
    database = server.workspace / "runs" / run_id / "sim" / "simulation.duckdb"
    assert digests(database) == reference


def test_the_token_is_never_written_to_the_server_log(served):
    server, _census = served
    urllib.request.urlopen(urllib.request.Request(server.url + f"/?token={TOKEN}"), timeout=30).read()
    logs = (server.workspace / ".serve" / "serve.log").read_text()
    assert "GET / " in logs and TOKEN not in logs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped by its dead parent's reaper) is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_the_server_stops_quickly_with_event_streams_open(served):
    """Three open streams (25 s each) must not hold the stop: Ctrl-C ends them at once."""
    import threading

    server, _census = served

    def listen():
        request = urllib.request.Request(server.url + "/api/v1/events", headers=AUTH)
        try:
            with urllib.request.urlopen(request, timeout=60) as stream:
                stream.read()
        except OSError:
            pass
    threads = [threading.Thread(target=listen, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    server.stop(signal.SIGINT)
    assert time.monotonic() - started < 6.0
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
