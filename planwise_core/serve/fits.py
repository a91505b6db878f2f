"""Fitting assumptions from the workspace's censuses (docs/serve.md, "Fit and backtest"): ``planwise fit`` and
``planwise backtest`` as jobs of the queue over censuses picked in the workspace (each upload with its census
date is one snapshot of the history), their reports served from the workspace, and the fitted parameter
tables saved as a scenario's tables after the library has validated them together."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from planwise_core.fileio import atomic_write_text
from planwise_core.serve import censuses, runs, scenarios
from planwise_core.serve.jobs import TERMINAL, Scheduler
from planwise_core.serve.workspace import Workspace, check_id, new_id, scrub_value

KINDS = ("fit", "backtest")
MAX_REPLICATES = 200


def _problem(key: str, message: str) -> dict:
    return {"key": key, "message": message, "severity": "error"}


def _snapshots(ws: Workspace, ids) -> list[list[str]]:
    """[census date, census file relative to the workspace] of each picked census, oldest first."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise runs.RunRefused(422, "invalid_history", "pick the censuses of the history: {\"census_ids\": [..]}",
                              [_problem("census_ids", "a list of census ids, one per snapshot")])
    pairs = []
    for census_id in ids:
        found = runs._census(ws, census_id)  # noqa: SLF001 - the runs module's own census lookup (404)
        pairs.append([censuses.get(ws, census_id)["census_date"], found["relative"]])
    return sorted(pairs)


def _options(body: dict, kind: str) -> dict:
    if kind == "fit":
        return {}
    out = {"holdout": body.get("holdout", 1), "replicates": body.get("replicates", 20)}
    for key, top in (("holdout", 4), ("replicates", MAX_REPLICATES)):
        if isinstance(out[key], bool) or not isinstance(out[key], int) or not 1 <= out[key] <= top:
            raise runs.RunRefused(422, "invalid_options", f"{key} must be a whole number from 1 to {top}",
                                  [_problem(key, f"a whole number from 1 to {top}")])
    return out


def check_history(pairs: list[list[str]], kind: str, options: dict) -> None:
    """The library's own checks of the snapshots' dates (count, distinct, Dec 31 for a backtest)."""
    import datetime as dt

    from planwise_core.fit.history import MIN_SNAPSHOTS, check_dates

    problems: list[str] = []
    dates = [dt.date.fromisoformat(str(d)) for d, _ in pairs]
    if kind == "backtest":
        check_dates(dates, problems, dec31=True, at_least=options["holdout"] + 2)
    else:
        check_dates(dates, problems, at_least=MIN_SNAPSHOTS)
    if problems:
        raise runs.RunRefused(422, "invalid_history", f"The history is refused ({len(problems)} problems); nothing "
                              "was queued.", [_problem("census_ids", p) for p in problems])


def build_job(ws: Workspace, body: dict, kind: str, idempotency_key: str | None) -> dict:
    pairs = _snapshots(ws, body.get("census_ids"))
    options = _options(body, kind)
    check_history(pairs, kind, options)
    return {"id": new_id("fit"), "kind": kind, "name": str(body.get("name") or f"{kind} of {len(pairs)} censuses")[:120],
            "snapshots": pairs, "options": options, "census": {"ids": list(body["census_ids"])},
            "idempotency_key": idempotency_key, "request_sha256": runs.request_sha({"kind": kind, **body}),
            "created_at": None, "attempt": 0, "scenario": None}


def job_of(sched: Scheduler, fit_id: str) -> dict:
    check_id("fit", fit_id)
    job = sched.jobs.get(fit_id)
    if job is None or job.get("kind") not in KINDS:
        raise runs.RunRefused(404, "not_found", "no fit or backtest with this id")
    return job


def out_folder(ws: Workspace, job: dict) -> Path:
    return ws.folder("fit", job["id"]) / "sim" / "out"


def fitted_folder(ws: Workspace, job: dict) -> Path:
    """The fit folder: the job's output for a fit, its ``fitted/`` part for a backtest."""
    return out_folder(ws, job) / ("fitted" if job["kind"] == "backtest" else "")


def report_file(ws: Workspace, job: dict, which: str) -> Path:
    """``fit`` (fit_report.html) or ``backtest`` (scorecard.html) of a finished job; RunRefused otherwise."""
    path = (fitted_folder(ws, job) / "fit_report.html" if which == "fit"
            else out_folder(ws, job) / "scorecard.html")
    if job["status"] not in TERMINAL or not path.is_file() or path.is_symlink():
        raise runs.RunRefused(409 if job["status"] not in TERMINAL else 404, "no_report",
                              f"the {job['kind']} is {job['status']} and has no {which} report")
    return path


def view(ws: Workspace, sched: Scheduler, job: dict) -> dict:
    keep = ("id", "kind", "name", "status", "snapshots", "options", "created_at", "queued_at", "started_at",
            "finished_at", "attempt", "error")
    reports = {}
    for which in ("fit", "backtest"):
        try:
            report_file(ws, job, which)
            reports[which] = f"/api/v1/fits/{job['id']}/{'report' if which == 'fit' else 'backtest-report'}.html"
        except runs.RunRefused:
            pass
    tables = sorted(fitted_tables(ws, job)) if job["status"] == "completed" else []
    return scrub_value(ws, {**{k: job.get(k) for k in keep}, "queue_position": sched.position(job),
                            "reports": reports, "tables": tables,
                            "links": {"self": f"/api/v1/fits/{job['id']}", "save_tables":
                                      f"/api/v1/fits/{job['id']}/save-tables"}})


def fitted_tables(ws: Workspace, job: dict) -> dict[str, Path]:
    """The parameter tables the fit wrote, by their known names: at the top of the fit folder, or in its
    ``tables/`` folder (the layout of earlier versions)."""
    from planwise_core.assumptions import REPLACEABLE

    folder = fitted_folder(ws, job)
    found = {}
    for table in REPLACEABLE:
        for candidate in (folder / f"{table}.csv", folder / "tables" / f"{table}.csv"):
            if candidate.is_file() and not candidate.is_symlink():
                found[table] = candidate
                break
    return found


# The fitted rates a scenario takes with the tables: behaviour, not the growth (a plan input, docs/fit.md).
FITTED_RATES = ("workforce.total_termination_rate", "workforce.new_hire_termination_rate",
                "enrollment.voluntary_enrollment.annual_probability")


def fitted_rates(ws: Workspace, job: dict) -> dict:
    """{dotted key: published value} of the rates the fit estimated (a kept or not-fitted rate is the fit's base
    value, not this employer's, and is left to the scenario)."""
    import json

    path = fitted_folder(ws, job) / "fit_manifest.json"
    published = json.loads(path.read_text(encoding="utf-8")).get("published", {}) if path.is_file() else {}
    return {key: published[key]["value"] for key in FITTED_RATES
            if key in published and published[key].get("basis") in ("experience", "blended")}


def save_tables(ws: Workspace, job: dict, scenario: str) -> dict:
    """Replace the scenario's tables by the fitted ones and set its overrides of the fitted rates, all at once,
    only when the library accepts them with the scenario's configuration; returns the scenario."""
    if job["status"] != "completed":
        raise runs.RunRefused(409, "not_completed", f"the {job['kind']} is {job['status']}, not completed")
    record = scenarios.read(ws, scenario)
    found = fitted_tables(ws, job)
    if not found:
        raise runs.RunRefused(404, "no_tables", "the fit folder holds no parameter table")
    live = scenarios.tables_folder(ws, scenario)
    (ws.serve_dir / "tmp").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.serve_dir / "tmp") as tmp:
        trial = Path(tmp)
        if live.is_dir():
            shutil.copytree(live, trial, dirs_exist_ok=True)
        for table, path in found.items():
            shutil.copyfile(path, trial / f"{table}.csv")
        overrides = {**(record.get("overrides") or {}), **fitted_rates(ws, job)}
        problems = scenarios.errors_of(scenarios.check(ws, scenario, overrides, trial)[0])
    if problems:
        raise scenarios.ScenarioError(422, "invalid_table", "The fitted tables are refused for this scenario; "
                                      "nothing was saved.", problems)
    live.mkdir(parents=True, exist_ok=True)
    for table, path in found.items():
        atomic_write_text(live / f"{table}.csv", path.read_text(encoding="utf-8"))
    return scenarios.save(ws, scenario, {**record, "overrides": overrides}, record.get("revision"))
