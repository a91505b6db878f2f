"""SQL helpers of the tests: rows, one value, a table's digest in its total order."""

from __future__ import annotations

import hashlib

TABLE_ORDER = {
    "fct_yearly_events": "employee_id, simulation_year, event_sequence",
    "fct_workforce_snapshot": "employee_id, simulation_year",
    "int_workforce_requirements": "simulation_year",
}


def table_digest(con, table: str, exclude: tuple[str, ...] = ()) -> str:
    """sha256 of every row and column (but ``exclude``) of a result table, in its total order."""
    h = hashlib.sha256()
    columns = f"* exclude ({', '.join(exclude)})" if exclude else "*"
    for row in con.execute(f"select {columns} from {table} order by {TABLE_ORDER[table]}").fetchall():
        h.update(("|".join("\\N" if v is None else str(v) for v in row) + "\n").encode())
    return h.hexdigest()


def rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchone()[0]
