"""Export a simulation's results (events, snapshot, per-year summary) as Parquet or CSV files."""

from __future__ import annotations

import os
from pathlib import Path

from planwise_core.errors import PlanwiseError
from planwise_core.report.run_report import open_results
from planwise_core.spreadsheet import formula_safe_sql

FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)"}

# name -> (table, order): the rows the file holds, in a deterministic order.
EXPORTS = {
    "events": ("fct_yearly_events", "simulation_year, employee_id, event_sequence, event_id"),
    "snapshot": ("fct_workforce_snapshot", "simulation_year, employee_id"),
    "summary": ("fct_year_summary", "simulation_year"),
}


def _query(con, table: str, order: str, fmt: str) -> str:
    """Every column of ``table`` in ``order``; for CSV, text that a spreadsheet would run as a formula (an id
    such as =HYPERLINK(...)) gets a leading apostrophe. Parquet keeps the values exactly."""
    if fmt != "csv":
        return f"select * from {table} order by {order}"
    columns = []
    for name, type_, *_ in con.execute(f"describe {table}").fetchall():
        column = '"' + name.replace('"', '""') + '"'
        columns.append(f"{formula_safe_sql(column)} as {column}" if type_ == "VARCHAR" else column)
    return f"select {', '.join(columns)} from {table} order by {order}"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_results(database: Path | str, fmt: str, out_dir: Path | str) -> list[Path]:
    """Write ``events``, ``snapshot`` and ``summary`` files of ``fmt`` to ``out_dir``; returns their paths.

    The database is opened read-only. Existing files of the same names are replaced (each file is
    written beside its final name first, then renamed, so a failed export leaves the old file). CSV text
    cells that a spreadsheet would read as a formula start with an apostrophe (docs/outputs.md).
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
        for name, (table, order) in EXPORTS.items():
            path = out_dir / f"{name}.{fmt}"
            tmp = out_dir / f".{name}.{fmt}.tmp"
            try:
                con.execute(f"copy ({_query(con, table, order, fmt)}) to {_literal(tmp)} {FORMATS[fmt]}")
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(path)
    return written
