"""What the installation offers (engines, built-in parameter tables) and duplicating a scenario
(docs/serve.md, "The API")."""

from __future__ import annotations

import shutil
import tempfile

import yaml

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from planwise_core.fileio import atomic_write_text
from planwise_core.serve import scenarios
from planwise_core.serve.workspace import Workspace, check_scenario

reads = APIRouter(prefix="/api/v1")
writes = APIRouter(prefix="/api/v1")


@reads.get("/plugins")
def plugins():
    """``planwise plugins --json``: every installed plugin, engines marked, with hooks and versions."""
    from planwise_core.manager import describe_plugins, get_plugin_manager

    return describe_plugins(get_plugin_manager())


def tables() -> list[dict]:
    from planwise_core.assumptions.spec import TABLES

    return [{"table": spec.name, "title": spec.title, "replaceable": not spec.fixed, "key": list(spec.key),
             "columns": [{"name": c.name, "type": c.kind, "nullable": c.nullable, "min": c.low, "max": c.high,
                          "description": c.description} for c in spec.columns],
             "rules": [_rule_name(rule) for rule in spec.rules]}
            for spec in TABLES.values()]


def _rule_name(rule) -> str:
    """A table rule is made by a factory in planwise_core/assumptions/rules.py: its name says what it checks."""
    return getattr(rule, "__qualname__", "rule").split(".<locals>")[0]


@reads.get("/assumptions/tables")
def assumption_tables():
    return tables()


def duplicate(ws: Workspace, name: str, new_name: str) -> dict:
    """Copy a scenario (overrides and replaced tables) under a new name, revision 1; never half-copied."""
    source = ws.scenario_folder(check_scenario(name))
    record = scenarios.read(ws, name)
    target = ws.scenario_folder(check_scenario(new_name))
    if target.exists():
        raise scenarios.ScenarioError(409, "exists", f"a scenario named {new_name} exists")
    (ws.serve_dir / "tmp").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.serve_dir / "tmp") as tmp:
        staged = shutil.copytree(source, f"{tmp}/{new_name}", symlinks=True)
        record.update(name=new_name, revision=1, description=record.get("description") or f"copy of {name}")
        keep = ("name", "description", "overrides", "census_id", "revision", "updated_at")
        atomic_write_text(f"{staged}/scenario.yaml", yaml.safe_dump({k: record.get(k) for k in keep},
                                                                     sort_keys=False))
        shutil.move(staged, target)
    return scenarios.read(ws, new_name)


@writes.post("/scenarios/{name}/duplicate", status_code=201)
def scenario_duplicate(request: Request, name: str, body: dict = Body(...)):
    from planwise_core.serve.bodies import check

    new_name = check(body, "scenario_duplicate").get("new_name")
    if not isinstance(new_name, str):
        raise scenarios.ScenarioError(422, "invalid_request", "send {\"new_name\": \"...\"}")
    copy = duplicate(request.app.state.ws, name, new_name)
    return JSONResponse(copy, 201, headers={"ETag": f'"{copy["revision"]}"',
                                            "Location": f"/api/v1/scenarios/{new_name}"})
