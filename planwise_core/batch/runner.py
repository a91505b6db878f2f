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
from planwise_core.batch.plan import RunSpec

log = logging.getLogger("planwise.batch")

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

    def __call__(self, stage: str, **info) -> None:
        event = {"t": time.time(), "stage": stage}
        if "year" in info:
            event["year"] = info["year"]
        if "level" in info:
            event["level"] = info["level"]
        self.fh.write(json.dumps(event) + "\n")
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
    from planwise_core.orchestrator import Simulation

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
    handler = logging.FileHandler(folder / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("planwise")
    saved = root.level, root.propagate
    root.addHandler(handler)
    # The run's log goes to its run.log only: a worker's stderr is not the batch's progress display.
    root.setLevel(logging.INFO)
    root.propagate = False
    progress = _ProgressFile(folder / "progress.jsonl")
    started = time.perf_counter()
    result: dict | None = None
    try:
        config = config_from_dict(spec.config, source=f"{spec.run_id}/config.yaml")
        census = spec.census or _shared_builtin_census(folder)
        progress("started")
        if resumable:
            try:
                result = Simulation(config, spec.database, census=census, plugin=spec.plugin,
                                    progress=progress).run(resume=True)
            except PlanwiseError as exc:  # nothing (or nothing consistent) to resume: start over
                log.info("%s: not resumable (%s); running from the start", spec.run_id, exc)
        if result is None:
            result = Simulation(config, spec.database, census=census, plugin=spec.plugin,
                                progress=progress).run()
        error = None if result["success"] else f"years {result['failed_years']} failed: {result['error']}"
    except PlanwiseError as exc:
        error = str(exc)
    except Exception as exc:  # an unexpected failure of this run must not stop the others
        error = f"{type(exc).__name__}: {exc}"
        atomic_write_text(folder / "error.log", traceback.format_exc())
    finally:
        progress("finished")
        progress.close()
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
        handler.close()
    record.update({
        "status": "completed" if error is None else "failed", "error": error,
        "seconds": round(time.perf_counter() - started, 3),
        "completed_years": result["completed_years"] if result else [],
        "failed_years": result["failed_years"] if result else [],
        "resumed_years": result.get("resumed_years", []) if result else [],
        "dbt_invocations": sum(m.get("dbt_invocations") or 0 for m in (result.get("plugin_metrics") or {}).values()
                               if isinstance(m, dict)) if result else 0,
        "rows": sum(y.get("rows") or 0 for y in result["years"].values()) if result else 0,
        "peak_memory_mb": (result.get("performance_metrics") or {}).get("peak_memory_mb") if result else None,
        "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
    })
    write_json(folder / "run.json", record)
    return record


def _shared_builtin_census(run_folder: Path) -> Path:
    """The built-in census, generated once into the batch's output folder (``<output>/runs/<scenario>/seed-N``
    -> ``<output>``) and shared by its runs, not copied into every run folder."""
    from planwise_core.census import builtin_census
    from planwise_core.orchestrator import BUILTIN_CENSUS_SEED, BUILTIN_CENSUS_SIZE

    return builtin_census(Path(run_folder).resolve().parents[2], BUILTIN_CENSUS_SIZE, BUILTIN_CENSUS_SEED)
