"""Exports of a completed run as background work (docs/serve.md, "Exports"): a request is answered at once
with an export id; one export is prepared at a time, in a thread, never on the server's event loop; the file
appears under its final name only once whole (written in a work folder, then renamed into place), so a
download never gets half a file; an identical export of the same database is reused."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from planwise_core.fileio import reserved_temp
from planwise_core.serve import runs
from planwise_core.serve.events import now
from planwise_core.serve.workspace import Workspace, check_id, new_id, read_json, write_json

log = logging.getLogger("planwise.serve")
FILES = {"xlsx": "results.xlsx", "csv": "csv.zip", "parquet": "parquet.zip"}
RECORD = "export.json"
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planwise-export")  # one export at a time
_ACTIVE: set[str] = set()  # exports this process is preparing; any other "preparing" record is left over
_LOCK = threading.Lock()


def folder(ws: Workspace, run_id: str, export_id: str) -> Path:
    return ws.folder("run", run_id) / "exports" / check_id("exp", export_id)


def _refused(key: str, message: str) -> runs.RunRefused:
    return runs.RunRefused(422, f"invalid_{key}", f"{key} {message}",
                           [{"key": key, "message": message, "severity": "error"}])


def _years(text, job: dict) -> list[int] | None:
    """``"2027-2029"`` as [first, last], within the run's years; None: every year."""
    if text is None:
        return None
    match = runs.YEARS.fullmatch(str(text))
    if not match:
        raise _refused("years", "must look like 2027-2029")
    first, last = int(match[1]), int(match[2] or match[1])
    start, end = job["years"]
    if not start <= first <= last <= end:
        raise _refused("years", f"must lie within the run's years {start}-{end}")
    return [first, last]


def _records(ws: Workspace, run_id: str) -> list[dict]:
    root = ws.folder("run", run_id) / "exports"
    found = [read_json(p / RECORD) for p in sorted(root.glob("exp_*"))] if root.is_dir() else []
    return [_current(r) for r in found if r]


def _current(record: dict) -> dict:
    """A record as it stands: one left "preparing" by a stopped server is failed (ask again)."""
    if record["status"] == "preparing" and record["id"] not in _ACTIVE:
        return {**record, "status": "failed", "error": "the server stopped while preparing it; ask again"}
    return record


def request(ws: Workspace, job: dict, database: Path, body: dict) -> tuple[dict, bool]:
    """(the export record, whether it was started now); an identical one of the same database is reused."""
    fmt = body.get("format")
    if fmt not in FILES:
        raise _refused("format", f"must be one of {', '.join(FILES)}")
    years = _years(body.get("years"), job)
    stat = database.stat()
    key = f"{fmt}:{years}:{stat.st_size}:{stat.st_mtime_ns}"
    with _LOCK:
        for record in _records(ws, job["id"]):
            if record["key"] == key and record["status"] != "failed":
                return record, False
        record = {"id": new_id("exp"), "run_id": job["id"], "format": fmt, "years": years, "key": key,
                  "status": "preparing", "file": FILES[fmt], "created_at": now(), "finished_at": None, "error": None}
        write_json(folder(ws, job["id"], record["id"]) / RECORD, record)
        _ACTIVE.add(record["id"])
    _POOL.submit(_prepare, ws, record, database)
    return record, True


def _prepare(ws: Workspace, record: dict, database: Path) -> None:
    from planwise_core.errors import PlanwiseError
    from planwise_core.outputs.export import export_results

    where = folder(ws, record["run_id"], record["id"])
    work = where / "work"
    try:
        written = export_results(database, record["format"], work, tuple(record["years"] or ()) or None)
        _publish(written, work, where / record["file"])
        record.update(status="ready")
    except PlanwiseError as exc:
        record.update(status="failed", error=ws.scrub(str(exc)))
    except Exception:  # noqa: BLE001 - the export fails, the server goes on; the traceback goes to serve.log
        log.exception("export %s failed", record["id"])
        record.update(status="failed", error="internal error while exporting, see the server log")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        record["finished_at"] = now()
        write_json(where / RECORD, record)
        _ACTIVE.discard(record["id"])


def _publish(written: list[Path], work: Path, final: Path) -> None:
    """The export under its final name, whole or not at all (a rename in the same folder)."""
    if final.suffix == ".xlsx":
        os.replace(written[0], final)
        return
    with reserved_temp(final) as part:
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(work.iterdir()):
                archive.write(path, path.name)
        os.replace(part, final)


def get(ws: Workspace, run_id: str, export_id: str) -> dict:
    record = read_json(folder(ws, run_id, export_id) / RECORD)
    if record is None:
        raise runs.RunRefused(404, "not_found", "no export with this id")
    return _current(record)


def listing(ws: Workspace, run_id: str) -> list[dict]:
    return sorted(_records(ws, run_id), key=lambda r: r["created_at"], reverse=True)


def view(record: dict) -> dict:
    href = f"/api/v1/runs/{record['run_id']}/exports/{record['id']}"
    keep = ("id", "run_id", "format", "years", "status", "file", "created_at", "finished_at", "error")
    return {"export_id": record["id"], **{k: record[k] for k in keep}, "href": href,
            "page": f"/runs/{record['run_id']}/exports/{record['id']}"}


def file_of(ws: Workspace, record: dict) -> Path:
    return folder(ws, record["run_id"], record["id"]) / record["file"]
