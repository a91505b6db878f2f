"""One run of a batch, as an executor runs it: a Simulation into its own folder, with run.json and progress."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import socket
import threading
import time
import traceback
from pathlib import Path

import yaml

from planwise_core.config import config_from_dict
from planwise_core.errors import PlanwiseError
from planwise_core.fileio import atomic_write_text
from planwise_core.monitoring.logs import log_to
from planwise_core.batch.plan import RunSpec
from planwise_core.events import RunEvent
from planwise_core.run_result import RunResult

log = logging.getLogger("planwise.batch")

# One run at a time per worker process: a run sends the process-wide "planwise" logger to its own run.log.
# (dbt's process state is guarded by the engines themselves: engines.Engine.lock.)
_PROCESS_LOCK = threading.Lock()


def write_json(path: Path, payload: dict) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, default=str))


def read_run_record(folder: Path) -> dict | None:
    try:
        return json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _ProgressFile:
    """The Simulation progress callback of a run, appended as JSON lines the batch process follows."""

    def __init__(self, path: Path):
        self.fh = path.open("a", encoding="utf-8")

    def __call__(self, event: RunEvent) -> None:
        self.write(event.stage, **{k: getattr(event, k) for k in ("year", "level") if hasattr(event, k)})

    def write(self, stage: str, **info) -> None:
        """One line: the time, the stage (a run event's, or ``started``/``finished``), its year and level."""
        self.fh.write(json.dumps({"t": time.time(), "stage": stage, **info}) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def execute_run(spec: RunSpec) -> dict:
    """Run one simulation of a batch into its folder; returns (and writes to run.json) its record.

    Never raises for a failed run: the error is in the record. Runs in a pool process or a Dask worker.
    """
    with _PROCESS_LOCK:
        return _execute(spec)


def _execute(spec: RunSpec) -> dict:
    folder = Path(spec.folder)
    previous = read_run_record(folder)
    if previous is not None and previous.get("fingerprint") != spec.fingerprint:
        shutil.rmtree(folder)  # the inputs changed: nothing of the old run is reusable
        previous = None
    folder.mkdir(parents=True, exist_ok=True)
    resumable = previous is not None  # resume raises when there is nothing to resume: then run afresh
    worker = f"{socket.gethostname()}:{os.getpid()}"
    record = {"run_id": spec.run_id, "scenario": spec.scenario, "seed": spec.seed, "fingerprint": spec.fingerprint,
              "status": "running", "worker": worker, "database": str(spec.database),
              "started_at": dt.datetime.now().isoformat(timespec="seconds")}
    write_json(folder / "run.json", record)
    atomic_write_text(folder / "config.yaml", yaml.safe_dump(spec.config, sort_keys=False))
    progress = _ProgressFile(folder / "progress.jsonl")
    started = time.perf_counter()
    # The run's log goes to its run.log only: a worker's stderr is not the batch's progress display.
    with log_to(folder / "run.log"):
        try:
            result, error = _simulate(spec, folder, resumable, progress), None
            if not result.success:
                error = f"years {list(result.failed_years)} failed: {result.error}"
        except PlanwiseError as exc:
            result, error = None, str(exc)
        except Exception as exc:  # noqa: BLE001 - an unexpected failure of this run must not stop the others
            result, error = None, f"{type(exc).__name__}: {exc}"
            atomic_write_text(folder / "error.log", traceback.format_exc())
        finally:
            progress.write("finished")
            progress.close()
    record.update({
        "status": "completed" if error is None else "failed", "error": error,
        "seconds": round(time.perf_counter() - started, 3),
        **_outcome(result),
        "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
    })
    write_json(folder / "run.json", record)
    return record


def _simulate(spec: RunSpec, folder: Path, resumable: bool, progress: _ProgressFile) -> RunResult:
    """The run: resumed when its folder holds an interrupted one that still can be, else from the start."""
    from planwise_core.orchestrator import Simulation

    config = config_from_dict(spec.config, source=f"{spec.run_id}/config.yaml")
    census = spec.census or _shared_builtin_census(folder)
    progress.write("started")
    if resumable:
        try:
            return Simulation(config, spec.database, census=census, plugin=spec.plugin,
                              progress=progress).run(resume=True)
        except PlanwiseError as exc:  # nothing (or nothing consistent) to resume: start over
            log.info("%s: not resumable (%s); running from the start", spec.run_id, exc)
    return Simulation(config, spec.database, census=census, plugin=spec.plugin, progress=progress).run()


def _outcome(result: RunResult | None) -> dict:
    """The run record's fields taken from the run result (empty when the run raised before it had one)."""
    if result is None:
        return {"completed_years": [], "failed_years": [], "resumed_years": [], "dbt_invocations": 0, "rows": 0,
                "peak_memory_mb": None}
    return {"completed_years": list(result.completed_years), "failed_years": list(result.failed_years),
            "resumed_years": list(result.resumed_years),
            "dbt_invocations": sum(m.get("dbt_invocations") or 0 for m in result.plugin_metrics.values()
                                   if isinstance(m, dict)),
            "rows": sum(y.rows for y in result.years),
            "peak_memory_mb": result.performance_metrics.get("peak_memory_mb")}


def _shared_builtin_census(run_folder: Path) -> Path:
    """The built-in census, generated once into the batch's output folder (``<output>/runs/<scenario>/seed-N``
    -> ``<output>``) and shared by its runs, not copied into every run folder."""
    from planwise_core.census import builtin_census

    return builtin_census(Path(run_folder).resolve().parents[2])
