"""Censuses of the workspace: stored under a server-chosen name, validated and profiled by the library
(docs/serve.md, "Censuses")."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

from planwise_core.serve.workspace import Workspace, new_id, read_json, write_json

POLICIES = ("refuse", "drop")
REJECTS = "rejects.csv"


class CensusRefused(Exception):
    def __init__(self, status: int, code: str, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.problems = status, code, problems or []


def default_census_date() -> dt.date:
    from planwise_core.config import PlanwiseConfig

    return PlanwiseConfig().simulation.effective_census_date


def parse_date(text: str | None) -> dt.date:
    if not text:
        return default_census_date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CensusRefused(422, "invalid_census_date", f"census_date must be YYYY-MM-DD, got {text[:20]!r}",
                            [{"key": "census_date", "message": "must be YYYY-MM-DD", "severity": "error"}]) from None


def data_file(ws: Workspace, census_id: str) -> Path:
    folder = ws.folder("cen", census_id)
    for name in ("census.csv", "census.parquet"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(census_id)


def store(ws: Workspace, part: Path, kind: str, name: str, census_date: str | None, policy: str | None) -> dict:
    """Move an uploaded part file into ``censuses/<id>/`` and validate it (blocking: call in a thread)."""
    policy = policy or "drop"
    if policy not in POLICIES:
        raise CensusRefused(422, "invalid_policy", f"on_invalid_rows must be one of {', '.join(POLICIES)}")
    when = parse_date(census_date)
    census_id = new_id("cen")
    folder = ws.folder("cen", census_id)
    folder.mkdir(parents=True)
    target = folder / f"census.{kind}"
    os.replace(part, target)
    try:
        return _validate(ws, census_id, target, name, when, policy)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def generate(ws: Workspace, employees: int, seed: int, name: str | None) -> dict:
    from planwise_core.census.generate import generate_census

    census_id = new_id("cen")
    folder = ws.folder("cen", census_id)
    folder.mkdir(parents=True)
    try:
        target = generate_census(employees, seed, folder / "census.csv")
        return _validate(ws, census_id, Path(target), name or f"synthetic {employees} (seed {seed})",
                         default_census_date(), "drop")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _check(target: Path, when: dt.date):
    """The census's summary by the loader a run uses (into a throw-away in-memory database), which also writes
    the rows it leaves out, with their reasons, to ``rejects.csv`` beside the census (none: no file)."""
    import duckdb

    from planwise_core.census import load_census

    con = duckdb.connect()
    try:
        return load_census(con, target, when, on_invalid_rows="drop", rejects_file=target.parent / REJECTS)
    finally:
        con.close()


def _validate(ws: Workspace, census_id: str, target: Path, name: str, when: dt.date, policy: str) -> dict:
    from planwise_core.errors import CensusError

    try:
        summary = _check(target, when)
    except CensusError as exc:
        problems = [{"key": "census", "message": ws.scrub(line.strip(" -")), "severity": "error"}
                    for line in str(exc).splitlines() if line.strip()]
        raise CensusRefused(422, "census_refused", "The census is refused whole; nothing was kept.",
                            problems) from None
    validation = summary.to_dict()
    validation.pop("path", None)
    validation["refused"] = policy == "refuse" and summary.dropped > 0
    record = {"id": census_id, "name": name[:200] or census_id, "format": target.suffix[1:],
              "bytes": target.stat().st_size, "sha256": _sha256(target), "census_date": when.isoformat(),
              "uploaded_at": dt.datetime.now().isoformat(timespec="seconds"), "on_invalid_rows": policy,
              "validation": {k: ws.scrub(v) if isinstance(v, str) else v for k, v in validation.items()}}
    write_json(target.parent / "census.json", record)
    return record


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def get(ws: Workspace, census_id: str) -> dict:
    record = read_json(ws.folder("cen", census_id) / "census.json")
    if record is None:
        raise CensusRefused(404, "not_found", "no census with this id")
    return record


def listing(ws: Workspace) -> list[dict]:
    folder = ws.root / "censuses"
    records = [read_json(p / "census.json") for p in sorted(folder.iterdir())] if folder.is_dir() else []
    return [r for r in records if r]


def profile(ws: Workspace, census_id: str) -> dict:
    """``planwise census profile --json`` of the census, cached beside it."""
    from planwise_core.census.profile import profile_census

    record = get(ws, census_id)
    cached = ws.folder("cen", census_id) / "profile.json"
    if cached.is_file():
        return read_json(cached) or {}
    result = profile_census(data_file(ws, census_id), dt.date.fromisoformat(record["census_date"]),
                            on_invalid_rows="drop").to_dict()
    result["source"] = record["name"]
    write_json(cached, result)
    return result


def rejects(ws: Workspace, census_id: str) -> Path:
    """``rejects.csv`` of a census that dropped rows (written again for a census stored before it was kept);
    CensusRefused 404 when no row was dropped. Blocking: call in a thread."""
    record = get(ws, census_id)
    path = ws.folder("cen", census_id) / REJECTS
    if not record["validation"].get("dropped"):
        raise CensusRefused(404, "no_rejects", "this census dropped no rows: there is no rejects file")
    if not path.is_file():
        _check(data_file(ws, census_id), dt.date.fromisoformat(record["census_date"]))
    return path


def delete(ws: Workspace, census_id: str, in_use: bool) -> None:
    get(ws, census_id)
    if in_use:
        raise CensusRefused(409, "in_use", "a queued or running run uses this census")
    shutil.rmtree(ws.folder("cen", census_id))


def used_ids(job: dict) -> tuple:
    """The censuses a job reads: a run's or batch's one, a fit's snapshots."""
    census = job.get("census") or {}
    return tuple(census.get("ids") or ()) + ((census["id"],) if census.get("id") else ())
