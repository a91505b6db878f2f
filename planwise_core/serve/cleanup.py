"""Disk clean-up from the About page (docs/serve.md, "Pages"): the build folders completed runs keep (their
checkpoints and dbt files: a completed run needs none of them), and runs that ended before a number of days
ago, deleted whole. Nothing queued or running is touched; a first request only shows what would go."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from planwise_core.serve.jobs import TERMINAL, Scheduler
from planwise_core.serve.workspace import Workspace

BUILD = ".simulation.duckdb.build"


def size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def _ended_before(job: dict, days: int) -> bool:
    finished = job.get("finished_at")
    if job["status"] not in TERMINAL or not finished:
        return False
    return dt.datetime.fromisoformat(finished) < dt.datetime.now() - dt.timedelta(days=days)


def plan(ws: Workspace, sched: Scheduler, builds: bool, older_than_days: int | None) -> dict:
    """What a clean-up removes: ``{"builds": [(run id, bytes)], "runs": [(run id, bytes)], "bytes": total}``."""
    runs = [j for j in sched.of_kind("run") if older_than_days is not None and _ended_before(j, older_than_days)]
    doomed = {j["id"] for j in runs}
    found = {"runs": [(j["id"], size(ws.folder("run", j["id"]))) for j in runs], "builds": []}
    if builds:
        for job in sched.of_kind("run"):
            build = ws.folder("run", job["id"]) / "sim" / BUILD
            if job["status"] == "completed" and job["id"] not in doomed and build.is_dir():
                found["builds"].append((job["id"], size(build)))
    found["bytes"] = sum(b for _i, b in found["runs"] + found["builds"])
    return found


def apply(ws: Workspace, sched: Scheduler, found: dict) -> int:
    """Remove what ``plan`` found, checking each job is still ended; returns the bytes freed."""
    freed = 0
    for run_id, nbytes in found["builds"]:
        if sched.jobs.get(run_id, {}).get("status") == "completed":
            shutil.rmtree(ws.folder("run", run_id) / "sim" / BUILD, ignore_errors=True)
            freed += nbytes
    for run_id, nbytes in found["runs"]:
        if sched.jobs.get(run_id, {}).get("status") in TERMINAL:
            shutil.rmtree(ws.folder("run", run_id), ignore_errors=True)
            sched.jobs.pop(run_id, None)
            freed += nbytes
    return freed
