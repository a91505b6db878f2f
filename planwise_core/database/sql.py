"""The small SQL toolbox every module uses: literals, identifiers, catalog probes, attaching, read-only opens."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from planwise_core.errors import PlanwiseError, option


def literal(value: str | Path) -> str:
    """A SQL string literal (for statements that take no parameters, such as ``attach`` and ``copy``)."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def dicts(con, sql: str, params=()) -> list[dict]:
    """The rows of a query as dicts keyed by column name."""
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def table_exists(con, name: str, schema: str = "main", catalog: str | None = None) -> bool:
    """Whether ``schema.name`` exists (in ``catalog`` when given, else in any attached database)."""
    where = "table_catalog = ? and " if catalog else ""
    return con.execute(f"select count(*) from information_schema.tables where {where}table_schema = ? "
                       "and table_name = ?", ([catalog] if catalog else []) + [schema, name]).fetchone()[0] > 0


@contextlib.contextmanager
def attached(con, path: Path | str, alias: str, read_only: bool = True):
    """``path`` attached to ``con`` as ``alias`` for the block, detached afterwards (also on error)."""
    con.execute(f"attach {literal(path)} as {ident(alias)}" + (" (read_only)" if read_only else ""))
    try:
        yield alias
    finally:
        con.execute(f"detach {ident(alias)}")


def open_read_only(database: Path | str, missing_hint: str):
    """A read-only connection to an existing DuckDB file, or one PlanwiseError saying why not (``missing_hint``
    says what to do when the file does not exist)."""
    database = Path(database)
    if not database.exists():
        raise PlanwiseError(f"Database {database} does not exist: {missing_hint}")
    if database.is_dir():
        raise PlanwiseError(f"{database} is a folder, not a DuckDB database: pass {option('database')} a .duckdb file.")
    try:
        return duckdb.connect(str(database), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise PlanwiseError(f"Database {database} is open in another process (a running simulation?): "
                                "wait for it to finish and try again.") from None
        raise PlanwiseError(f"{database} cannot be opened as a DuckDB database ({exc}).") from None
    except duckdb.Error as exc:
        raise PlanwiseError(f"{database} cannot be opened as a DuckDB database ({exc}).") from None
