"""The HTML pages: server-rendered, every form a plain POST answered by 303 (or 422 with the problems in
place), htmx and serve.js only adding live updates (docs/serve.md, "Pages")."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from planwise_core.levels import OPTIMIZATION_LEVELS
from planwise_core.outputs.metrics import display
from planwise_core.serve import censuses, forms, runs, scenarios, table_api, table_grid, uploads
from planwise_core.serve.jobs import ACTIVE
from planwise_core.serve.security import same_token, session_cookie
from planwise_core.serve.workspace import check_id, check_scenario

reads = APIRouter(include_in_schema=False)
writes = APIRouter(include_in_schema=False)
NAV = (("/", "Runs"), ("/runs/new", "New run"), ("/scenarios", "Scenarios"), ("/censuses", "Censuses"),
       ("/batches", "Batches"), ("/fits", "Fit"), ("/about", "About"))


@functools.cache
def environment() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.PackageLoader("planwise_core.serve", "templates"),
                                  jinja2.PackageLoader("planwise_core.report", "templates")])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    from planwise_core.report.page import FILTERS

    env.filters.update(FILTERS)  # the report's macros (charts, tables) are used by the compare page
    env.globals["nav"] = NAV
    env.globals["levels"] = OPTIMIZATION_LEVELS
    env.globals["headline_columns"] = runs.HEADLINE_COLUMNS
    env.filters["dollars"] = lambda c: "" if c is None else f"${c / 100:,.2f}"
    env.filters["percent_bp"] = lambda b: "" if b is None else f"{b / 100:.2f}%"
    env.filters["metric"] = lambda v, unit: "" if v is None or v == "" else display(v, unit)
    return env


def render(request: Request | None, template: str, status: int = 200, **context) -> HTMLResponse:
    state = getattr(request, "state", None)
    context.setdefault("csrf", getattr(state, "csrf", "") if state else "")
    context.setdefault("workspace", request.app.state.ws.name if request else "")
    return HTMLResponse(environment().get_template(template).render(**context), status)


def error_page(status: int, message: str, problems, request_id: str) -> str:
    return environment().get_template("error.html").render(
        status=status, message=message, problems=problems or [], request_id=request_id, csrf="", workspace="")


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


async def form(request: Request) -> dict:
    data = await request.form()
    return {k: str(v) for k, v in data.items()}


# ---------------------------------------------------------------------------- sign-in


@reads.get("/login")
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=next if next.startswith("/") and not next.startswith("//") else "/",
                  problem=None)


@writes.post("/login")
async def login(request: Request):
    data = await form(request)
    target = data.get("next", "/")
    target = target if target.startswith("/") and not target.startswith("//") else "/"
    if not same_token(data.get("token", ""), request.app.state.settings.token):
        return render(request, "login.html", 401, next=target, problem="Wrong token: copy it from the terminal "
                                                                      "where `planwise serve` runs.")
    response = see(target)
    response.headers["set-cookie"] = session_cookie(request.app.state.settings, request.scope["server"][1]
                                                    if request.scope.get("server") else 0)
    return response


@writes.post("/logout")
def logout(request: Request):
    response = see("/login")
    port = request.scope["server"][1] if request.scope.get("server") else 0
    response.headers["set-cookie"] = f"planwise_{port}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    return response


# ---------------------------------------------------------------------------- runs


def _run_lists(request: Request) -> dict:
    ws, sched = request.app.state.ws, request.app.state.scheduler
    views = [runs.view(ws, sched, j, full=j["status"] in ACTIVE) for j in sched.of_kind("run")]
    return {"active": [v for v in views if v["status"] in ACTIVE],
            "queued": [v for v in views if v["status"] == "queued"],
            "attention": [v for v in views if v["status"] in ("failed", "cancelled", "interrupted")],
            "others": [{"id": j["id"], "kind": j["kind"], "name": j.get("name"), "status": j["status"],
                        "href": f"/{'batches' if j['id'].startswith('bat_') else 'fits'}/{j['id']}",
                        "queue_position": sched.position(j)}
                       for j in sched.of_kind("batch", "ensemble", "fit", "backtest") if j["status"] in ACTIVE + ("queued",)],
            "recent": [v for v in views if v["status"] == "completed"]}


@reads.get("/")
def home(request: Request, scenario: str = "", status: str = ""):
    lists = _run_lists(request)
    recent = [r for r in lists["recent"] if not scenario or r["scenario"] == scenario]
    return render(request, "runs.html", **{**lists, "recent": recent}, scenario=scenario)


@reads.get("/fragments/queue")
def queue_fragment(request: Request):
    return render(request, "queue.html", **_run_lists(request))


def _run(request: Request, run_id: str) -> dict:
    check_id("run", run_id)
    job = request.app.state.scheduler.jobs.get(run_id)
    if job is None:
        raise runs.RunRefused(404, "not_found", "no run with this id")
    return runs.view(request.app.state.ws, request.app.state.scheduler, job)


@reads.get("/runs/{run_id}")
def run_page(request: Request, run_id: str):
    run = _run(request, run_id)
    job = request.app.state.scheduler.jobs[run_id]
    sim = request.app.state.ws.folder("run", run_id) / "sim"
    return render(request, "run.html", run=run, config_yaml=runs.config_yaml(job),
                  has_results=(sim / "simulation.duckdb").is_file(),
                  has_rejects=(sim / "simulation.duckdb.rejects.csv").is_file())


@reads.get("/fragments/runs/{run_id}/progress")
def progress_fragment(request: Request, run_id: str):
    return render(request, "progress.html", run=_run(request, run_id))


@reads.get("/runs/{run_id}/employee")
async def employee_page(request: Request, run_id: str, employee_id: str = ""):
    ws, sched = request.app.state.ws, request.app.state.scheduler
    db = runs.database(ws, sched, _run(request, run_id)["id"])
    try:
        story = await run_in_threadpool(runs.employee, ws, db, employee_id.strip())
    except runs.RunRefused as exc:
        return render(request, "employee.html", exc.status, run_id=run_id, story=None, message=str(exc))
    return render(request, "employee.html", run_id=run_id, story=story, message=None)


@writes.post("/runs/{run_id}/cancel")
def cancel_run(request: Request, run_id: str):
    request.app.state.scheduler.cancel(_run(request, run_id)["id"])
    return see(f"/runs/{run_id}")


@writes.post("/runs/{run_id}/resume")
def resume_run(request: Request, run_id: str):
    request.app.state.scheduler.resume(_run(request, run_id)["id"])
    return see(f"/runs/{run_id}")


@reads.get("/compare")
async def compare_page(request: Request, allow_different_census: bool = False):
    ids = [r for r in request.query_params.getlist("runs") for r in r.split(",") if r]
    ws, sched = request.app.state.ws, request.app.state.scheduler
    try:
        result = await run_in_threadpool(runs.compare, ws, sched, [check_id("run", i) for i in ids],
                                          allow_different_census)
    except runs.RunRefused as exc:
        again = "/compare?" + urlencode({"runs": ",".join(ids), "allow_different_census": 1})
        return render(request, "compare.html", exc.status, result=None, message=str(exc), again=again, ids=ids,
                      figures=[], allow_different=allow_different_census)
    from planwise_core.serve.compare_charts import compare_figures

    return render(request, "compare.html", result=result, message=None, again="", ids=ids,
                  figures=compare_figures(result), allow_different=allow_different_census)


# ---------------------------------------------------------------------------- scenarios


@reads.get("/scenarios")
def scenarios_page(request: Request):
    return render(request, "scenarios.html", scenarios=scenarios.listing(request.app.state.ws), problems=[],
                  message=None)


@writes.post("/scenarios")
async def create_scenario(request: Request):
    data = await form(request)
    ws = request.app.state.ws
    try:
        name = check_scenario(data.get("name", ""))
        scenarios.create(ws, name, {"description": data.get("description", ""), "base": data.get("base")})
    except (scenarios.ScenarioError, ValueError) as exc:
        return render(request, "scenarios.html", 422, scenarios=scenarios.listing(ws), problems=[],
                      message=str(exc))
    return see(f"/scenarios/{name}")


def _scenario_page(request, name, status=200, problems=None, submitted=None, message=None, saved=False):
    ws = request.app.state.ws
    scenario = scenarios.read(ws, name)
    overrides = scenario.get("overrides") or {}
    if problems is None:
        problems, _ = scenarios.check(ws, name, overrides)
    return render(request, "scenario.html", status, scenario=scenario,
                  sections=forms.form_sections(overrides, problems, submitted), message=message,
                  problems=problems, saved=saved)


@reads.get("/scenarios/{name}")
def scenario_page(request: Request, name: str, saved: int = 0):
    return _scenario_page(request, check_scenario(name), saved=bool(saved))


@writes.post("/scenarios/{name}")
async def save_scenario(request: Request, name: str):
    data = await form(request)
    overrides, submitted = forms.overrides_from_form(data)
    try:
        scenarios.save(request.app.state.ws, check_scenario(name),
                       {"overrides": overrides, "description": data.get("description", ""),
                        "seeds": scenarios.parse_value(data.get("seeds", "")), "plugin": data.get("plugin") or None},
                       int(data.get("revision") or 0) or None)
    except scenarios.ScenarioError as exc:
        return _scenario_page(request, name, exc.status, exc.problems, submitted, str(exc))
    return see(f"/scenarios/{name}?saved=1")


@writes.post("/scenarios/{name}/validate")
async def validate_scenario(request: Request, name: str):
    overrides, _ = forms.overrides_from_form(await form(request))
    problems, _ = scenarios.check(request.app.state.ws, check_scenario(name), overrides)
    return render(request, "problems_oob.html", sections=forms.form_sections(overrides, problems))


@writes.post("/scenarios/{name}/duplicate")
async def duplicate_scenario(request: Request, name: str):
    from planwise_core.serve.catalog import duplicate

    new_name = check_scenario((await form(request)).get("new_name", ""))
    duplicate(request.app.state.ws, check_scenario(name), new_name)
    return see(f"/scenarios/{new_name}")


@writes.post("/scenarios/{name}/delete")
def delete_scenario(request: Request, name: str):
    scenarios.delete(request.app.state.ws, check_scenario(name))
    return see("/scenarios")


@reads.get("/scenarios/{name}/tables/{table}")
def table_page(request: Request, name: str, table: str):
    ws = request.app.state.ws
    text = scenarios.table_csv(ws, check_scenario(name), table)
    return render(request, "table.html", scenario=scenarios.read(ws, name), table=table, text=text, problems=[],
                  message=None, grid=table_grid.grid(text, [], table), spec=table_grid.describe(table),
                  etag=table_api.etag(ws, name, table).strip('"'))


@writes.post("/scenarios/{name}/tables/{table}")
async def save_table(request: Request, name: str, table: str):
    ws = request.app.state.ws
    data = await form(request)
    text = data["csv"] if "csv" in data else table_grid.from_form(data)  # the CSV text, or the grid's cells
    try:
        with table_api.WRITES:  # the edit was made on the table as it was (its ETag): not on a changed one
            if data.get("etag"):
                table_api.check_etag(ws, check_scenario(name), table, data["etag"])
            scenarios.save_table(ws, check_scenario(name), table, text.replace("\r\n", "\n"))
    except scenarios.ScenarioError as exc:
        return render(request, "table.html", exc.status, scenario=scenarios.read(ws, name), table=table, text=text,
                      problems=exc.problems, message=str(exc), grid=table_grid.grid(text, exc.problems, table),
                      spec=table_grid.describe(table), etag=data.get("etag", ""))
    return see(f"/scenarios/{name}")


@writes.post("/scenarios/{name}/tables/{table}/reset")
async def reset_table(request: Request, name: str, table: str):
    etag = (await form(request)).get("etag")
    with table_api.WRITES:
        if etag:
            table_api.check_etag(request.app.state.ws, check_scenario(name), table, etag)
        scenarios.reset_table(request.app.state.ws, check_scenario(name), table)
    return see(f"/scenarios/{name}")


# ---------------------------------------------------------------------------- censuses


@reads.get("/censuses")
def censuses_page(request: Request):
    return render(request, "censuses.html", censuses=censuses.listing(request.app.state.ws), message=None,
                  problems=[], limit=request.app.state.settings.max_upload_bytes)


@writes.post("/censuses")
async def upload_census(request: Request):
    ws, settings = request.app.state.ws, request.app.state.settings
    try:
        fields, part, filename = await uploads.receive_multipart(
            request, ws.serve_dir / "tmp", settings.max_upload_bytes, getattr(request.state, "csrf_pending", None))
        try:
            kind = uploads.sniff(part)
            record = await run_in_threadpool(censuses.store, ws, part, kind, fields.get("name") or filename,
                                             fields.get("census_date"), fields.get("on_invalid_rows"))
        finally:
            uploads.discard(part)
    except (uploads.UploadError, censuses.CensusRefused) as exc:
        return render(request, "censuses.html", exc.status, censuses=censuses.listing(ws), message=str(exc),
                      problems=getattr(exc, "problems", []), limit=settings.max_upload_bytes)
    return see(f"/censuses/{record['id']}")


@writes.post("/censuses/generate")
async def generate_census(request: Request):
    data = await form(request)
    try:
        employees, seed = int(data.get("employees", "0")), int(data.get("seed") or 42)
        if not 1 <= employees <= 1_000_000:
            raise ValueError
    except ValueError:
        return render(request, "censuses.html", 422, censuses=censuses.listing(request.app.state.ws),
                      message="employees must be a whole number from 1 to 1,000,000", problems=[],
                      limit=request.app.state.settings.max_upload_bytes)
    record = await run_in_threadpool(censuses.generate, request.app.state.ws, employees, seed, data.get("name"))
    return see(f"/censuses/{record['id']}")


@reads.get("/censuses/{census_id}")
async def census_page(request: Request, census_id: str):
    ws = request.app.state.ws
    record = censuses.get(ws, check_id("cen", census_id))
    profile = await run_in_threadpool(censuses.profile, ws, census_id)
    used_by = [j["id"] for j in request.app.state.scheduler.jobs.values() if census_id in censuses.used_ids(j)]
    return render(request, "census.html", census=record, profile=profile, used_by=used_by)


@writes.post("/censuses/{census_id}/delete")
def delete_census(request: Request, census_id: str):
    sched = request.app.state.scheduler
    in_use = any(census_id in censuses.used_ids(j) and j["status"] in ACTIVE + ("queued",)
                 for j in sched.jobs.values())
    censuses.delete(request.app.state.ws, check_id("cen", census_id), in_use)
    return see("/censuses")


@reads.get("/favicon.ico")
def favicon():
    return Response(status_code=204)
