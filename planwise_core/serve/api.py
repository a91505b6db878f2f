"""The REST API, ``/api/v1`` (docs/serve.md, "API"). Read-only routes live on ``reads``, state-changing ones
on ``writes``, so a test can hold that no GET changes anything."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from planwise_core.serve import bodies, censuses, runs, scenarios, uploads
from planwise_core.serve.events import last_event_id, now, read_events, stream
from planwise_core.serve.jobs import TERMINAL
from planwise_core.serve.workspace import check_id, scrub_value

reads = APIRouter(prefix="/api/v1")
writes = APIRouter(prefix="/api/v1")
RAW_TYPES = {"text/csv": "csv", "application/vnd.apache.parquet": "parquet", "application/octet-stream": None}


def ctx(request: Request):
    return request.app.state.ws, request.app.state.scheduler


def items(values: list, limit: int = 50, cursor: str | None = None) -> dict:
    """A page of a list: ``cursor`` is the opaque ``next_cursor`` of the previous page (an offset)."""
    if cursor is not None and (not cursor.isdigit() or len(cursor) > 9):
        raise runs.RunRefused(400, "bad_cursor", "cursor must be the next_cursor of a previous page")
    start = int(cursor or 0)
    return {"items": values[start:start + limit],
            "next_cursor": str(start + limit) if start + limit < len(values) else None}


@reads.get("/health")
def health():
    return {"status": "ok"}


@reads.get("/info")
def info(request: Request):
    ws, sched = ctx(request)
    settings = request.app.state.settings
    from importlib.metadata import version

    return {"version": version("planwise"),
            "workspace": {"name": ws.name, "runs": len(sched.of_kind("run")), "scenarios": len(scenarios.listing(ws)),
                          "censuses": len(censuses.listing(ws)), **ws.disk_usage()},
            "limits": {"max_upload_bytes": settings.max_upload_bytes, "max_concurrent": settings.max_concurrent,
                       "max_queued": settings.max_queued}, "read_only": settings.read_only}


@reads.get("/config/defaults")
def config_defaults(request: Request):
    return scenarios.base_config(request.app.state.ws)


@reads.get("/config/schema")
def config_schema():
    from planwise_core.config.describe import config_schema as keys
    from planwise_core.serve.forms import schema

    return {"sections": schema(), "keys": keys()}


# ---------------------------------------------------------------------------- censuses


@reads.get("/censuses")
def census_list(request: Request, limit: int = Query(50, ge=1, le=200), cursor: str | None = None):
    return items(censuses.listing(request.app.state.ws), limit, cursor)


@writes.post("/censuses", status_code=201)
async def census_upload(request: Request):
    ws, settings = request.app.state.ws, request.app.state.settings
    fields, part, filename = await uploads.receive_multipart(
        request, ws.serve_dir / "tmp", settings.max_upload_bytes, request.state.csrf_pending
        if hasattr(request.state, "csrf_pending") else None)
    return await _store(ws, part, fields.get("name") or filename, fields.get("census_date"),
                        fields.get("on_invalid_rows"))


@writes.put("/censuses/upload", status_code=201)
async def census_upload_raw(request: Request, name: str = "census", census_date: str | None = None,
                            on_invalid_rows: str | None = None):
    ws, settings = request.app.state.ws, request.app.state.settings
    part = await uploads.receive_raw(request, ws.serve_dir / "tmp", settings.max_upload_bytes)
    return await _store(ws, part, name, census_date, on_invalid_rows)


async def _store(ws, part: Path, name: str, census_date, policy):
    try:
        kind = uploads.sniff(part)
        return await run_in_threadpool(censuses.store, ws, part, kind, name or "census", census_date, policy)
    finally:
        uploads.discard(part)


@writes.post("/censuses/generate", status_code=201)
async def census_generate(request: Request, body: dict = Body(...)):
    bodies.check(body, "census_generate")
    employees, seed = body.get("employees"), body.get("seed", 42)
    if not isinstance(employees, int) or isinstance(employees, bool) or not 1 <= employees <= 10_000_000:
        raise censuses.CensusRefused(422, "invalid_employees", "employees must be an integer from 1 to 10,000,000")
    return await run_in_threadpool(censuses.generate, request.app.state.ws, employees, seed, body.get("name"))


@reads.get("/censuses/{census_id}")
def census_get(request: Request, census_id: str):
    return censuses.get(request.app.state.ws, check_id("cen", census_id))


@reads.get("/censuses/{census_id}/profile")
async def census_profile(request: Request, census_id: str):
    return await run_in_threadpool(censuses.profile, request.app.state.ws, check_id("cen", census_id))


@reads.get("/censuses/{census_id}/rejects.csv")
async def census_rejects(request: Request, census_id: str):
    path = await run_in_threadpool(censuses.rejects, request.app.state.ws, check_id("cen", census_id))
    return FileResponse(path, media_type="text/csv", filename=f"{census_id}-rejects.csv")


@writes.delete("/censuses/{census_id}", status_code=204)
def census_delete(request: Request, census_id: str):
    ws, sched = ctx(request)
    check_id("cen", census_id)
    in_use = any(census_id in censuses.used_ids(j) and j["status"] not in TERMINAL for j in sched.jobs.values())
    censuses.delete(ws, census_id, in_use)
    return Response(status_code=204)


# ---------------------------------------------------------------------------- scenarios


def _etag(scenario: dict) -> dict:
    return {"ETag": f'"{scenario.get("revision", 0)}"'}


def _if_match(value: str | None) -> int:
    try:
        return int((value or "").strip('"'))
    except ValueError:
        raise scenarios.ScenarioError(409, "if_match_required", "send If-Match with the scenario's revision") from None


@reads.get("/scenarios")
def scenario_list(request: Request, limit: int = Query(50, ge=1, le=200), cursor: str | None = None):
    return items(scenarios.listing(request.app.state.ws), limit, cursor)


@writes.post("/scenarios", status_code=201)
def scenario_create(request: Request, body: dict = Body(...)):
    from planwise_core.serve.workspace import check_scenario

    name = check_scenario(bodies.check(body, "scenario_create").get("name"))
    created = scenarios.create(request.app.state.ws, name, body)
    return JSONResponse(created, 201, headers={**_etag(created), "Location": f"/api/v1/scenarios/{name}"})


@reads.get("/scenarios/{name}")
def scenario_get(request: Request, name: str):
    ws = request.app.state.ws
    scenario = scenarios.read(ws, name)
    problems, effective = scenarios.check(ws, name, scenario.get("overrides") or {})
    return JSONResponse({**scenario, "problems": problems, "effective_config": effective}, headers=_etag(scenario))


@writes.put("/scenarios/{name}")
def scenario_put(request: Request, name: str, body: dict = Body(...), if_match: str | None = Header(None)):
    bodies.check(body, "scenario_update")
    saved = scenarios.save(request.app.state.ws, name, body, _if_match(if_match))
    return JSONResponse(saved, headers=_etag(saved))


@writes.post("/scenarios/{name}/validate")
def scenario_validate(request: Request, name: str, body: dict = Body(...)):
    bodies.check(body, "scenario_validate")
    problems, effective = scenarios.check(request.app.state.ws, name, body.get("overrides") or {})
    problems += scenarios.field_problems(body)
    return {"valid": not scenarios.errors_of(problems), "problems": problems, "effective_config": effective}


@writes.delete("/scenarios/{name}", status_code=204)
def scenario_delete(request: Request, name: str, if_match: str | None = Header(None)):
    ws = request.app.state.ws
    if _if_match(if_match) != scenarios.read(ws, name).get("revision"):
        raise scenarios.ScenarioError(409, "stale_revision", "the scenario changed; reload it")
    scenarios.delete(ws, name)
    return Response(status_code=204)


@reads.get("/batch-file")
def batch_file(request: Request, scenarios_: str | None = Query(None, alias="scenarios")):
    names = [n for n in (scenarios_ or "").split(",") if n]
    return PlainTextResponse(scenarios.batch_file(request.app.state.ws, names), media_type="application/yaml")


# ---------------------------------------------------------------------------- runs


def submit_job(request: Request, request_body: dict, key: str | None, build, kind: str | None = None
               ) -> tuple[dict, bool]:
    """Queue the job ``build(workspace)`` makes, once per Idempotency-Key: (job, whether it was created now).
    ``request_body`` identifies the request (the same key with another request is a 409); its keys must be
    those a ``kind`` job takes (``bodies.ALLOWED``; without ``kind``, the body's own ``"kind"`` names it)."""
    kind, own = bodies.kind_of(request_body, kind)
    bodies.check(own, kind)
    ws, sched = ctx(request)
    if key is not None and len(key) > 64:
        raise runs.RunRefused(400, "bad_idempotency_key", "Idempotency-Key holds at most 64 characters")
    existing = sched.find_idempotent(key, runs.request_sha(request_body))
    if existing is not None:
        return existing, False
    job = build(ws)
    job["created_at"] = now()
    return sched.submit(job), True


def submit(request: Request, body: dict, key: str | None, base: dict | None = None, any_scenario: bool = False
           ) -> tuple[dict, bool]:
    """A run; ``any_scenario``: a scenario name without a saved scenario runs the base configuration."""
    return submit_job(request, body, key, lambda ws: runs.build_job(ws, body, key, base, any_scenario), kind="run")


@reads.get("/runs")
def run_list(request: Request, scenario: str | None = None, status: str | None = None,
             limit: int = Query(50, ge=1, le=200), cursor: str | None = None):
    ws, sched = ctx(request)
    jobs = [j for j in sched.of_kind("run")
            if (not scenario or j["scenario"] == scenario) and (not status or j["status"] == status)]
    return items([runs.view(ws, sched, j, full=False) for j in jobs], limit, cursor)


@writes.post("/runs", status_code=202)
def run_create(request: Request, body: dict = Body(...), idempotency_key: str | None = Header(None)):
    job, created = submit(request, body, idempotency_key)
    ws, sched = ctx(request)
    return JSONResponse(runs.view(ws, sched, job), 202 if created else 200,
                        headers={"Location": f"/api/v1/runs/{job['id']}"})


def run_of(request: Request, run_id: str) -> dict:
    check_id("run", run_id)
    job = request.app.state.scheduler.jobs.get(run_id)
    if job is None or job.get("kind", "run") != "run":
        raise runs.RunRefused(404, "not_found", "no run with this id")
    return job


@reads.get("/runs/{run_id}")
def run_get(request: Request, run_id: str):
    ws, sched = ctx(request)
    return runs.view(ws, sched, run_of(request, run_id))


@reads.get("/runs/{run_id}/events")
def run_events(request: Request, run_id: str, after: int | None = None, last_event: str | None = Header(
        None, alias="Last-Event-ID")):
    job = run_of(request, run_id)
    ws, sched = ctx(request)
    path = ws.folder("run", job["id"]) / "events.jsonl"
    body = stream(path, last_event_id(last_event, after), sched.stopping, request.is_disconnected,
                  request.app.state.settings.stream_seconds)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"})


@reads.get("/runs/{run_id}/events.json")
def run_events_json(request: Request, run_id: str, after: int = 0):
    job = run_of(request, run_id)
    events = read_events(request.app.state.ws.folder("run", job["id"]) / "events.jsonl", after)
    return {"items": [{"id": n, **e} for n, e in events], "last_event_id": events[-1][0] if events else after,
            "terminal": job["status"] in TERMINAL}


@writes.post("/runs/{run_id}/cancel", status_code=202)
def run_cancel(request: Request, run_id: str):
    ws, sched = ctx(request)
    return JSONResponse(runs.view(ws, sched, sched.cancel(run_of(request, run_id)["id"])), 202)


@writes.post("/runs/{run_id}/resume", status_code=202)
def run_resume(request: Request, run_id: str):
    ws, sched = ctx(request)
    return JSONResponse(runs.view(ws, sched, sched.resume(run_of(request, run_id)["id"])), 202)


@writes.delete("/runs/{run_id}", status_code=204)
def run_delete(request: Request, run_id: str):
    ws, sched = ctx(request)
    runs.delete(ws, sched, run_of(request, run_id)["id"])
    return Response(status_code=204)


@reads.get("/runs/{run_id}/summary")
async def run_summary(request: Request, run_id: str):
    ws, sched = ctx(request)
    return await run_in_threadpool(runs.summary, runs.database(ws, sched, run_of(request, run_id)["id"]))


@reads.get("/runs/{run_id}/employees/{employee_id}")
async def run_employee(request: Request, run_id: str, employee_id: str):
    ws, sched = ctx(request)
    db = runs.database(ws, sched, run_of(request, run_id)["id"])
    return await run_in_threadpool(runs.employee, ws, db, employee_id)


@reads.get("/runs/{run_id}/log")
def run_log(request: Request, run_id: str, tail: int = Query(200, ge=1, le=5000)):
    ws = request.app.state.ws
    path = ws.folder("run", run_of(request, run_id)["id"]) / "sim" / "run.log"
    if not path.is_file():
        raise runs.RunRefused(404, "not_found", "the run has no log yet")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-tail:]
    return PlainTextResponse(ws.scrub("\n".join(lines)) + "\n")


REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; sandbox allow-scripts"


@reads.get("/runs/{run_id}/report.html")
async def run_report(request: Request, run_id: str, download: bool = False):
    ws, sched = ctx(request)
    db = runs.database(ws, sched, run_of(request, run_id)["id"])
    path = await run_in_threadpool(runs.report, ws, run_id, db)
    headers = {"Content-Security-Policy": REPORT_CSP}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{run_id}-report.html"'
    return FileResponse(path, media_type="text/html", headers=headers)


RUN_FILES = {"run.json": "sim/run.json", "config.yaml": "sim/config.yaml", "job.json": "job.json",
             "census-rejects.csv": "sim/simulation.duckdb.rejects.csv"}


@reads.get("/runs/{run_id}/files/{name}")
def run_file(request: Request, run_id: str, name: str):
    ws = request.app.state.ws
    if name not in RUN_FILES:
        raise runs.RunRefused(404, "not_found", f"files: {', '.join(RUN_FILES)}")
    path = ws.folder("run", run_of(request, run_id)["id"]) / RUN_FILES[name]
    if not path.is_file():
        raise runs.RunRefused(404, "not_found", f"the run has no {name} yet")
    return PlainTextResponse(ws.scrub(path.read_text(encoding="utf-8")),
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@reads.get("/compare")
async def compare(request: Request, runs_: str = Query(..., alias="runs"), allow_different_census: bool = False):
    ws, sched = ctx(request)
    ids = [check_id("run", r) for r in runs_.split(",") if r]
    return await run_in_threadpool(runs.compare, ws, sched, ids, allow_different_census)


@reads.get("/events")
def workspace_events(request: Request, after: int | None = None,
                     last_event: str | None = Header(None, alias="Last-Event-ID")):
    ws, sched = ctx(request)
    body = stream(ws.serve_dir / "events.jsonl", last_event_id(last_event, after), sched.stopping,
                  request.is_disconnected, request.app.state.settings.stream_seconds)
    return StreamingResponse(body, media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


def scrubbed(request: Request, payload) -> JSONResponse:
    return JSONResponse(scrub_value(request.app.state.ws, json.loads(json.dumps(payload, default=str))))
