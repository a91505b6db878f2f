"""The small SQL toolbox every module uses: literals, identifiers, catalog probes, attaching, read-only opens."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from decimal import Decimal
from pathlib import Path

import duckdb

from planwise_core.errors import DatabaseBusyError, PlanwiseError, option


def literal(value: str | Path) -> str:
    """A SQL string literal (for statements that take no parameters, such as ``attach`` and ``copy``)."""
    return "'" + str(value).replace("'", "''") + "'"


def value(item) -> str:
    """A Python value as a SQL literal of the type DuckDB gives the value bound as a parameter: None, bool, int,
    float (DOUBLE), Decimal (DECIMAL of its own width and scale), str, date, datetime (TIMESTAMP), list."""
    if item is None:
        return "NULL"
    if isinstance(item, bool):
        return "TRUE" if item else "FALSE"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        return f"CAST('{item!r}' AS DOUBLE)"
    if isinstance(item, Decimal):
        return _decimal(item)
    if isinstance(item, str):
        return literal(item)
    if isinstance(item, dt.datetime):
        return f"{'TIMESTAMPTZ' if item.tzinfo else 'TIMESTAMP'} '{item.isoformat(sep=' ')}'"
    if isinstance(item, dt.date):
        return f"DATE '{item.isoformat()}'"
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(x) for x in item) + "]"
    raise TypeError(f"no SQL literal for a {type(item).__name__}")


def _decimal(item: Decimal) -> str:
    if not item.is_finite():
        return f"CAST('{item}' AS DOUBLE)"
    sign, digits, exponent = item.as_tuple()
    scale = max(0, -exponent)
    width = max(len(digits) + max(0, exponent), scale, 1)
    if width > 38:  # wider than any DECIMAL: DuckDB binds it as a DOUBLE too
        return f"CAST('{item}' AS DOUBLE)"
    return f"CAST('{item:f}' AS DECIMAL({width},{scale}))"


_QUOTED = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")""")
_MARKS = {False: re.compile(r"\?"), True: re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")}


def inline(sql: str, params=()) -> str:
    """``sql`` with its parameters written in as literals (``value``): ``?`` marks take a sequence's items in
    order, ``$name`` marks a dict's items. Marks inside quoted text or identifiers are left alone. Used instead of
    bound parameters on the run's path: DuckDB's Python client imports pandas for the first statement with bound
    parameters, a quarter of a second of a run (docs/performance.md)."""
    named = isinstance(params, dict)
    items = list(params.values() if named else params)
    used = iter(range(len(items)))

    def mark(match: re.Match) -> str:
        if named:
            return value(params[match.group(1)])
        index = next(used, None)
        if index is None:
            raise ValueError(f"fewer parameters ({len(items)}) than ? marks")
        return value(items[index])

    parts = _QUOTED.split(sql)
    out = "".join(part if i % 2 else _MARKS[named].sub(mark, part) for i, part in enumerate(parts))
    if not named and next(used, None) is not None:
        raise ValueError(f"more parameters ({len(items)}) than ? marks")
    return out


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def dicts(con, sql: str, params=()) -> list[dict]:
    """The rows of a query as dicts keyed by column name."""
    cur = con.execute(inline(sql, params) if params else sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def table_exists(con, name: str, schema: str = "main", catalog: str | None = None) -> bool:
    """Whether ``schema.name`` exists (in ``catalog`` when given, else in any attached database)."""
    where = f"table_catalog = {literal(catalog)} and " if catalog else ""
    # Literals, not bound parameters: DuckDB's client imports pandas for the first bound statement (a quarter of
    # a second). fetchall: a half-read catalog result would keep the connection's transaction open.
    return con.execute(f"select count(*) from information_schema.tables where {where}table_schema = "
                       f"{literal(schema)} and table_name = {literal(name)}").fetchall()[0][0] > 0


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
