"""Issue 28, N3: a lost Dask scheduler ends the ensemble in bounded time (docs/batch.md, "When the cluster is lost").

A real scheduler and one worker on 127.0.0.1 (subprocesses); the scheduler is SIGKILLed after the first run
completed and while the second is running (one simulated year each, to keep the test short). The ensemble ends on its own with exit 1, names every lost run,
keeps the completed one, and a re-run (on a local pool) reuses it and finishes the others (from their
checkpoints when a year was kept).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planwise_core.census import generate_census
from helpers.cli import finish, planwise, start

pytestmark = pytest.mark.slow
DASK = Path(sys.executable).parent / "dask"


def _wait_for(condition, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc is None or proc.poll() is None, f"exited early while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _spawn(*args, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PLANWISE_BLOCK_PLUGINS")}
    with log.open("w") as fh:
        return subprocess.Popen([str(DASK), *args], stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_losing_the_scheduler_ends_the_ensemble_and_a_rerun_resumes(tmp_path):
    census = generate_census(120, 5, tmp_path / "census.csv")
    file = tmp_path / "scheduler.json"
    scheduler = _spawn("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--scheduler-file", str(file), log=tmp_path / "scheduler.log")
    worker = None
    try:
        _wait_for(file.exists, 60, "the scheduler file", scheduler)
        address = json.loads(file.read_text())["address"]
        worker = _spawn("worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                        "--no-dashboard", log=tmp_path / "worker.log")
        out = tmp_path / "ens"
        ensemble = start("ensemble", "--seeds", 3, "--first-seed", 70, "--start-year", 2025, "--end-year", 2025,
                         "--census", census, "--dask", address, "--output", out, "--no-report", cwd=tmp_path)
        first = out / "runs" / "ensemble" / "seed-70" / "run.json"
        second = out / "runs" / "ensemble" / "seed-71" / "progress.jsonl"
        _wait_for(lambda: first.exists() and '"completed"' in first.read_text() and second.exists()
                  and '"year"' in second.read_text(), 240, "the second run's start", ensemble)
        os.killpg(scheduler.pid, signal.SIGKILL)
        killed = time.monotonic()
        result = finish(ensemble, timeout=120)
        waited = time.monotonic() - killed
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                _end(proc)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert waited < 90, f"the ensemble took {waited:.0f} s to notice"
    runs = {r["run_id"]: r for r in json.loads((out / "batch.json").read_text())["runs"]}
    assert runs["ensemble/seed-70"]["status"] == "completed"
    for lost in ("ensemble/seed-71", "ensemble/seed-72"):
        assert runs[lost]["status"] == "failed" and "Dask scheduler" in runs[lost]["error"], runs[lost]
        assert lost in result.stderr

    again = planwise("ensemble", "--seeds", 3, "--first-seed", 70, "--start-year", 2025, "--end-year", 2025,
                     "--census", census, "--output", out, "--no-report", "--max-concurrent", 1, "--json",
                     cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    runs = {r["run_id"]: r for r in json.loads(again.stdout)["runs"]}
    assert runs["ensemble/seed-70"]["reused"] is True
    assert all(r["status"] == "completed" and r["completed_years"] == [2025] for r in runs.values())
    print(f"the ensemble ended {waited:.1f} s after the scheduler was killed")
