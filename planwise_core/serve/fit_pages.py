"""The fit pages (docs/serve.md, "Fit and backtest"): pick the censuses of a history, run ``planwise fit`` or
``planwise backtest`` as a job, read its reports, save the fitted tables as a scenario's tables."""

from __future__ import annotations

from fastapi import APIRouter, Request

from planwise_core.serve import censuses, fits, runs, scenarios
from planwise_core.serve.fit_api import submit_fit
from planwise_core.serve.pages import render, see
from planwise_core.serve.workspace import check_scenario

reads = APIRouter(include_in_schema=False)
writes = APIRouter(include_in_schema=False)


def _list_page(request: Request, status: int = 200, message: str | None = None, problems=None):
    ws, sched = request.app.state.ws, request.app.state.scheduler
    return render(request, "fits.html", status, fits=[fits.view(ws, sched, j) for j in sched.of_kind(*fits.KINDS)],
                  censuses=censuses.listing(ws), message=message, problems=problems or [])


@reads.get("/fits")
def fits_page(request: Request):
    return _list_page(request)


@writes.post("/fits")
async def create_fit(request: Request):
    raw = await request.form()
    kind = "backtest" if raw.get("kind") == "backtest" else "fit"
    body: dict = {"census_ids": [str(v) for v in raw.getlist("census_ids")]}
    if kind == "backtest":
        for key in ("holdout", "replicates"):
            if raw.get(key):
                body[key] = scenarios.parse_value(str(raw.get(key)))
    try:
        job, _ = submit_fit(request, body, kind, None)
    except (runs.RunRefused, scenarios.ScenarioError) as exc:
        return _list_page(request, 422, str(exc), exc.problems)
    return see(f"/fits/{job['id']}")


def _page(request: Request, fit_id: str, status: int = 200, message: str | None = None, problems=None,
          saved: str | None = None):
    ws, sched = request.app.state.ws, request.app.state.scheduler
    return render(request, "fit.html", status, fit=fits.view(ws, sched, fits.job_of(sched, fit_id)),
                  scenarios=scenarios.listing(ws), message=message, problems=problems or [], saved=saved)


@reads.get("/fits/{fit_id}")
def fit_page(request: Request, fit_id: str, saved: str = ""):
    return _page(request, fit_id, saved=saved or None)


@writes.post("/fits/{fit_id}/save-tables")
async def save_fitted_tables(request: Request, fit_id: str):
    ws, sched = request.app.state.ws, request.app.state.scheduler
    scenario = str((await request.form()).get("scenario", ""))
    try:
        fits.save_tables(ws, fits.job_of(sched, fit_id), check_scenario(scenario))
    except (runs.RunRefused, scenarios.ScenarioError) as exc:
        return _page(request, fit_id, exc.status, str(exc), exc.problems)
    return see(f"/fits/{fit_id}?saved={scenario}")


@writes.post("/fits/{fit_id}/cancel")
def cancel_fit(request: Request, fit_id: str):
    sched = request.app.state.scheduler
    sched.cancel(fits.job_of(sched, fit_id)["id"])
    return see(f"/fits/{fit_id}")
