"""The batch loop: submit runs, follow their progress, record failures, aggregate and report."""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Iterator

import attrs

from planwise_core.batch.executors import (
    ExecutorHandle, check_dask_address, dask_executor, local_executor, require_main_guard, size_local_pool,
)
from planwise_core.fileio import exclusive_lock
from planwise_core.batch.plan import BatchError, BatchPlan, InvalidScenario, RunSpec
from planwise_core.errors import option
from planwise_core.batch.runner import execute_run, read_run_record, write_json

log = logging.getLogger("planwise.batch")

@attrs.define
class BatchResult:
    kind: str
    source: str
    output: Path
    database: Path | None
    report: Path | None
    executor: str
    runs: list[dict]
    seconds: float

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.runs if r["status"] != "completed"]

    @property
    def success(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        counts = collections.Counter(r["status"] for r in self.runs)
        return {"kind": self.kind, "source": self.source, "output": str(self.output),
                "database": str(self.database) if self.database else None,
                "report": str(self.report) if self.report else None, "executor": self.executor,
                "success": self.success, "seconds": self.seconds, "planned_runs": len(self.runs),
                "completed_runs": counts["completed"], "failed_runs": counts["failed"],
                "invalid_runs": counts["invalid"], "reused_runs": sum(bool(r.get("reused")) for r in self.runs),
                "runs": self.runs}


class NullProgress:
    """The progress interface the batch loop reports to (see planwise_core.batch.progress)."""

    def start(self, plan: BatchPlan, executor: str, reused: list[str]) -> None: ...

    def event(self, run_id: str, event: dict) -> None: ...

    def finished(self, record: dict) -> None: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def _output_lock(output: Path) -> Iterator[None]:
    output.mkdir(parents=True, exist_ok=True)
    busy = BatchError(f"Another batch is writing to {output}; wait for it or use another {option('output')}.")
    with exclusive_lock(output / ".batch.lock", lambda fd: busy):
        yield


def run_batch(plan: BatchPlan, *, max_concurrent: int | None = None, dask: str | None = None,
              progress: NullProgress | None = None, force: bool = False, report: bool = True) -> BatchResult:
    """Run every valid run of ``plan`` not already completed, then aggregate into ``batch.duckdb``.

    ``dask``: None for the local process pool, "local" for a Dask LocalCluster, or a scheduler address.
    ``force``: redo completed runs too.
    """
    progress = progress or NullProgress()
    started = time.perf_counter()
    _check_executor(plan, dask)
    with _output_lock(plan.output):
        reused, todo = _reused_and_todo(plan, force)
        records, executor_name = _execute(plan, reused, todo, progress, max_concurrent=max_concurrent, dask=dask)
        progress.close()
        result = _conclude(plan, records, executor_name, report=report)
        result.seconds = round(time.perf_counter() - started, 3)
        write_json(plan.output / "batch.json", result.to_dict())
    return result


def _check_executor(plan: BatchPlan, dask: str | None) -> None:
    """Refuse a bad Dask address, or a local pool the main script cannot start, before anything is written."""
    if dask is not None:
        check_dask_address(dask)
    if dask in (None, "local") and plan.runs:
        require_main_guard()  # local workers are spawned processes that import the main script


def _reused_and_todo(plan: BatchPlan, force: bool) -> tuple[list[dict], list[RunSpec]]:
    """The completed runs kept as they are (same fingerprint, database still there) and the runs to do.
    ``force`` redoes every run and deletes the runs' folders first."""
    reused, todo = [], []
    for spec in plan.runs:
        previous = None if force else read_run_record(Path(spec.folder))
        if (previous and previous.get("status") == "completed" and previous.get("fingerprint") == spec.fingerprint
                and spec.database.exists()):
            reused.append({**previous, "reused": True})
        else:
            todo.append(spec)
    if force:
        for spec in plan.runs:
            shutil.rmtree(spec.folder, ignore_errors=True)
    return reused, todo


def _execute(plan: BatchPlan, reused: list[dict], todo: list[RunSpec], progress: NullProgress, *,
             max_concurrent: int | None, dask: str | None) -> tuple[dict[str, dict], str]:
    """Every run's record by run id (the reused ones and the ones run now), and the executor's description."""
    records = {r["run_id"]: r for r in reused}
    reused_ids = [r["run_id"] for r in reused]
    if not todo:
        executor_name = "none (every run was already complete)"
        progress.start(plan, executor_name, reused_ids)
        return records, executor_name
    with _executor(plan, todo, max_concurrent=max_concurrent, dask=dask) as handle:
        executor_name = handle.description
        progress.start(plan, executor_name, reused_ids)
        for record in _submit_all(handle, todo, max_concurrent or handle.slots, progress):
            records[record["run_id"]] = {**record, "reused": False}
    return records, executor_name


def _executor(plan: BatchPlan, todo: list[RunSpec], *, max_concurrent: int | None, dask: str | None):
    """The executor's context manager: Dask (local cluster or scheduler) or a local pool sized for ``todo``."""
    if dask:
        return dask_executor(dask, plan.output, max_concurrent)
    workers, why = size_local_pool(attrs.evolve(plan, runs=tuple(todo)), max_concurrent)
    log.info("batch: %s", why)
    return local_executor(workers)


def _conclude(plan: BatchPlan, records: dict[str, dict], executor_name: str, *, report: bool) -> BatchResult:
    """The batch's result: every planned and invalid run in plan order, aggregated into ``batch.duckdb``, with
    the batch report when asked for."""
    runs = [{**records[s.run_id], "overrides_json": json.dumps(s.overrides, sort_keys=True, default=str)}
            for s in plan.runs]
    runs += [_invalid_record(i, seed) for i in plan.invalid for seed in (i.seeds or (None,))]
    result = BatchResult(kind=plan.kind, source=plan.source, output=plan.output, database=None, report=None,
                         executor=executor_name, runs=runs, seconds=0.0)
    result.database = _aggregate(plan, runs)
    if report:
        from planwise_core.report.batch_report import write_batch_report

        result.report = write_batch_report(result.database, plan.output / "report.html")
    return result


def _invalid_record(invalid: InvalidScenario, seed: int | None) -> dict:
    run_id = f"{invalid.scenario}/seed-{seed}" if seed is not None else invalid.scenario
    return {"run_id": run_id, "scenario": invalid.scenario, "seed": seed, "status": "invalid",
            "error": "; ".join(invalid.problems), "problems": list(invalid.problems), "reused": False,
            "completed_years": [], "failed_years": [], "seconds": 0.0, "database": None, "overrides_json": "{}"}


# How long the batch waits for a Dask client that is reconnecting before it gives the cluster up.
RECONNECT_GRACE_SECONDS = 45.0


def _submit_all(handle: ExecutorHandle, todo: list[RunSpec], slots: int, progress: NullProgress) -> Iterator[dict]:
    """Keep at most ``slots`` runs in flight on the executor; yield each run's record as it finishes.

    When the executor is gone for good (a Dask client closed after losing its scheduler, or reconnecting for
    longer than RECONNECT_GRACE_SECONDS), every run in flight or still to submit is recorded as lost with that
    reason, and the loop ends: a batch always ends (docs/batch.md)."""
    pending = collections.deque(todo)
    inflight: dict[cf.Future, RunSpec] = {}
    offsets: dict[str, int] = {}
    troubled_since: float | None = None
    while pending or inflight:
        trouble = handle.trouble() if handle.trouble is not None else None
        troubled_since = None if trouble is None else troubled_since or time.monotonic()
        if trouble is not None and (trouble[1] or time.monotonic() - troubled_since > RECONNECT_GRACE_SECONDS):
            for spec in [*inflight.values(), *pending]:
                _follow(spec, offsets, progress)
                record = _lost_run(spec, None, trouble[0])
                progress.finished(record)
                yield record
            return
        while trouble is None and pending and len(inflight) < max(1, slots):
            spec = pending.popleft()
            _reset_progress(spec)
            try:
                inflight[handle.executor.submit(execute_run, spec)] = spec
            except cf.process.BrokenProcessPool:
                pending.appendleft(spec)
                _rebuild(handle)
        done, _ = cf.wait(inflight, timeout=0.5, return_when=cf.FIRST_COMPLETED) if inflight else ((), ())
        if not inflight:
            time.sleep(0.5)
        for spec in inflight.values():
            _follow(spec, offsets, progress)
        for future in done:
            spec = inflight.pop(future)
            _follow(spec, offsets, progress)
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker died (killed, out of memory) or the task was lost
                trouble = handle.trouble() if handle.trouble is not None else None
                record = _lost_run(spec, exc, trouble[0] if trouble else None)
                if isinstance(exc, cf.process.BrokenProcessPool):
                    _rebuild(handle)
            progress.finished(record)
            yield record


def _rebuild(handle: ExecutorHandle) -> None:
    if handle.rebuild is None:
        raise BatchError("The executor is broken and cannot be rebuilt.")
    handle.executor.shutdown(wait=False, cancel_futures=True)
    handle.executor = handle.rebuild()


def _lost_run(spec: RunSpec, exc: BaseException | None, cause: str | None = None) -> dict:
    if cause is not None:
        error = f"{cause}; run the same command again to resume it"
    else:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        error = f"the worker running this run was lost ({reason})"
    record = {"run_id": spec.run_id, "scenario": spec.scenario, "seed": spec.seed, "fingerprint": spec.fingerprint,
              "status": "failed", "error": error,
              "database": str(spec.database), "completed_years": [], "failed_years": [], "seconds": None,
              "finished_at": dt.datetime.now().isoformat(timespec="seconds")}
    folder = Path(spec.folder)
    if folder.is_dir():
        write_json(folder / "run.json", record)
    return record


def _reset_progress(spec: RunSpec) -> None:
    path = Path(spec.folder) / "progress.jsonl"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _follow(spec: RunSpec, offsets: dict[str, int], progress: NullProgress) -> None:
    """Pass on the progress lines a run appended since the last look."""
    path = Path(spec.folder) / "progress.jsonl"
    try:
        with path.open("rb") as fh:
            fh.seek(offsets.get(spec.run_id, 0))
            data = fh.read()
    except FileNotFoundError:
        return
    complete = data[:data.rfind(b"\n") + 1]
    offsets[spec.run_id] = offsets.get(spec.run_id, 0) + len(complete)
    for line in complete.splitlines():
        with contextlib.suppress(ValueError):
            progress.event(spec.run_id, json.loads(line))


def _aggregate(plan: BatchPlan, runs: list[dict]) -> Path:
    from planwise_core.batch.store import BATCH_DATABASE, run_year_rows, write_batch_database

    specs = {s.run_id: s for s in plan.runs}
    years = []
    for run in runs:
        spec = specs.get(run["run_id"])
        if spec is None or run["status"] != "completed":
            continue
        first, last = spec.years
        for row in run_year_rows(spec.database, first, last):
            years.append({"run_id": run["run_id"], "scenario": run["scenario"], "seed": run["seed"], **row})
    info = {"batch_id": uuid.uuid4().hex[:12], "kind": plan.kind, "source": plan.source, "output": str(plan.output)}
    scenarios = [attrs.asdict(sc) for sc in plan.scenarios]
    return write_batch_database(plan.output / BATCH_DATABASE, info, runs, years, scenarios)


def summarize_failures(result: BatchResult) -> str:
    lines = [f"  - {r['run_id']} ({r['status']}): {r['error']}" for r in result.failures]
    return (f"{len(result.failures)} of {len(result.runs)} runs did not complete:\n" + "\n".join(lines) +
            f"\nThe other runs' results are in {result.database}. Fix the cause and run the same command again: "
            "completed runs are kept, only these are redone.")
