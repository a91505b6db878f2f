"""Opening a database that holds simulation results: read-only, written by PlanWise, one projection."""

from __future__ import annotations

import contextlib
from pathlib import Path

from planwise_core.database import table_exists
from planwise_core.database.runlog import check_lineage
from planwise_core.database.sql import open_read_only
from planwise_core.database.workspace import MARKER_TABLE, written_by_planwise
from planwise_core.errors import PlanwiseError, option

REQUIRED_TABLES = ("fct_yearly_events", "fct_workforce_snapshot", "int_workforce_requirements", "fct_year_summary")


@contextlib.contextmanager
def open_results(database: Path | str):
    """A read-only connection to a database that holds simulation results, or a PlanwiseError saying why not."""
    database = Path(database)
    con = open_read_only(database, f"run a simulation into it first, or pass {option('database')} the file a run "
                                   "wrote.")
    try:
        if not written_by_planwise(con):
            raise PlanwiseError(f"{database} was not written by PlanWise (no {MARKER_TABLE} table): pass "
                                f"{option('database')} a file a run wrote.")
        missing = [t for t in REQUIRED_TABLES if not table_exists(con, t)]
        if missing or not con.execute("select count(*) from fct_workforce_snapshot").fetchone()[0]:
            raise PlanwiseError(f"{database} holds no simulation results (missing: "
                                f"{', '.join(missing) or 'rows in fct_workforce_snapshot'}): "
                                "run a simulation into it first.")
        check_lineage(con, database)
        yield con
    finally:
        con.close()
