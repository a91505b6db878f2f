"""The seed's ``POST /api/v1/simulation/run``, its request and response shape kept: the same four fields, a
``{"status": "success", "data": ...}`` answer and ``{"detail": ...}`` errors (docs/serve.md, "Compatibility")."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse

from planwise_core.levels import MAX
from planwise_core.serve import bodies, runs, scenarios
from planwise_core.serve.jobs import TERMINAL, JobError
from planwise_core.serve.workspace import BadId

router = APIRouter(prefix="/api/v1")
DEFAULT_CONFIG = "config/simulation_config.yaml"
MAX_CONFIG_BYTES = 1024 * 1024
PATH_REFUSED = "config_path must name a YAML file inside the workspace"


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def config_file(root: Path, text) -> Path | None:
    """The workspace file ``text`` names (None: the default, absent, so the base configuration is used)."""
    if not isinstance(text, str) or not text or "\x00" in text or "\\" in text or text.startswith(("/", "~")):
        raise Refused(400, PATH_REFUSED)
    if ".." in Path(text).parts:
        raise Refused(400, PATH_REFUSED)
    path = root / text
    if text == DEFAULT_CONFIG and not os.path.lexists(path):
        return None
    resolved = path.resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file() or resolved.suffix not in (".yaml", ".yml"):
        raise Refused(400, PATH_REFUSED)
    if resolved.stat().st_size > MAX_CONFIG_BYTES:
        raise Refused(400, PATH_REFUSED + " (at most 1 MB)")
    return resolved


def _request(body: dict) -> dict:
    unknown = bodies.unknown_keys(body, "compat")
    if unknown:
        raise Refused(422, "; ".join(f"{p['key']}: {p['message']}" for p in unknown))
    for field in ("start_year", "end_year"):
        if not isinstance(body.get(field), int) or isinstance(body.get(field), bool):
            raise Refused(422, f"{field} must be an integer year")
    run = {"scenario": body.get("scenario") or "api", "start_year": body["start_year"],
           "end_year": body["end_year"], "optimization_level": body.get("optimization_level", MAX),
           "census_id": body.get("census_id"), "seed": body.get("seed")}
    return {k: v for k, v in run.items() if v is not None}


def _base(ws, body: dict) -> dict | None:
    from planwise_core.config import load_raw_config
    from planwise_core.errors import ConfigError

    path = config_file(ws.root, body.get("config_path", DEFAULT_CONFIG))
    if path is None:
        return None
    try:
        raw = load_raw_config(path)
    except ConfigError as exc:
        raise Refused(422, ws.scrub(str(exc))) from None
    if not isinstance(raw, dict):
        raise Refused(422, "the configuration file must hold a mapping of sections")
    return raw


@router.post("/simulation/run")
async def simulation_run(request: Request, body: dict = Body(...), idempotency_key: str | None = Header(None)):
    from planwise_core.serve.api import submit

    ws, sched = request.app.state.ws, request.app.state.scheduler
    try:
        job, _created = submit(request, _request(body), idempotency_key, _base(ws, body), any_scenario=True)
    except Refused as exc:
        return JSONResponse({"detail": exc.detail}, exc.status)
    except (runs.RunRefused, scenarios.ScenarioError, JobError) as exc:
        detail = "; ".join([str(exc)] + [f"{p['key']}: {p['message']}" for p in getattr(exc, "problems", [])])
        return JSONResponse({"detail": ws.scrub(detail)}, exc.status)
    except BadId as exc:
        return JSONResponse({"detail": str(exc)}, 400)
    if body.get("wait", True) is False:
        return JSONResponse({"status": "accepted", "data": runs.view(ws, sched, job)}, 202)
    while sched.jobs[job["id"]]["status"] not in TERMINAL:
        await asyncio.sleep(0.25)  # a client that leaves does not stop the run: it stays in the runs list
    finished = runs.view(ws, sched, sched.jobs[job["id"]])
    if finished["result"] is None or finished["status"] in ("cancelled", "interrupted"):
        return JSONResponse({"detail": f"the run was {finished['status']}: {finished.get('error') or ''}".strip()},
                            409)
    return {"status": "success", "data": finished["result"]}
