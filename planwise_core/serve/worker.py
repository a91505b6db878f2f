"""One web run in its own process: ``python -m planwise_core.serve.worker runs/<id>`` (cwd: the workspace).

It reads the run spec the server recorded in ``job.json`` and runs it with the batch runner into
``runs/<id>/sim`` (run.json, run.log, progress.jsonl, the database). SIGINT (cancel, server stop) and SIGTERM
interrupt the run, which stays resumable; exit 130. A server that dies takes its workers with it (exit 70).
Once completed, it writes ``headline.json`` (the last year's headline metrics) for the runs list.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

INTERRUPTED_EXIT = 130


def _sigterm(_signum, _frame):
    raise KeyboardInterrupt


def run_job(folder: Path) -> int:
    from planwise_core.batch.executors import die_with_parent
    from planwise_core.batch.plan import RunSpec
    from planwise_core.batch.runner import execute_run

    die_with_parent(os.getppid())
    signal.signal(signal.SIGTERM, _sigterm)
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    if job.get("kind") in ("batch", "ensemble"):
        return run_batch_job(folder, job)
    if job.get("kind") in ("fit", "backtest"):
        return run_fit_job(folder, job)
    spec = RunSpec(**job["spec"])
    try:
        record = execute_run(spec)
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT
    if record["status"] == "completed":
        write_headline(folder, spec.database)
    return 0


class BatchProgress:
    """The batch loop's progress interface: one ``run`` line per finished child run in ``sim/progress.jsonl``,
    which the server follows into the batch's events."""

    def __init__(self, path: Path):
        self.path = path

    def start(self, plan, executor, reused) -> None:
        for run_id in reused:
            self._line(run_id, "completed", None)

    def event(self, run_id, event) -> None: ...

    def finished(self, record: dict) -> None:
        self._line(record["run_id"], record["status"], record.get("seconds"))

    def close(self) -> None: ...

    def _line(self, run_id: str, status: str, seconds) -> None:
        import time

        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"t": time.time(), "stage": "run", "run_id": run_id, "status": status,
                                  "seconds": seconds}) + "\n")


def _interrupt_group(_signum, _frame):
    """Cancel of a batch: pass SIGINT on to the pool's processes (this worker leads their process group), so
    each stops its run as Ctrl-C in a terminal would stop ``planwise batch``, then stop the batch loop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.killpg(os.getpgrp(), signal.SIGINT)
    except OSError:
        pass
    raise KeyboardInterrupt


def run_batch_job(folder: Path, job: dict) -> int:
    """A batch or an ensemble: ``run_batch`` into ``<folder>/sim``; ``sim/run.json`` holds the job's outcome."""
    from planwise_core.batch import run_batch, summarize_failures
    from planwise_core.batch.runner import write_json
    from planwise_core.serve.batches import plan
    from planwise_core.serve.jobs import slots
    from planwise_core.serve.workspace import Workspace

    sim = folder / "sim"
    sim.mkdir(exist_ok=True)
    write_json(sim / "run.json", {"status": "running"})
    planned = plan(Workspace(Path.cwd()), job["batch"], sim)
    if os.getpgrp() == os.getpid():  # started by the server in its own session: the group is this batch's
        signal.signal(signal.SIGINT, _interrupt_group)
    try:
        result = run_batch(planned, max_concurrent=slots(job), progress=BatchProgress(sim / "progress.jsonl"))
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT
    write_json(sim / "run.json", {"status": "completed" if result.success else "failed",
                                  "error": None if result.success else summarize_failures(result)})
    return 0


def run_fit_job(folder: Path, job: dict) -> int:
    """``planwise fit`` or ``planwise backtest`` of the job's snapshots into ``<folder>/sim/out``; the library
    validates the whole history first (FitError: the job fails with its message, nothing written)."""
    import datetime as dt

    from planwise_core.batch.runner import write_json
    from planwise_core.fit import FitError, fit_history
    from planwise_core.fit.backtest import BacktestOptions, backtest

    sim = folder / "sim"
    sim.mkdir(exist_ok=True)
    write_json(sim / "run.json", {"status": "running"})
    pairs = [(dt.date.fromisoformat(d), Path(path)) for d, path in job["snapshots"]]
    if job["kind"] == "backtest" and os.getpgrp() == os.getpid():  # its replicates run in a process pool
        signal.signal(signal.SIGINT, _interrupt_group)
    try:
        if job["kind"] == "fit":
            fit_history(None, sim / "out", snapshots=pairs)
        else:
            backtest(None, sim / "out", snapshots=pairs, backtest_options=BacktestOptions(
                holdout=job["options"]["holdout"], replicates=job["options"]["replicates"], max_concurrent=1))
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT
    except FitError as exc:
        write_json(sim / "run.json", {"status": "failed", "error": str(exc)})
        return 0
    write_json(sim / "run.json", {"status": "completed", "error": None})
    return 0


def write_headline(folder: Path, database: Path) -> None:
    from planwise_core.outputs.headline import available, headline
    from planwise_core.database.sql import open_read_only
    from planwise_core.serve.workspace import write_json

    con = open_read_only(Path(database), "the run wrote no database")
    try:
        rows = headline(con, available(con))
    finally:
        con.close()
    if rows:
        year = max(rows)
        write_json(folder / "headline.json", {"year": year, **{k: _plain(v) for k, v in rows[year].items()}})


def _plain(value):
    try:
        return float(value) if value is not None and not isinstance(value, (int, str)) else value
    except (TypeError, ValueError):
        return str(value)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run_job(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
