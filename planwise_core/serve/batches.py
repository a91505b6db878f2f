"""Batches and ensembles in the workbench: many runs as ONE job of the queue (docs/serve.md, "Batches").

A batch (saved scenarios, each over one or more seeds) or an ensemble (one scenario over N seeds) is planned
and validated whole by the batch library (``plan_scenarios``) before it becomes a job; its worker runs
``run_batch`` into ``batches/<bat_id>/sim`` (the layout ``planwise batch --output`` writes: ``runs/<scenario>/
seed-<n>/``, ``batch.duckdb``, ``batch.json``, ``report.html``). Cancel and resume are the queue's: a resumed
batch re-runs only the unfinished runs, the batch loop reusing completed ones.
"""

from __future__ import annotations

from pathlib import Path

from planwise_core.fileio import atomic_write_text
from planwise_core.serve import runs, scenarios
from planwise_core.serve.events import read_events
from planwise_core.serve.jobs import TERMINAL, Scheduler, resumable
from planwise_core.serve.workspace import Workspace, check_id, new_id, read_json, scrub_value

KINDS = ("batch", "ensemble")
MAX_SEEDS = 10_000


def _problem(key: str, message: str) -> dict:
    return {"key": key, "message": message, "severity": "error"}


def _entry(ws: Workspace, name: str, years: str | None, seeds) -> dict:
    name, overrides, tables = runs.overrides_of(ws, {"scenario": name, "years": years})
    entry = {"name": name, "overrides": overrides}
    if tables is not None:
        entry["assumptions"] = ws.relative(tables)
    saved = scenarios.stored(ws, name)  # its own seeds and engine, unless the request names seeds
    seeds = seeds if seeds is not None else saved.get("seeds")
    if seeds is not None:
        entry["seeds"] = seeds
    if saved.get("plugin"):
        entry["plugin"] = saved["plugin"]
    return entry


def _seeds(body: dict, kind: str):
    seeds = body.get("seeds")
    if kind == "ensemble":
        if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
            raise runs.RunRefused(422, "invalid_seeds", f"seeds must be a count from 1 to {MAX_SEEDS}",
                                  [_problem("seeds", f"must be a count from 1 to {MAX_SEEDS}")])
        first = body.get("first_seed")
        return seeds if first is None else [int(first) + i for i in range(seeds)]
    return seeds


def _slots(body: dict, limit: int) -> int:
    """Runs of the batch at once: ``max_concurrent`` (default 1), at most the server's ``--max-concurrent``."""
    wanted = body.get("max_concurrent", 1)
    if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1:
        raise runs.RunRefused(422, "invalid_max_concurrent", "max_concurrent must be a whole number from 1",
                              [_problem("max_concurrent", f"a whole number from 1 (this server runs at most {limit} "
                                                          "at once)")])
    return min(wanted, limit)


def _names(body: dict, kind: str) -> list[str]:
    names = [body.get("scenario") or "default"] if kind == "ensemble" else body.get("scenarios")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise runs.RunRefused(422, "invalid_batch", "name the scenarios of the batch: {\"scenarios\": [\"a\", \"b\"]}",
                              [_problem("scenarios", "a non-empty list of scenario names")])
    return names


def plan(ws: Workspace, spec: dict, output: Path):
    """The batch library's plan of a stored batch spec (the server checks it; the worker runs it)."""
    from planwise_core.batch.plan import plan_scenarios
    from planwise_core.config import config_from_dict

    census = ws.root / spec["census"] if spec.get("census") else None
    return plan_scenarios(spec["entries"], output, source=spec["source"], relative_to=ws.root,
                          base_config=config_from_dict(spec["base"], "base configuration"), census=census,
                          kind=spec["kind"])


def build_job(ws: Workspace, body: dict, kind: str, idempotency_key: str | None, limit: int = 1) -> dict:
    """A job record for a batch or an ensemble; RunRefused with every scenario's problems when invalid.
    ``limit``: the server's ``--max-concurrent``, the most slots the batch can hold."""
    from planwise_core.batch.plan import BatchError

    names, seeds, slots = _names(body, kind), _seeds(body, kind), _slots(body, limit)
    entries = [_entry(ws, n, body.get("years"), seeds) for n in names]
    census = runs._census(ws, body.get("census_id"))  # noqa: SLF001 - the runs module's own census lookup
    batch_id = new_id("bat")
    label = str(body.get("name") or (f"ensemble of {names[0]}" if kind == "ensemble" else ", ".join(names)))[:120]
    spec = {"entries": entries, "base": scenarios.base_config(ws), "census": census["relative"] if census else None,
            "source": label, "kind": kind}
    try:
        planned = plan(ws, spec, ws.folder("bat", batch_id) / "sim")
    except BatchError as exc:
        raise runs.RunRefused(422, "invalid_batch", ws.scrub(str(exc))) from None
    if planned.invalid:
        problems = [_problem(f"scenarios.{i.scenario}", ws.scrub(p)) for i in planned.invalid for p in i.problems]
        raise runs.RunRefused(422, "invalid_batch", f"{len(planned.invalid)} scenario(s) are invalid; nothing was "
                              "queued.", problems)
    first = planned.runs[0].years
    return {"id": batch_id, "kind": kind, "name": label, "scenario": names[0], "scenarios": names,
            "seeds": sorted({r.seed for r in planned.runs}), "years": list(first), "planned": len(planned.runs),
            "slots": min(slots, len(planned.runs)),
            "census": census["view"] if census else {"builtin": 10000}, "idempotency_key": idempotency_key,
            "request_sha256": runs.request_sha({"kind": kind, **body}), "created_at": None, "attempt": 0,
            "batch": scrub_value(ws, spec)}


def job_of(sched: Scheduler, batch_id: str) -> dict:
    check_id("bat", batch_id)
    job = sched.jobs.get(batch_id)
    if job is None or job.get("kind") not in KINDS:
        raise runs.RunRefused(404, "not_found", "no batch with this id")
    return job


def _runs(ws: Workspace, job: dict) -> list[dict]:
    folder = ws.folder("bat", job["id"])
    record = read_json(folder / "sim" / "batch.json") if job["status"] in TERMINAL else None
    keep = ("run_id", "scenario", "seed", "status", "error", "seconds", "reused")
    if record:
        return [{k: r.get(k) for k in keep} for r in record.get("runs", [])]
    finished = {}
    for _n, event in read_events(folder / "events.jsonl"):
        if event["type"] == "run":
            finished[event["run_id"]] = {"run_id": event["run_id"], "status": event["status"],
                                         "seconds": event.get("seconds")}
    return list(finished.values())


def view(ws: Workspace, sched: Scheduler, job: dict) -> dict:
    keep = ("id", "kind", "name", "status", "scenarios", "seeds", "years", "census", "planned", "created_at",
            "queued_at", "started_at", "finished_at", "attempt", "error")
    done = _runs(ws, job)
    counts = {s: sum(r["status"] == s for r in done) for s in ("completed", "failed", "invalid")}
    base = f"/api/v1/batches/{job['id']}"
    return scrub_value(ws, {
        **{k: job.get(k) for k in keep}, "runs": done, **{f"{k}_runs": v for k, v in counts.items()},
        "progress": {"done": len(done), "total": job["planned"]}, "queue_position": sched.position(job),
        "max_concurrent": job.get("slots", 1),
        "resumable": resumable(ws, job), "has_results": database_of(ws, job).is_file(),
        "links": {"self": base, "events": f"{base}/events", "report": f"{base}/report.html", "bands": f"{base}/bands"}})


def database_of(ws: Workspace, job: dict) -> Path:
    return ws.folder("bat", job["id"]) / "sim" / "batch.duckdb"


def finished_database(ws: Workspace, job: dict) -> Path:
    db = database_of(ws, job)
    if job["status"] not in TERMINAL or not db.is_file():
        raise runs.RunRefused(409, "not_finished", f"the batch is {job['status']}; its results come once it ends")
    return db


def bands(db: Path, metric: str | None, scenario: str | None) -> list[dict]:
    """Rows of ``batch_bands``; the metric is checked against the library's list, values are parameters."""
    from planwise_core.outputs.metrics import BAND_METRICS
    from planwise_core.report.batch_report import open_batch

    if metric is not None and metric not in BAND_METRICS:
        raise runs.RunRefused(422, "invalid_metric", f"metric must be one of {', '.join(BAND_METRICS)}",
                              [_problem("metric", f"one of {', '.join(BAND_METRICS)}")])
    with open_batch(db) as con:
        cur = con.execute("select scenario, simulation_year as year, metric, runs, mean, min, p10, p50, p90, max "
                          "from batch_bands where (? is null or metric = ?) and (? is null or scenario = ?) "
                          "order by scenario, metric, year", [metric, metric, scenario, scenario])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def report(ws: Workspace, job: dict, db: Path) -> Path:
    """The batch report (``planwise batch``'s report.html, its fan charts included), cached by the database."""
    from planwise_core.report.batch_report import write_batch_report

    stat = db.stat()
    out = ws.folder("bat", job["id"]) / "exports" / f"report-{stat.st_size}-{stat.st_mtime_ns}.html"
    if not out.is_file():
        out.parent.mkdir(exist_ok=True)
        draft = write_batch_report(db, out.with_suffix(".draft.html"))
        atomic_write_text(out, ws.scrub(draft.read_text(encoding="utf-8")))
        draft.unlink()
    return out


def scenario_file(ws: Workspace, job: dict) -> str:
    """The batch as a ``planwise batch`` scenario file, saved in and run from the workspace folder (paths are
    relative to it)."""
    import yaml

    spec = job["batch"]
    data = {"scenarios": spec["entries"]}
    if spec.get("census"):
        data = {"census": spec["census"], **data}
    if (ws.root / scenarios.BASE_CONFIG).is_file():
        data = {"base_config": scenarios.BASE_CONFIG, **data}
    return (f"# planwise batch scenarios.yaml --output batches/{job['id']}/cli  (saved in the workspace folder)\n"
            + yaml.safe_dump(data, sort_keys=False))
