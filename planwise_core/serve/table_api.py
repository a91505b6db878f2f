"""A scenario's parameter table in the API (docs/serve.md, "The API"): as CSV or JSON rows, with its sha256 as
the ETag; a write (CSV text or ``{"rows": [...]}``) or a reset names that ETag in ``If-Match``, so a write made
from a stale copy is refused (409) instead of overwriting another tab's or script's change."""

from __future__ import annotations

import csv
import io
import json
import threading

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from planwise_core.serve import bodies, scenarios
from planwise_core.serve.workspace import check_scenario

reads = APIRouter(prefix="/api/v1")
writes = APIRouter(prefix="/api/v1")
WRITES = threading.Lock()  # the If-Match check and the write it allows happen as one step


def etag(ws, name: str, table: str) -> str:
    return f'"{scenarios.table_states(ws, name)[table]["sha256"]}"'


def check_etag(ws, name: str, table: str, if_match: str | None) -> None:
    """ScenarioError 409 unless ``if_match`` is the table's current ETag (quotes optional)."""
    current = etag(ws, name, table)
    if not if_match:
        raise scenarios.ScenarioError(409, "if_match_required", f"send If-Match with the table's ETag {current}")
    if if_match.strip().strip('"') != current.strip('"'):
        raise scenarios.ScenarioError(409, "stale_table", f"{table} changed since it was read (now {current}); "
                                      "read it again")


def _columns(table: str) -> list:
    from planwise_core.assumptions.spec import TABLES

    return list(TABLES[table].columns)


def _typed(kind: str, text: str):
    if text == "":
        return None
    try:
        return int(text) if kind == "integer" else float(text) if kind in ("decimal", "double") else text
    except ValueError:
        return text  # the library names the problem when the table is validated


def as_json(table: str, text: str) -> dict:
    kinds = {c.name: c.kind for c in _columns(table)}
    rows = [{k: _typed(kinds.get(k, "text"), v or "") for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]
    return {"columns": [{"name": c.name, "type": c.kind, "nullable": c.nullable} for c in _columns(table)],
            "rows": rows}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def from_json(table: str, payload) -> str:
    """``{"rows": [{column: value}, ...]}`` as the table's CSV (its columns in order); a 422 naming each cell
    of an unknown column, or a body that is not rows."""
    names = [c.name for c in _columns(table)]
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list) or not all(
            isinstance(r, dict) for r in payload["rows"]):
        raise scenarios.ScenarioError(422, "invalid_rows", 'send {"rows": [{"column": value, ...}, ...]}', [
            {"key": "rows", "message": "a list of objects, one per row", "severity": "error"}])
    bodies.check(payload, "table_rows")
    problems = [{"key": f"assumptions.{table}[{i}].{k}"[:120], "message": f"unknown column (columns: "
                 f"{', '.join(names)})", "severity": "error"} for i, r in enumerate(payload["rows"]) for k in r
                if k not in names]
    if problems:
        raise scenarios.ScenarioError(422, "invalid_table", f"The table {table} is refused; nothing was saved.",
                                      problems)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_cell(r.get(n)) for n in names] for r in payload["rows"])
    return out.getvalue()


@reads.get("/scenarios/{name}/tables/{table}")
def table_get(request: Request, name: str, table: str, format: str = "csv"):  # noqa: A002 - the API's name
    ws = request.app.state.ws
    text = scenarios.table_csv(ws, check_scenario(name), table)
    headers = {"ETag": etag(ws, name, table)}
    if format == "json":
        state = scenarios.table_states(ws, name)[table]
        return JSONResponse({"table": table, **state, **as_json(table, text)}, headers=headers)
    if format != "csv":
        raise scenarios.ScenarioError(422, "invalid_format", "format must be csv or json")
    return PlainTextResponse(text, media_type="text/csv", headers=headers)


@writes.put("/scenarios/{name}/tables/{table}")
async def table_put(request: Request, name: str, table: str, if_match: str | None = Header(None)):
    ws = request.app.state.ws
    body = await request.body()
    if len(body) > scenarios.MAX_TABLE_BYTES:
        raise scenarios.ScenarioError(413, "too_large", "parameter tables hold at most 1 MB")
    scenarios.table_csv(ws, check_scenario(name), table)  # 404 for a table that cannot be replaced
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            text = from_json(table, json.loads(body))
        except ValueError:
            raise scenarios.ScenarioError(422, "invalid_json", "the body is not JSON") from None
    else:
        text = body.decode("utf-8", "replace")
    with WRITES:
        check_etag(ws, name, table, if_match)
        state = scenarios.save_table(ws, name, table, text)
    return JSONResponse({"table": table, "replaced": True, **state}, headers={"ETag": f'"{state["sha256"]}"'})


@writes.delete("/scenarios/{name}/tables/{table}", status_code=204)
def table_delete(request: Request, name: str, table: str, if_match: str | None = Header(None)):
    ws = request.app.state.ws
    scenarios.table_csv(ws, check_scenario(name), table)
    with WRITES:
        check_etag(ws, name, table, if_match)
        scenarios.reset_table(ws, name, table)
    return Response(status_code=204)
