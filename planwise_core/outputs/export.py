"""Export a simulation's results (events, snapshot, per-year summary, plan money) as Parquet or CSV files."""

from __future__ import annotations

import os
from pathlib import Path

from planwise_core.database import table_exists
from planwise_core.errors import PlanwiseError
from planwise_core.report.run_report import open_results

FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)"}

# name -> the query whose rows the file holds, in a deterministic order.
EXPORTS = {
    "events": "select * from fct_yearly_events order by simulation_year, employee_id, event_sequence, event_id",
    "snapshot": "select * from fct_workforce_snapshot order by simulation_year, employee_id",
    "summary": "select * from fct_year_summary order by simulation_year",
    "contributions": "select * from fct_dc_contributions order by simulation_year, employee_id",
    "plan_summary": "select * from fct_dc_plan_summary order by simulation_year",
}
# A database written before the plan's money layer existed has no such tables: those files are not written.
OPTIONAL = {"contributions": "fct_dc_contributions", "plan_summary": "fct_dc_plan_summary"}


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_results(database: Path | str, fmt: str, out_dir: Path | str) -> list[Path]:
    """Write ``events``, ``snapshot``, ``summary``, ``contributions`` and ``plan_summary`` files of ``fmt`` to
    ``out_dir``; returns their paths.

    The database is opened read-only. Existing files of the same names are replaced (each file is
    written beside its final name first, then renamed, so a failed export leaves the old file).
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise PlanwiseError(f"Unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PlanwiseError(f"{out_dir} is a file: pass --out with a folder.")
    with open_results(database) as con:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, query in EXPORTS.items():
            if name in OPTIONAL and not table_exists(con, OPTIONAL[name]):
                continue
            path = out_dir / f"{name}.{fmt}"
            tmp = out_dir / f".{name}.{fmt}.tmp"
            try:
                con.execute(f"copy ({query}) to {_literal(tmp)} {FORMATS[fmt]}")
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(path)
    return written
