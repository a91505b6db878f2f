"""The small SQL toolbox every module uses: literals, identifiers, catalog probes, attaching, read-only opens."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import duckdb

from planwise_core.errors import DatabaseBusyError, PlanwiseError, option


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


# A run holds its file for a moment while it writes a log row (start, publish): readers wait that long (docs/cli.md).
READER_WAIT_SECONDS = 10.0


def not_duckdb(path: Path) -> str | None:
    """What a non-empty file is when it is not a DuckDB database ("a Parquet file", "a text file (a CSV?)"), or
    None when it carries DuckDB's header (the magic bytes ``DUCK`` at offset 8) or cannot be read."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if not head or head[8:12] == b"DUCK":
        return None
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the 4,096th byte
            return "not a DuckDB file (its first bytes are no DuckDB header)"
    return "a text file (a CSV?)"


def open_read_only(database: Path | str, missing_hint: str):
    """A read-only connection to an existing DuckDB file, or one PlanwiseError saying why not (``missing_hint``
    says what to do when the file does not exist). A file held by a writer is waited for up to
    ``READER_WAIT_SECONDS``; a file that is no DuckDB database is named for what it is."""
    database = Path(database)
    if not database.exists():
        raise PlanwiseError(f"Database {database} does not exist: {missing_hint}")
    if database.is_dir():
        raise PlanwiseError(f"{database} is a folder, not a DuckDB database: pass {option('database')} a .duckdb file.")
    kind = not_duckdb(database)
    if kind:
        raise PlanwiseError(f"{database} is not a DuckDB database: it is {kind}. Pass {option('database')} the "
                            ".duckdb file a run wrote.")
    deadline = time.monotonic() + READER_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(str(database), read_only=True)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise PlanwiseError(f"{database} cannot be opened as a DuckDB database ({exc}).") from None
            if time.monotonic() > deadline:
                raise DatabaseBusyError(f"Database {database} is open in another process (a running simulation?): "
                                    "wait for it to finish and try again.") from None
            time.sleep(0.05)
        except duckdb.Error as exc:
            raise PlanwiseError(f"{database} cannot be opened as a DuckDB database ({exc}).") from None
