"""The batch pages (docs/serve.md, "Pages"): the batches list with the forms that start a batch or an
ensemble, and one batch with its live progress, its runs and, once it ends, the batch report (fan charts)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from planwise_core.serve import batches, censuses, runs, scenarios
from planwise_core.serve.batch_api import submit_batch
from planwise_core.serve.pages import render, see

reads = APIRouter(include_in_schema=False)
writes = APIRouter(include_in_schema=False)


def _list_page(request: Request, status: int = 200, message: str | None = None, problems=None, values=None):
    ws, sched = request.app.state.ws, request.app.state.scheduler
    return render(request, "batches.html", status, batches=[batches.view(ws, sched, j)
                                                            for j in sched.of_kind(*batches.KINDS)],
                  scenarios=scenarios.listing(ws), censuses=censuses.listing(ws), message=message,
                  problems=problems or [], values=values or {})


@reads.get("/batches")
def batches_page(request: Request):
    return _list_page(request)


def _body(data: dict, kind: str, names: list[str]) -> dict:
    body = {k: v for k, v in (("census_id", data.get("census_id")), ("years", data.get("years")),
                              ("name", data.get("name"))) if v}
    if data.get("max_concurrent"):
        body["max_concurrent"] = scenarios.parse_value(data["max_concurrent"])
    seeds = scenarios.parse_value(data["seeds"]) if data.get("seeds") else None
    if kind == "ensemble":
        body.update(scenario=data.get("scenario") or "default", seeds=seeds)
        if data.get("first_seed"):
            body["first_seed"] = scenarios.parse_value(data["first_seed"])
    else:
        body["scenarios"] = names
        if seeds is not None:
            body["seeds"] = seeds
    return body


async def _start(request: Request, kind: str):
    raw = await request.form()
    data = {k: str(v) for k, v in raw.items()}
    try:
        job, _ = submit_batch(request, _body(data, kind, [str(v) for v in raw.getlist("scenarios")]), kind,
                              data.get("idempotency_key") or None)
    except (runs.RunRefused, scenarios.ScenarioError) as exc:
        return _list_page(request, 422, str(exc), exc.problems, data)
    return see(f"/batches/{job['id']}")


@writes.post("/batches")
async def create_batch(request: Request):
    return await _start(request, "batch")


@writes.post("/ensembles")
async def create_ensemble(request: Request):
    return await _start(request, "ensemble")


def _batch(request: Request, batch_id: str) -> dict:
    sched = request.app.state.scheduler
    return batches.view(request.app.state.ws, sched, batches.job_of(sched, batch_id))


@reads.get("/batches/{batch_id}")
def batch_page(request: Request, batch_id: str):
    return render(request, "batch.html", batch=_batch(request, batch_id))


@reads.get("/fragments/batches/{batch_id}/progress")
def batch_progress(request: Request, batch_id: str):
    return render(request, "batch_progress.html", batch=_batch(request, batch_id))


@writes.post("/batches/{batch_id}/cancel")
def cancel_batch(request: Request, batch_id: str):
    sched = request.app.state.scheduler
    sched.cancel(batches.job_of(sched, batch_id)["id"])
    return see(f"/batches/{batch_id}")


@writes.post("/batches/{batch_id}/resume")
def resume_batch(request: Request, batch_id: str):
    sched = request.app.state.scheduler
    sched.resume(batches.job_of(sched, batch_id)["id"])
    return see(f"/batches/{batch_id}")
