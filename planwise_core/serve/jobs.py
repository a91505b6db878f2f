"""The job queue: job records on disk (``runs/<id>/job.json``), one worker process per job, progress followed
into ``events.jsonl``, cancel by SIGINT, resume, and reconciliation at start (docs/serve.md, "Runs")."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time

import psutil

from planwise_core.serve.events import append_event, now
from planwise_core.serve.workspace import Workspace, read_json, write_json

log = logging.getLogger("planwise.serve")

ACTIVE = ("starting", "running", "cancelling")
TERMINAL = ("completed", "failed", "cancelled", "interrupted")
STATUSES = ("queued",) + ACTIVE + TERMINAL
INTERRUPTED_EXIT, ORPHANED_EXIT = 130, 70
TICK_SECONDS = 0.2
KILL_AFTER_TERM_SECONDS = 10.0
WORKER_ENV = "PLANWISE_SERVE_WORKER"  # a script run instead of the real worker (tests: a quick fake one)


RETRY_AFTER_SECONDS = 30  # a full queue: the time a short job takes to free a place


class JobError(Exception):
    """A job request that conflicts with the job's state (HTTP 409) or the queue (429, with Retry-After)."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def default_concurrency() -> int:
    from planwise_core.batch.executors import run_memory_estimate

    by_memory = int(psutil.virtual_memory().available * 0.8 // run_memory_estimate(10_000))
    return max(1, min(os.cpu_count() or 1, by_memory))


class Scheduler:
    def __init__(self, ws: Workspace, max_concurrent: int, max_queued: int = 100, cancel_grace: float = 30.0,
                 worker: str | None = None):
        self.ws, self.max_concurrent, self.max_queued, self.cancel_grace = ws, max_concurrent, max_queued, cancel_grace
        self.worker = worker or os.environ.get(WORKER_ENV)
        self.jobs: dict[str, dict] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.offsets: dict[str, int] = {}
        self.term_sent: dict[str, float] = {}
        self.stopping = asyncio.Event()
        self.interrupted_at_start: list[str] = []

    # ------------------------------------------------------------------ records

    def path(self, job_id: str, name: str):
        return self.ws.folder(job_id[:3], job_id) / name  # runs/<run_id>, batches/<bat_id>, fits/<fit_id>

    def of_kind(self, *kinds: str) -> list[dict]:
        """The jobs of these kinds (``run``; ``batch`` and ``ensemble``), newest first."""
        jobs = [j for j in self.jobs.values() if j.get("kind", "run") in kinds]
        return sorted(jobs, key=lambda j: j.get("created_at") or "", reverse=True)

    def save(self, job: dict) -> None:
        write_json(self.path(job["id"], "job.json"), job)
        self.jobs[job["id"]] = job

    def event(self, job: dict, kind: str, **data) -> None:
        append_event(self.path(job["id"], "events.jsonl"), kind, **data)
        if kind in ("queued", "started", "finished", "cancel_requested"):
            append_event(self.ws.serve_dir / "events.jsonl", "job", id=job["id"], status=job["status"])

    def load(self) -> None:
        """Read every job record; a job a stopped or killed server left active becomes ``interrupted``."""
        folders = [self.ws.root / kind for kind in ("runs", "batches", "fits")]
        for folder in sorted(f for kind in folders if kind.is_dir() for f in kind.iterdir()):
            job = read_json(folder / "job.json")
            if not job or job.get("id") != folder.name:
                continue
            self.jobs[job["id"]] = job
            if job["status"] in ACTIVE:
                self._reconcile(job)

    def _reconcile(self, job: dict) -> None:
        if _alive(job.get("pid"), job.get("pid_create_time")):
            try:
                os.kill(job["pid"], signal.SIGKILL)  # a worker of a previous server: its run is resumable
            except OSError:
                pass
        record = read_json(self.path(job["id"], "sim/run.json")) or {}
        if record.get("status") == "completed":
            job.update(status="completed", finished_at=record.get("finished_at"), error=None)
        else:
            job.update(status="interrupted", error="the server stopped while this run was running; resume it",
                       finished_at=now())
            self.interrupted_at_start.append(job["id"])
        self.save(job)
        self.event(job, "finished", status=job["status"], error=job.get("error"))

    # ------------------------------------------------------------------ requests

    def queued(self) -> list[dict]:
        return sorted((j for j in self.jobs.values() if j["status"] == "queued"), key=lambda j: j["queued_at"])

    def position(self, job: dict) -> int | None:
        ids = [j["id"] for j in self.queued()]
        return ids.index(job["id"]) + 1 if job["id"] in ids else None

    def find_idempotent(self, key: str | None, request_sha: str) -> dict | None:
        if not key:
            return None
        for job in self.jobs.values():
            if job.get("idempotency_key") == key:
                if job.get("request_sha256") != request_sha:
                    raise JobError(409, "idempotency_conflict",
                                   "this Idempotency-Key was used before with a different request")
                return job
        return None

    def submit(self, job: dict) -> dict:
        if len(self.queued()) >= self.max_queued:
            raise JobError(429, "queue_full", f"the queue holds {self.max_queued} jobs; wait for some to finish",
                           {"Retry-After": str(RETRY_AFTER_SECONDS)})
        job.update(status="queued", queued_at=now(), attempt=job.get("attempt", 0) + 1, cancel_requested_at=None)
        self.save(job)
        self.event(job, "queued", attempt=job["attempt"])
        return job

    def cancel(self, job_id: str) -> dict:
        job = self.jobs[job_id]
        if job["status"] in TERMINAL:
            raise JobError(409, "not_cancellable", f"the run is already {job['status']}")
        job["cancel_requested_at"] = now()
        if job["status"] == "queued":
            job.update(status="cancelled", finished_at=now())
            self.save(job)
            self.event(job, "finished", status="cancelled", error=None)
            return job
        job["status"] = "cancelling"
        self.save(job)
        self.event(job, "cancel_requested")
        self._signal(job_id, signal.SIGINT)
        return job

    def resume(self, job_id: str) -> dict:
        job = self.jobs[job_id]
        if not resumable(self.ws, job):
            raise JobError(409, "not_resumable", f"a {job['status']} run cannot be resumed")
        job.update(error=None, finished_at=None, exit_code=None)
        return self.submit(job)

    def _signal(self, job_id: str, sig: int) -> None:
        proc = self.procs.get(job_id)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception:  # the scheduler must outlive any one job's trouble
                log.exception("scheduler tick failed")
            try:
                await asyncio.wait_for(self.stopping.wait(), TICK_SECONDS)
            except asyncio.TimeoutError:
                pass

    def busy_slots(self) -> int:
        """Slots held by running jobs: one per run or fit, a batch its ``slots`` (its runs at once)."""
        return sum(slots(self.jobs[job_id]) for job_id in self.procs)

    def tick(self) -> None:
        for job_id in list(self.procs):
            self._follow(self.jobs[job_id])
            self._escalate(job_id)
            if self.procs[job_id].poll() is not None:
                self._finish(self.jobs[job_id], self.procs.pop(job_id).returncode)
        for job in self.queued():  # first in, first out: a batch waiting for its slots holds back later jobs
            if self.busy_slots() + slots(job) > self.max_concurrent or self.stopping.is_set():
                break
            self._start(job)

    def _start(self, job: dict) -> None:
        folder = self.path(job["id"], "")
        script = self.worker
        command = [sys.executable, script] if script else [sys.executable, "-m", "planwise_core.serve.worker"]
        env = {**os.environ, "PLANWISE_DUCKDB_THREADS": str(max(1, (os.cpu_count() or 1) // self.max_concurrent))}
        with (folder / "worker.log").open("ab") as out:
            proc = subprocess.Popen(command + [self.ws.relative(folder)], cwd=self.ws.root, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
        self.procs[job["id"]] = proc
        self.offsets[job["id"]] = _size(folder / "sim" / "progress.jsonl")
        job.update(status="running", started_at=now(), pid=proc.pid, pid_create_time=_create_time(proc.pid))
        self.save(job)
        self.event(job, "started", attempt=job["attempt"], pid=None)

    def _follow(self, job: dict) -> None:
        path = self.path(job["id"], "sim/progress.jsonl")
        offset = self.offsets.get(job["id"], 0)
        try:
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        self.offsets[job["id"]] = offset + end
        for line in data[:end].decode("utf-8", "replace").splitlines():
            try:
                self._progress_event(job, json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue

    def _progress_event(self, job: dict, line: dict) -> None:
        stage = line["stage"]
        if stage in ("foundation", "year"):
            job["_stage_started"] = line["t"]
            self.event(job, "stage", stage=stage, year=line.get("year"), level=line.get("level"))
        elif stage in ("foundation_done", "year_done"):
            seconds = round(line["t"] - job.pop("_stage_started", line["t"]), 2)
            self.event(job, "step_done", stage=stage.removesuffix("_done"), year=line.get("year"), seconds=seconds)
        elif stage == "run":  # a batch's child run finished (the batch worker's own progress line)
            self.event(job, "run", run_id=line["run_id"], status=line["status"], seconds=line.get("seconds"))

    def _escalate(self, job_id: str) -> None:
        job = self.jobs[job_id]
        if job["status"] != "cancelling" or not job.get("cancel_requested_at"):
            return
        waited = time.time() - _epoch(job["cancel_requested_at"])
        if waited > self.cancel_grace and job_id not in self.term_sent:
            self.term_sent[job_id] = time.time()
            self._signal(job_id, signal.SIGTERM)
        elif job_id in self.term_sent and time.time() - self.term_sent[job_id] > KILL_AFTER_TERM_SECONDS:
            self._signal(job_id, signal.SIGKILL)

    def _finish(self, job: dict, code: int) -> None:
        self.term_sent.pop(job["id"], None)
        record = read_json(self.path(job["id"], "sim/run.json")) or {}
        if code == 0 and record.get("status") in ("completed", "failed"):
            status, error = record["status"], record.get("error")
        elif job.get("cancel_requested_at"):
            status, error = "cancelled", None
        elif code in (INTERRUPTED_EXIT, -signal.SIGINT, -signal.SIGTERM, ORPHANED_EXIT):
            status, error = "interrupted", "the run was interrupted; resume it"
        else:
            status, error = "failed", record.get("error") or f"the worker stopped with exit code {code} (worker.log)"
        job.update(status=status, error=self.ws.scrub(error) if error else None, exit_code=code,
                   finished_at=now(), pid=None)
        self.save(job)
        self.event(job, "finished", status=status, error=job["error"])

    def shutdown(self, wait_seconds: float = 15.0) -> int:
        """SIGINT every worker, wait for them to record ``interrupted``; returns how many were stopped."""
        self.stopping.set()
        stopped = list(self.procs)
        for job_id in stopped:
            self._signal(job_id, signal.SIGINT)
        deadline = time.monotonic() + wait_seconds
        while self.procs and time.monotonic() < deadline:
            for job_id in list(self.procs):
                if self.procs[job_id].poll() is not None:
                    self._follow(self.jobs[job_id])
                    self._finish(self.jobs[job_id], self.procs.pop(job_id).returncode)
            time.sleep(0.1)
        for job_id, proc in list(self.procs.items()):
            proc.kill()
            proc.wait()
            self._finish(self.jobs[job_id], self.procs.pop(job_id).returncode)
        return len(stopped)


def slots(job: dict) -> int:
    return max(1, int(job.get("slots") or 1))


def resumable(ws: Workspace, job: dict) -> bool:
    return job["status"] in ("interrupted", "failed", "cancelled") and (
        ws.folder(job["id"][:3], job["id"]) / "sim" / "run.json").is_file()


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _alive(pid, create_time) -> bool:
    if not pid:
        return False
    try:
        return psutil.Process(pid).create_time() == create_time
    except psutil.Error:
        return False


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()
