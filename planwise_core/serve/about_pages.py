"""The About page (docs/serve.md, "Pages"): version, engines and plugins, the workspace's disk use and limits,
and its clean-up form: a first POST shows what would be removed and how much it frees, a second one (confirmed)
removes it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from planwise_core.serve import cleanup
from planwise_core.serve.pages import form, render, see

reads = APIRouter(include_in_schema=False)
writes = APIRouter(include_in_schema=False)
MAX_DAYS = 36_500


def _page(request: Request, status: int = 200, found: dict | None = None, choice: dict | None = None,
          freed: int | None = None, message: str | None = None):
    from importlib.metadata import version

    from planwise_core.serve.catalog import plugins

    ws, settings = request.app.state.ws, request.app.state.settings
    return render(request, "about.html", status, version=version("planwise"), usage=ws.disk_usage(),
                  settings=settings, origin=f"http://{request.headers.get('host', '')}", plugins=plugins(),
                  found=found, choice=choice or {"builds": True, "days": ""}, freed=freed, message=message)


@reads.get("/about")
def about(request: Request, freed: int | None = None):
    return _page(request, freed=freed)


@writes.post("/about/cleanup")
async def clean(request: Request):
    data = await form(request)
    days_text = data.get("older_than_days", "").strip()
    choice = {"builds": data.get("builds") in ("on", "true", "1"), "days": days_text}
    try:
        days = int(days_text) if days_text else None
        if days is not None and not 0 <= days <= MAX_DAYS:
            raise ValueError
    except ValueError:
        return _page(request, 422, choice=choice, message=f"days must be a whole number from 0 to {MAX_DAYS}")
    ws, sched = request.app.state.ws, request.app.state.scheduler
    found = cleanup.plan(ws, sched, choice["builds"], days)
    if data.get("confirm") != "yes":
        return _page(request, found=found, choice=choice)
    return see(f"/about?freed={cleanup.apply(ws, sched, found)}")
