"""A quick stand-in for `python -m planwise_core.serve.worker` (PLANWISE_SERVE_WORKER): no dbt.

It follows the real worker's contract (docs/serve.md): cwd is the workspace, argument ``runs/<id>``; it
writes ``sim/progress.jsonl`` lines (foundation, then each year) with short sleeps, ``sim/run.json`` at the
start (running) and the end (completed), exits 130 on SIGINT/SIGTERM leaving run.json ``running`` (as
execute_run does), and on a resume skips the years it already recorded as done.
FAKE_WORKER_STEP (seconds per step, default 0.2); FAKE_WORKER_FAIL=1 records a failed run.

A batch or ensemble job (``batches/<id>``) gets one ``run`` progress line per planned run and a real
``batch.duckdb`` written by the batch library's own writer from made-up yearly rows: headcount
``100 + seed + year offset`` and payroll ``1000 * headcount``, so the bands are known in advance. A fit job runs the real worker's fit (no dbt in it).
"""

import json
import os
import signal
import sys
import time
from pathlib import Path


def stop(_signum, _frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    folder = Path(sys.argv[1])
    job = json.loads((folder / "job.json").read_text())
    if job.get("kind") in ("batch", "ensemble"):
        return fake_batch(folder, job)
    if job.get("kind") in ("fit", "backtest"):  # no dbt in a fit: the real thing takes a second or two
        from planwise_core.serve.worker import run_fit_job

        return run_fit_job(folder, job)
    sim = folder / "sim"
    sim.mkdir(exist_ok=True)
    step = float(os.environ.get("FAKE_WORKER_STEP", "0.2"))
    start, end = job["years"]
    done_file = sim / "done.json"
    done = json.loads(done_file.read_text()) if done_file.exists() else []
    record = {"run_id": job["id"], "status": "running", "database": f"{sim}/simulation.duckdb"}
    (sim / "run.json").write_text(json.dumps(record))
    (sim / "config.yaml").write_text("random_seed: 42\n")
    progress = (sim / "progress.jsonl").open("a")

    def emit(stage, **info):
        progress.write(json.dumps({"t": time.time(), "stage": stage, **info}) + "\n")
        progress.flush()

    try:
        emit("started")
        for name, year in [("foundation", None)] + [("year", y) for y in range(start, end + 1)]:
            if name in done or year in done:
                continue
            emit(name, **({"year": year, "level": "high"} if year else {}))
            time.sleep(step)
            emit(f"{name}_done", **({"year": year} if year else {}))
            done.append(year or name)
            done_file.write_text(json.dumps(done))
    except KeyboardInterrupt:
        return 130
    failed = os.environ.get("FAKE_WORKER_FAIL") == "1"
    record.update(status="failed" if failed else "completed", error="years [2025] failed: boom" if failed else None,
                  completed_years=list(range(start, end + 1)), seconds=1.0)
    (sim / "run.json").write_text(json.dumps(record))
    (folder / "headline.json").write_text(json.dumps({"year": end, "end_headcount": 100, "payroll": 1000.0}))
    return 0


def fake_batch(folder: Path, job: dict) -> int:
    from planwise_core.batch.store import write_batch_database

    sim = folder / "sim"
    sim.mkdir(exist_ok=True)
    (sim / "run.json").write_text(json.dumps({"status": "running"}))
    step = float(os.environ.get("FAKE_WORKER_STEP", "0.2"))
    start, end = job["years"]
    runs, years = [], []
    with (sim / "progress.jsonl").open("a") as progress:
        try:
            for scenario in job["scenarios"]:
                for seed in job["seeds"]:
                    time.sleep(step)
                    run_id = f"{scenario}-seed-{seed}"
                    runs.append({"run_id": run_id, "scenario": scenario, "seed": seed, "status": "completed",
                                 "seconds": step, "completed_years": list(range(start, end + 1))})
                    years += [{"run_id": run_id, "scenario": scenario, "seed": seed, "simulation_year": y,
                               "end_headcount": 100 + seed + (y - start), "payroll": 1000.0 * (100 + seed + y - start)}
                              for y in range(start, end + 1)]
                    progress.write(json.dumps({"t": time.time(), "stage": "run", "run_id": run_id,
                                               "status": "completed", "seconds": step}) + "\n")
                    progress.flush()
        except KeyboardInterrupt:
            return 130
    info = {"batch_id": job["id"], "kind": job["kind"], "source": job["name"], "output": str(sim)}
    write_batch_database(sim / "batch.duckdb", info, runs, years)
    (sim / "batch.json").write_text(json.dumps({"kind": job["kind"], "runs": runs, "success": True}))
    (sim / "run.json").write_text(json.dumps({"status": "completed"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
