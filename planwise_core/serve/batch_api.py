"""``/api/v1/batches`` and ``/api/v1/ensembles`` (docs/serve.md, "Batches and ensembles"): many runs as one
job of the queue; read-only routes on ``reads``, state-changing ones on ``writes``, as in api.py."""

from __future__ import annotations

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from planwise_core.serve import batches, runs
from planwise_core.serve.api import REPORT_CSP, ctx, items, submit_job
from planwise_core.serve.events import last_event_id, read_events, stream
from planwise_core.serve.jobs import TERMINAL

reads = APIRouter(prefix="/api/v1")
writes = APIRouter(prefix="/api/v1")


def submit_batch(request: Request, body: dict, kind: str, key: str | None) -> tuple[dict, bool]:
    limit = request.app.state.scheduler.max_concurrent
    return submit_job(request, {"kind": kind, **body}, key,
                      lambda ws: batches.build_job(ws, body, kind, key, limit), kind=kind)


def _answer(request: Request, job: dict, created: bool) -> JSONResponse:
    ws, sched = ctx(request)
    return JSONResponse(batches.view(ws, sched, job), 202 if created else 200,
                        headers={"Location": f"/api/v1/batches/{job['id']}"})


@reads.get("/batches")
def batch_list(request: Request, limit: int = Query(50, ge=1, le=200), cursor: str | None = None):
    ws, sched = ctx(request)
    return items([batches.view(ws, sched, j) for j in sched.of_kind(*batches.KINDS)], limit, cursor)


@writes.post("/batches", status_code=202)
def batch_create(request: Request, body: dict = Body(...), idempotency_key: str | None = Header(None)):
    return _answer(request, *submit_batch(request, body, "batch", idempotency_key))


@writes.post("/ensembles", status_code=202)
def ensemble_create(request: Request, body: dict = Body(...), idempotency_key: str | None = Header(None)):
    return _answer(request, *submit_batch(request, body, "ensemble", idempotency_key))


@reads.get("/batches/{batch_id}")
def batch_get(request: Request, batch_id: str):
    ws, sched = ctx(request)
    return batches.view(ws, sched, batches.job_of(sched, batch_id))


@reads.get("/batches/{batch_id}/events")
def batch_events(request: Request, batch_id: str, after: int | None = None,
                 last_event: str | None = Header(None, alias="Last-Event-ID")):
    ws, sched = ctx(request)
    path = ws.folder("bat", batches.job_of(sched, batch_id)["id"]) / "events.jsonl"
    body = stream(path, last_event_id(last_event, after), sched.stopping, request.is_disconnected,
                  request.app.state.settings.stream_seconds)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"})


@reads.get("/batches/{batch_id}/events.json")
def batch_events_json(request: Request, batch_id: str, after: int = 0):
    ws, sched = ctx(request)
    job = batches.job_of(sched, batch_id)
    events = read_events(ws.folder("bat", job["id"]) / "events.jsonl", after)
    return {"items": [{"id": n, **e} for n, e in events], "last_event_id": events[-1][0] if events else after,
            "terminal": job["status"] in TERMINAL}


@writes.post("/batches/{batch_id}/cancel", status_code=202)
def batch_cancel(request: Request, batch_id: str):
    ws, sched = ctx(request)
    return JSONResponse(batches.view(ws, sched, sched.cancel(batches.job_of(sched, batch_id)["id"])), 202)


@writes.post("/batches/{batch_id}/resume", status_code=202)
def batch_resume(request: Request, batch_id: str):
    ws, sched = ctx(request)
    return JSONResponse(batches.view(ws, sched, sched.resume(batches.job_of(sched, batch_id)["id"])), 202)


@reads.get("/batches/{batch_id}/bands")
async def batch_bands(request: Request, batch_id: str, metric: str | None = None, scenario: str | None = None):
    ws, sched = ctx(request)
    db = batches.finished_database(ws, batches.job_of(sched, batch_id))
    return {"items": await run_in_threadpool(batches.bands, db, metric, scenario)}


@reads.get("/batches/{batch_id}/report.html")
async def batch_report(request: Request, batch_id: str, download: bool = False):
    ws, sched = ctx(request)
    job = batches.job_of(sched, batch_id)
    path = await run_in_threadpool(batches.report, ws, job, batches.finished_database(ws, job))
    headers = {"Content-Security-Policy": REPORT_CSP}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{batch_id}-report.html"'
    return FileResponse(path, media_type="text/html", headers=headers)


BATCH_FILES = ("batch.json", "job.json", "batch.duckdb", "scenarios.yaml")


@reads.get("/batches/{batch_id}/files/{name}")
def batch_file(request: Request, batch_id: str, name: str):
    ws, sched = ctx(request)
    if name not in BATCH_FILES:
        raise runs.RunRefused(404, "not_found", f"files: {', '.join(BATCH_FILES)}")
    job = batches.job_of(sched, batch_id)
    attachment = {"Content-Disposition": f'attachment; filename="{batch_id}-{name}"'}
    if name == "scenarios.yaml":
        return PlainTextResponse(batches.scenario_file(ws, job), media_type="application/yaml", headers=attachment)
    if name == "batch.duckdb":
        return FileResponse(batches.finished_database(ws, job), media_type="application/octet-stream",
                            headers=attachment)
    folder = ws.folder("bat", job["id"])
    path = folder / ("sim/batch.json" if name == "batch.json" else name)
    if not path.is_file():
        raise runs.RunRefused(404, "not_found", f"the batch has no {name} yet")
    return PlainTextResponse(ws.scrub(path.read_text(encoding="utf-8")), media_type="application/json",
                             headers=attachment)
