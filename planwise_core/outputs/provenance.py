"""Where a result database's numbers come from: the run that produced them and the census it was given.

Read by ``planwise diff`` (is it the same census?), the report (assumptions, metadata) and the xlsx export
(its metadata sheet). Every function reads; none writes.
"""

from __future__ import annotations

import hashlib
import json
import re

from planwise_core.database import table_exists
from planwise_core.database.runlog import results_run

CENSUS_TABLE = ("raw", "census")
__all__ = ["results_run"]  # re-exported: the run log answers which run produced the results
NAME_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")  # a key, or an already dotted path of keys


def census_columns(con) -> list[str]:
    """The columns of the loaded census (``raw.census``), sorted; empty when the table is absent."""
    if not table_exists(con, CENSUS_TABLE[1], schema=CENSUS_TABLE[0]):
        return []
    rows = con.execute("select column_name from information_schema.columns where table_schema = ? "
                       "and table_name = ? order by column_name", list(CENSUS_TABLE)).fetchall()
    return [r[0] for r in rows]


def census_digest(con, columns: list[str]) -> str | None:
    """sha256 of the loaded census's rows over ``columns``, in employee order: the census's content,
    whatever file (CSV or Parquet, any path) it was read from. None without ``raw.census``."""
    if not columns:
        return None
    cells = ", ".join(f"coalesce(cast(\"{c}\" as varchar), '\\N')" for c in columns)
    digest = hashlib.sha256("\t".join(columns).encode())
    cur = con.execute(f"select concat_ws(chr(9), {cells}) from raw.census order by {cells}")
    while batch := cur.fetchmany(10_000):
        for (line,) in batch:
            digest.update(b"\n" + line.encode())
    return digest.hexdigest()


def census_identity(con, columns: list[str] | None = None) -> dict:
    """How the database identifies its census: ``path`` (as the run log records it), ``file_sha256`` (when
    the run recorded the file's hash), ``content_sha256`` (of the loaded rows over ``columns``, default all)."""
    run = results_run(con) or {}
    columns = census_columns(con) if columns is None else columns
    return {"path": run.get("census_path"), "file_sha256": run.get("census_sha256"),
            "content_sha256": census_digest(con, columns), "columns": columns}


def flatten(value, prefix: str = "") -> dict[str, object]:
    """A nested configuration as {dotted key: value}; a key that is not a name (nor a dotted path of names, as
    scenario overrides write them) is bracketed (``enrollment.deferral_rate_distribution["0.03"]``); lists
    are values."""
    if not isinstance(value, dict) or not value:
        return {prefix: value} if prefix else {}
    out: dict[str, object] = {}
    for key, item in value.items():
        key = str(key)
        path = (f"{prefix}.{key}" if prefix else key) if NAME_PATH.match(key) else f'{prefix}["{key}"]'
        out.update(flatten(item, path))
    return out


def run_provenance(con) -> dict | None:
    """What produced the database's results: run id, planwise version, census (path and file sha256) and each
    parameter table in force ({table: {sha256, source, replaced}}); None without a run log."""
    run = results_run(con)
    if run is None:
        return None
    try:
        tables = json.loads(run.get("assumptions_json") or "null")
    except ValueError:
        tables = None
    return {"run_id": run.get("run_id"), "planwise_version": run.get("planwise_version"),
            "census_path": run.get("census_path"), "census_sha256": run.get("census_sha256"),
            "assumptions": tables, "config": run.get("config")}


def format_provenance(info: dict | None) -> str:
    """A few lines: the run, the planwise version, the census, and each parameter table's hash and source."""
    if not info:
        return "provenance: no run is recorded in this database"
    lines = [f"run {info['run_id']} with planwise {info.get('planwise_version') or '(not recorded)'}; census "
             f"{info.get('census_path')} (sha256 {str(info.get('census_sha256') or '-')[:12]})"]
    tables = info.get("assumptions") or {}
    replaced = [name for name, t in tables.items() if t.get("replaced")]
    lines.append("parameter tables: " + (f"{len(replaced)} replaced ({', '.join(replaced)}), the others built-in"
                                         if replaced else "all built-in"))
    width = max((len(name) for name in tables), default=0)
    lines += [f"  {name.ljust(width)}  sha256 {t['sha256'][:12]}  {t['source']}" for name, t in tables.items()]
    return "\n".join(lines)
