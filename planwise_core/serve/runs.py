"""Runs: submission validated in full before anything is queued, the run as the API shows it, and the reads
of finished results (summary, report, exports, compare), each opening the database read-only in a thread."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import attrs
import yaml

from planwise_core.fileio import atomic_write_text
from planwise_core.outputs.metrics import BY_KEY
from planwise_core.serve import censuses, scenarios
from planwise_core.serve.events import read_events
from planwise_core.serve.jobs import ACTIVE, TERMINAL, Scheduler, resumable
from planwise_core.serve.workspace import Workspace, check_scenario, new_id, read_json, scrub_value

YEARS = re.compile(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*")


# The last-year figures the runs list shows, read from headline.json (outputs.headline's metric names): the one
# place the pages name them, should a metric's name or unit change in the library.
HEADLINE_COLUMNS = tuple(BY_KEY[key] for key in ("end_headcount", "payroll", "employer_cost_pct_payroll"))


class RunRefused(Exception):
    def __init__(self, status: int, code: str, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.problems = status, code, problems or []


def request_sha(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _years(body: dict) -> dict:
    out = {}
    if body.get("years"):
        match = YEARS.fullmatch(str(body["years"]))
        if not match:
            raise RunRefused(422, "invalid_years", "years must look like 2025-2029",
                             [{"key": "years", "message": "must look like 2025-2029", "severity": "error"}])
        out["simulation.start_year"] = int(match[1])
        out["simulation.end_year"] = int(match[2] or match[1])
    for field in ("start_year", "end_year"):
        if body.get(field) is not None:
            out[f"simulation.{field}"] = body[field]
    return out


def overrides_of(ws: Workspace, body: dict, any_scenario: bool = False) -> tuple[str, dict, Path | None]:
    """(scenario, every override of the run, its tables folder or None)."""
    name = check_scenario(body.get("scenario") or "default")
    stored = {}
    tables = None
    if (ws.scenario_folder(name) / "scenario.yaml").is_file():
        scenario = scenarios.read(ws, name)
        stored = dict(scenario.get("overrides") or {})
        folder = scenarios.tables_folder(ws, name)
        tables = folder if folder.is_dir() and any(folder.iterdir()) else None
    elif not any_scenario and name != "default":
        raise RunRefused(404, "not_found", f"no scenario named {name}")
    extra = dict(body.get("set") or {})
    extra.update(_years(body))
    for key, path in (("seed", "random_seed"), ("optimization_level", "orchestration.optimization_level"),
                      ("on_invalid_rows", "census.on_invalid_rows")):
        if body.get(key) is not None:
            extra[path] = body[key]
    return name, {**stored, **extra}, tables


def build_job(ws: Workspace, body: dict, idempotency_key: str | None, base: dict | None = None,
              any_scenario: bool = False) -> dict:
    """A job record for ``body`` (the API's run request); RunRefused with every problem when invalid."""
    from planwise_core.batch.plan import BatchError, plan_scenarios
    from planwise_core.config import config_from_dict

    name, overrides, tables = overrides_of(ws, body, any_scenario)
    base = scenarios.base_config(ws) if base is None else base
    problems, _ = scenarios.check(ws, name, overrides, tables or Path("/nonexistent"), base)
    if scenarios.errors_of(problems):
        raise RunRefused(422, "invalid_configuration", f"Invalid configuration ({len(scenarios.errors_of(problems))} "
                         "problems); nothing was queued.", problems)
    census = _census(ws, body.get("census_id"))
    entry = {"name": name, "overrides": overrides}
    if tables is not None:
        entry["assumptions"] = str(tables)
    run_id = new_id("run")
    try:
        plan = plan_scenarios([entry], ws.root / ".serve" / "plan", relative_to=ws.root,
                              base_config=config_from_dict(base, "base configuration"),
                              census=census["path"] if census else None,
                              plugin=body.get("plugin") or scenarios.stored(ws, name).get("plugin"))
    except BatchError as exc:
        raise RunRefused(422, "invalid_run", ws.scrub(str(exc))) from None
    if plan.invalid:
        raise RunRefused(422, "invalid_run", "The run is refused; nothing was queued.",
                         [scenarios.problem(ws.scrub(p.split(": ", 1)[-1])) for p in plan.invalid[0].problems])
    spec = attrs.evolve(plan.runs[0], run_id=run_id, folder=f"runs/{run_id}/sim",
                        census=census["relative"] if census else None)
    sim = spec.config["simulation"]
    return {"id": run_id, "kind": "run", "scenario": name, "seed": spec.seed,
            "years": [sim["start_year"], sim["end_year"]], "overrides": overrides,
            "census": census["view"] if census else {"builtin": 10000},
            "optimization_level": spec.config["orchestration"]["optimization_level"], "plugin": spec.plugin,
            "idempotency_key": idempotency_key, "request_sha256": request_sha(body),
            "created_at": None, "attempt": 0, "spec": scrub_value(ws, attrs.asdict(spec))}


def _census(ws: Workspace, census_id: str | None) -> dict | None:
    if not census_id:
        return None
    try:
        record = censuses.get(ws, census_id)
        path = censuses.data_file(ws, census_id)
    except (censuses.CensusRefused, FileNotFoundError):
        raise RunRefused(404, "not_found", "no census with this id") from None
    return {"path": path, "relative": ws.relative(path),
            "view": {"id": census_id, "name": record["name"], "sha256": record["sha256"]}}


def progress(ws: Workspace, job: dict) -> dict:
    events = read_events(ws.folder("run", job["id"]) / "events.jsonl")
    since_start = []
    for number, event in events:
        since_start = [] if event["type"] == "started" else since_start
        since_start.append((number, event))
    done = sum(1 for _n, e in since_start if e["type"] == "step_done")
    stages = [e for _n, e in since_start if e["type"] == "stage"]
    total = job["years"][1] - job["years"][0] + 2
    return {"done": done, "total": total, "stage": stages[-1] if stages else None,
            "steps": [e for _n, e in since_start if e["type"] in ("stage", "step_done")],
            "last_event_id": events[-1][0] if events else 0}


def command(job: dict) -> str:
    spec = job["spec"]
    parts = ["planwise run", f"--config {spec['folder']}/config.yaml"]
    if spec.get("census"):
        parts.append(f"--census {spec['census']}")
    parts.append(f"--database {spec['folder']}/simulation.duckdb")
    return " ".join(parts) + "   # from the workspace folder"


def config_yaml(job: dict) -> str:
    return yaml.safe_dump(job["spec"]["config"], sort_keys=False)


def view(ws: Workspace, sched: Scheduler, job: dict, full: bool = True) -> dict:
    folder = ws.folder("run", job["id"])
    record = read_json(folder / "sim" / "run.json") if job["status"] in TERMINAL else None
    keep = ("id", "kind", "scenario", "status", "seed", "years", "census", "overrides", "optimization_level",
            "plugin", "created_at", "queued_at", "started_at", "finished_at", "attempt", "error")
    out = {k: job.get(k) for k in keep}
    out.update(queue_position=sched.position(job), progress=progress(ws, job) if full else None,
               resumable=resumable(ws, job), cancel_requested=bool(job.get("cancel_requested_at")),
               headline=read_json(folder / "headline.json"), command=command(job),
               links={name: f"/api/v1/runs/{job['id']}{tail}" for name, tail in (
                   ("self", ""), ("events", "/events"), ("cancel", "/cancel"), ("resume", "/resume"),
                   ("report", "/report.html"), ("log", "/log"))})
    if record is not None and full:
        record["database"] = ws.relative(folder / "sim" / "simulation.duckdb")
        out["result"] = {"simulation_id": job["id"], "success": record.get("status") == "completed", **record}
    else:
        out["result"] = None
    return scrub_value(ws, out)


def database(ws: Workspace, sched: Scheduler, run_id: str) -> Path:
    job = sched.jobs.get(run_id)
    if job is None:
        raise RunRefused(404, "not_found", "no run with this id")
    if job["status"] != "completed":
        raise RunRefused(409, "not_completed", f"the run is {job['status']}, not completed")
    return ws.folder("run", run_id) / "sim" / "simulation.duckdb"


def summary(db: Path) -> list[dict]:
    from planwise_core.outputs.summary import year_summary
    from planwise_core.outputs.results import open_results

    with open_results(db) as con:
        return json.loads(json.dumps(year_summary(con, 0, 9999), default=str))


def report(ws: Workspace, run_id: str, db: Path) -> Path:
    """The run's report (``planwise report``), cached by the database's size and mtime."""
    from planwise_core.report.run_report import write_report

    stat = db.stat()
    key = f"{stat.st_size}-{stat.st_mtime_ns}"
    out = ws.folder("run", run_id) / "exports" / f"report-{key}.html"
    if not out.is_file():
        draft = write_report(db, out.with_suffix(".draft.html"))
        atomic_write_text(out, ws.scrub(draft.read_text(encoding="utf-8")))  # no absolute path leaves the server
        draft.unlink()
    return out


EMPLOYEE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def employee(ws: Workspace, db: Path, employee_id: str) -> dict:
    """``planwise employee ID`` of a completed run, as JSON (money in cents, rates in basis points)."""
    from planwise_core.outputs.employee import UnknownEmployeeError, employee_story

    if not EMPLOYEE_ID.fullmatch(employee_id):
        raise RunRefused(400, "bad_id", "malformed employee id (letters, digits, '_', '.', '-'; at most 64)")
    try:
        return scrub_value(ws, employee_story(db, employee_id).to_dict())
    except UnknownEmployeeError as exc:
        raise RunRefused(404, "unknown_employee", ws.scrub(str(exc))) from None


def compare(ws: Workspace, sched: Scheduler, ids: list[str], allow_different_census: bool) -> dict:
    from planwise_core.outputs.diff import CensusMismatchError, diff_databases, to_json

    if len(ids) < 2:
        raise RunRefused(400, "bad_request", "name at least two runs: ?runs=a,b")
    dbs = [database(ws, sched, i) for i in ids]
    pairs = []
    for run_id, db in zip(ids[1:], dbs[1:]):
        try:
            result = diff_databases(dbs[0], db, allow_different_census=allow_different_census)
        except CensusMismatchError as exc:
            raise RunRefused(422, "different_censuses", ws.scrub(str(exc))) from None
        pairs.append({"run": run_id, **json.loads(to_json(result))})
    return scrub_value(ws, {"baseline": ids[0], "runs": ids, "pairs": pairs})


def delete(ws: Workspace, sched: Scheduler, run_id: str) -> None:
    job = sched.jobs.get(run_id)
    if job is None:
        raise RunRefused(404, "not_found", "no run with this id")
    if job["status"] in ACTIVE or job["status"] == "queued":
        raise RunRefused(409, "active", "cancel the run before deleting it")
    shutil.rmtree(ws.folder("run", run_id))
    sched.jobs.pop(run_id, None)
