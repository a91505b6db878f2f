"""A run's exports, in the API and on the pages (docs/serve.md, "Exports"): ask for one (202 and an export id),
follow it (202 while preparing), download it once ready. Read-only routes on ``reads``, as in api.py."""

from __future__ import annotations

from fastapi import APIRouter, Body, Request
from fastapi.responses import FileResponse, JSONResponse

from planwise_core.serve import bodies, exports, runs
from planwise_core.serve.api import ctx, run_of
from planwise_core.serve.pages import form, render, see

reads = APIRouter(prefix="/api/v1")
writes = APIRouter(prefix="/api/v1")
page_reads = APIRouter(include_in_schema=False)
page_writes = APIRouter(include_in_schema=False)


def start(request: Request, run_id: str, body: dict) -> tuple[dict, bool]:
    ws, sched = ctx(request)
    job = run_of(request, run_id)
    database = runs.database(ws, sched, job["id"])
    return exports.request(ws, job, database, bodies.check(body, "export"))


@writes.post("/runs/{run_id}/exports", status_code=202)
def export_create(request: Request, run_id: str, body: dict = Body(...)):
    record, created = start(request, run_id, body)
    view = exports.view(record)
    return JSONResponse(view, 202 if created else 200, headers={"Location": view["href"]})


@reads.get("/runs/{run_id}/exports")
def export_list(request: Request, run_id: str):
    return {"items": [exports.view(r) for r in exports.listing(request.app.state.ws, run_of(request, run_id)["id"])],
            "next_cursor": None}


@reads.get("/runs/{run_id}/exports/{export_id}")
def export_file(request: Request, run_id: str, export_id: str):
    ws = request.app.state.ws
    record = exports.get(ws, run_of(request, run_id)["id"], export_id)
    if record["status"] == "preparing":
        return JSONResponse(exports.view(record), 202, headers={"Retry-After": "1"})
    if record["status"] == "failed":
        raise runs.RunRefused(500, "export_failed", record["error"] or "the export failed")
    return FileResponse(exports.file_of(ws, record), filename=f"{run_id}-{record['file']}")


@page_writes.post("/runs/{run_id}/exports")
async def export_form(request: Request, run_id: str):
    data = await form(request)
    body = {k: data[k] for k in ("format", "years") if data.get(k)}
    record, _created = start(request, run_id, body)
    return see(exports.view(record)["page"])


@page_reads.get("/runs/{run_id}/exports/{export_id}")
def export_page(request: Request, run_id: str, export_id: str):
    record = exports.get(request.app.state.ws, run_of(request, run_id)["id"], export_id)
    return render(request, "export.html", export=exports.view(record))
