"""``/api/v1/fits`` and ``/api/v1/backtests`` (docs/serve.md, "Fit and backtest"); read-only routes on
``reads``, state-changing ones on ``writes``, as in api.py."""

from __future__ import annotations

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from planwise_core.serve import bodies, fits
from planwise_core.serve.api import REPORT_CSP, ctx, items, submit_job

reads = APIRouter(prefix="/api/v1")
writes = APIRouter(prefix="/api/v1")


def submit_fit(request: Request, body: dict, kind: str, key: str | None) -> tuple[dict, bool]:
    return submit_job(request, {"kind": kind, **body}, key, lambda ws: fits.build_job(ws, body, kind, key))


def _answer(request: Request, job: dict, created: bool) -> JSONResponse:
    ws, sched = ctx(request)
    return JSONResponse(fits.view(ws, sched, job), 202 if created else 200,
                        headers={"Location": f"/api/v1/fits/{job['id']}"})


@reads.get("/fits")
def fit_list(request: Request, limit: int = Query(50, ge=1, le=200), cursor: str | None = None):
    ws, sched = ctx(request)
    return items([fits.view(ws, sched, j) for j in sched.of_kind(*fits.KINDS)], limit, cursor)


@writes.post("/fits", status_code=202)
def fit_create(request: Request, body: dict = Body(...), idempotency_key: str | None = Header(None)):
    return _answer(request, *submit_fit(request, body, "fit", idempotency_key))


@writes.post("/backtests", status_code=202)
def backtest_create(request: Request, body: dict = Body(...), idempotency_key: str | None = Header(None)):
    return _answer(request, *submit_fit(request, body, "backtest", idempotency_key))


@reads.get("/fits/{fit_id}")
def fit_get(request: Request, fit_id: str):
    ws, sched = ctx(request)
    return fits.view(ws, sched, fits.job_of(sched, fit_id))


@writes.post("/fits/{fit_id}/cancel", status_code=202)
def fit_cancel(request: Request, fit_id: str):
    ws, sched = ctx(request)
    return JSONResponse(fits.view(ws, sched, sched.cancel(fits.job_of(sched, fit_id)["id"])), 202)


def _report(request: Request, fit_id: str, which: str, download: bool) -> HTMLResponse:
    ws, sched = ctx(request)
    path = fits.report_file(ws, fits.job_of(sched, fit_id), which)
    headers = {"Content-Security-Policy": REPORT_CSP}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{fit_id}-{path.name}"'
    return HTMLResponse(ws.scrub(path.read_text(encoding="utf-8")), headers=headers)


@reads.get("/fits/{fit_id}/report.html")
def fit_report(request: Request, fit_id: str, download: bool = False):
    return _report(request, fit_id, "fit", download)


@reads.get("/fits/{fit_id}/backtest-report.html")
def backtest_report(request: Request, fit_id: str, download: bool = False):
    return _report(request, fit_id, "backtest", download)


@writes.post("/fits/{fit_id}/save-tables")
def fit_save_tables(request: Request, fit_id: str, body: dict = Body(...)):
    from planwise_core.serve.workspace import check_scenario

    ws, sched = ctx(request)
    own = bodies.check({k: v for k, v in body.items() if k != "csrf_token"}, "fit_save_tables")
    return fits.save_tables(ws, fits.job_of(sched, fit_id), check_scenario(own.get("scenario")))
