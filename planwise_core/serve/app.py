"""``create_app(settings)``: the FastAPI application, its one error shape, static files and the scheduler's
lifetime (docs/serve.md)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import importlib.resources
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from planwise_core.errors import DatabaseBusyError, PlanwiseError
from planwise_core.serve import (about_pages, api, batch_api, batch_pages, catalog, compat, export_api, fit_api,
                                 fit_pages, pages, run_pages, table_api)
from planwise_core.serve.bodies import BodyRefused
from planwise_core.serve.censuses import CensusRefused
from planwise_core.serve.jobs import JobError, Scheduler
from planwise_core.serve.runs import RunRefused
from planwise_core.serve.scenarios import ScenarioError
from planwise_core.serve.security import Gate
from planwise_core.serve.settings import Settings
from planwise_core.serve.uploads import UploadError
from planwise_core.serve.workspace import BadId, Workspace

log = logging.getLogger("planwise.serve")
KNOWN = (RunRefused, ScenarioError, CensusRefused, JobError, UploadError, BodyRefused)


def static_dir(package: str) -> str:
    return str(importlib.resources.files(package).joinpath("static"))


def create_app(settings: Settings) -> FastAPI:
    ws = Workspace.open(settings.workspace)
    scheduler = Scheduler(ws, settings.max_concurrent, settings.max_queued, settings.cancel_grace, settings.worker)
    scheduler.load()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        scheduler.stopping = asyncio.Event()
        task = asyncio.create_task(scheduler.run())
        try:
            yield
        finally:
            await asyncio.to_thread(scheduler.shutdown)
            task.cancel()

    app = FastAPI(title="PlanWise", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json")
    app.state.ws, app.state.scheduler, app.state.settings = ws, scheduler, settings
    app.include_router(api.reads)
    app.include_router(api.writes)
    app.include_router(catalog.reads)
    app.include_router(catalog.writes)
    app.include_router(fit_api.reads)
    app.include_router(fit_api.writes)
    app.include_router(batch_api.reads)
    app.include_router(batch_api.writes)
    app.include_router(table_api.reads)
    app.include_router(table_api.writes)
    app.include_router(export_api.reads)
    app.include_router(export_api.writes)
    app.include_router(export_api.page_reads)
    app.include_router(export_api.page_writes)
    app.include_router(compat.router)
    app.include_router(run_pages.reads)  # before pages: /runs/new is not a run id
    app.include_router(run_pages.writes)
    app.include_router(about_pages.reads)
    app.include_router(about_pages.writes)
    app.include_router(pages.reads)
    app.include_router(pages.writes)
    app.include_router(batch_pages.reads)
    app.include_router(batch_pages.writes)
    app.include_router(fit_pages.reads)
    app.include_router(fit_pages.writes)
    app.mount("/static/report", StaticFiles(directory=static_dir("planwise_core.report")), name="report-static")
    app.mount("/static", StaticFiles(directory=static_dir("planwise_core.serve")), name="static")
    _handlers(app, ws)
    return Gate(app, settings) if not getattr(settings, "_no_gate", False) else app


def error_body(request: Request, status: int, code: str, message: str, problems=None) -> dict:
    return {"error": {"status": status, "code": code, "message": message, "problems": problems or [],
                      "request_id": getattr(request.state, "request_id", None)}}


def _respond(request: Request, status: int, code: str, message: str, problems=None, headers=None):
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_body(request, status, code, message, problems), status, headers=headers)
    return HTMLResponse(pages.error_page(status, message, problems, getattr(request.state, "request_id", "")),
                        status, headers=headers)


def _handlers(app: FastAPI, ws: Workspace) -> None:
    @app.exception_handler(BadId)
    async def bad_id(request, exc):
        return _respond(request, 400, "bad_id", str(exc))

    @app.exception_handler(FileNotFoundError)
    async def missing(request, exc):
        return _respond(request, 404, "not_found", "not found")

    for cls in KNOWN:
        @app.exception_handler(cls)
        async def known(request, exc):
            return _respond(request, exc.status, exc.code, ws.scrub(str(exc)), getattr(exc, "problems", None),
                            getattr(exc, "headers", None))

    @app.exception_handler(DatabaseBusyError)
    async def busy(request, exc):
        return _respond(request, 503, "database_busy", ws.scrub(str(exc)), headers={"Retry-After": "2"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        problems = [{"key": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"], "severity": "error"}
                    for e in exc.errors()]
        return _respond(request, 422, "invalid_request", "The request is invalid.", problems)

    @app.exception_handler(PlanwiseError)
    async def domain(request, exc):
        return _respond(request, 422, "refused", ws.scrub(str(exc)))

    @app.exception_handler(Exception)
    async def unexpected(request, exc):
        log.error("request %s failed", getattr(request.state, "request_id", "?"), exc_info=exc)
        return _respond(request, 500, "internal", "internal error, see the server log (request "
                                                  f"{getattr(request.state, 'request_id', '?')})")


def plain(text: str) -> str:
    return html.escape(text)
