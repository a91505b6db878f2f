"""The new-run page (docs/serve.md, "Pages"): the form, its submission (303 to the run, or 422 with the problems)
and the equivalent ``planwise run`` command, shown as the fields change (an htmx GET of a fragment; without
JavaScript, the run page shows the exact command once submitted)."""

from __future__ import annotations

import json
import shlex

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from planwise_core.serve import censuses, runs, scenarios
from planwise_core.serve.pages import form, render, see
from planwise_core.serve.workspace import ID_PATTERN, SCENARIO_PATTERN, Workspace

reads = APIRouter(include_in_schema=False)
writes = APIRouter(include_in_schema=False)


def _set(key: str, value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)  # JSON is YAML: --set reads it as typed
    return "--set " + shlex.quote(f"{key}={text}")


def _scenario_parts(ws: Workspace, name: str) -> list[str]:
    if not SCENARIO_PATTERN.fullmatch(name):
        return []
    saved = scenarios.stored(ws, name)
    parts = [_set(k, v) for k, v in (saved.get("overrides") or {}).items()]
    if any(t["source"] == "replaced" for t in (saved.get("tables") or {}).values()):
        parts.append(f"--assumptions scenarios/{name}/{scenarios.TABLES_FOLDER}")
    if saved.get("plugin"):
        parts.append(f"--plugin {shlex.quote(saved['plugin'])}")
    return parts


def draft_command(ws: Workspace, values: dict) -> str:
    """The ``planwise run`` command these form values amount to, from the workspace folder."""
    parts = ["planwise run"]
    if (ws.root / scenarios.BASE_CONFIG).is_file():
        parts.append(f"--config {scenarios.BASE_CONFIG}")
    parts += _scenario_parts(ws, values.get("scenario") or "")
    census = values.get("census_id") or ""
    if ID_PATTERN.fullmatch(census) and census.startswith("cen_"):
        try:
            parts.append(f"--census {ws.relative(censuses.data_file(ws, census))}")
        except FileNotFoundError:
            pass
    for field, option in (("years", "--years"), ("seed", "--seed"), ("optimization_level", "--optimization")):
        if (values.get(field) or "").strip():
            parts.append(f"{option} {shlex.quote(values[field].strip())}")
    for line in (values.get("set") or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            parts.append(_set(key.strip(), scenarios.parse_value(value)))
    parts.append("--database my-run.duckdb")
    return " \\\n    ".join(parts)


def _page(request: Request, values: dict, status: int = 200, problems=None, message=None) -> HTMLResponse:
    ws = request.app.state.ws
    return render(request, "new_run.html", status, scenarios=scenarios.listing(ws), censuses=censuses.listing(ws),
                  values=values, problems=problems or [], message=message, command=draft_command(ws, values))


@reads.get("/runs/new")
def new_run(request: Request, scenario: str = ""):
    return _page(request, {"scenario": scenario})


@reads.get("/fragments/command")
def command_fragment(request: Request):
    values = {k: request.query_params.get(k, "") for k in ("scenario", "census_id", "years", "seed",
                                                            "optimization_level", "set")}
    return render(request, "command.html", command=draft_command(request.app.state.ws, values))


@writes.post("/runs")
async def create_run(request: Request):
    from planwise_core.serve.api import submit

    data = await form(request)
    body = {k: v for k, v in (("scenario", data.get("scenario") or None), ("census_id", data.get("census_id") or None),
                              ("years", data.get("years") or None),
                              ("optimization_level", data.get("optimization_level") or None)) if v}
    if data.get("seed"):
        body["seed"] = scenarios.parse_value(data["seed"])
    body["set"] = {k.strip(): scenarios.parse_value(v) for k, _, v in
                   (line.partition("=") for line in data.get("set", "").splitlines() if "=" in line)}
    try:
        job, _ = submit(request, body, data.get("idempotency_key") or None)
    except (runs.RunRefused, scenarios.ScenarioError) as exc:
        return _page(request, data, 422, exc.problems, str(exc))
    return see(f"/runs/{job['id']}")
