"""DuckDB access for the host: the run lock, year bookkeeping and rollback."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from planwise_core.database.sql import ident, not_duckdb, table_exists  # noqa: F401 - not_duckdb re-exported
from planwise_core.errors import DatabaseBusyError, option
from planwise_core.fileio import exclusive_lock


@contextlib.contextmanager
def connect(database: Path):
    # Never read-only: in-process dbt may hold the same file open, and DuckDB refuses mixed configurations.
    con = duckdb.connect(str(database))
    try:
        yield con
    finally:
        con.close()


DUCKDB_THREADS_ENV = "PLANWISE_DUCKDB_THREADS"
# Below this many census rows a run's queries are too small to gain from DuckDB's parallel operators: one
# thread gives the same wall time for 15-25 % less CPU (docs/performance.md, DuckDB threads).
ONE_THREAD_BELOW = 500_000


def duckdb_threads(con) -> int | None:
    """DuckDB threads for a run on ``con``'s database: PLANWISE_DUCKDB_THREADS when set, else 1 for a census
    below ONE_THREAD_BELOW rows, else None (DuckDB's default: every core)."""
    if os.environ.get(DUCKDB_THREADS_ENV):
        return int(os.environ[DUCKDB_THREADS_ENV])
    if not table_exists(con, "census", schema="raw"):
        return None
    # fetchall: a result left unread keeps its transaction open on the keeper's long-lived connection, and the
    # build's checkpoints then fail or wait for ever (tests/test_held_build.py)
    rows = con.execute("select count(*) from raw.census").fetchall()[0][0]
    return 1 if rows < ONE_THREAD_BELOW else None


class Keeper:
    """Keeps a database open while in-process engines work on it, so that every connection this process opens
    meanwhile (in-process dbt's, the host's bookkeeping) shares one DuckDB instance: closing those no longer
    closes the file, which would checkpoint it and drop its cache each time. DuckDB still checkpoints on its
    own when the write-ahead log outgrows checkpoint_threshold, and once more when the keeper closes.
    A dbt subprocess cannot open a file held here: ``hold(False)`` lets go before one runs."""

    def __init__(self, database: Path):
        self.database = database
        self._con = None

    def hold(self, wanted: bool = True) -> None:
        if wanted and self._con is None:
            self._con = duckdb.connect(str(self.database))
            threads = duckdb_threads(self._con)  # for the whole instance, every connection of the run
            if threads:
                self._con.execute(f"set threads = {threads}")
        elif not wanted:
            self.close()

    def close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()


@contextlib.contextmanager
def run_lock(database: Path):
    """Hold an exclusive lock beside the database for the whole run; refuse a second run.

    A run refused before it wrote anything (bad census, bad tables, a foreign database...) leaves nothing behind:
    the lock file is removed when the database does not exist at the end, or when this run created the lock and
    the database is exactly as it was; so is the database's folder if the lock created it.
    """
    created_folder = not database.parent.exists()
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = database.with_name(database.name + ".lock")
    created_lock, before = not lock_path.exists(), _file_state(database)

    def busy(fd: int) -> DatabaseBusyError:
        owner = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
        return DatabaseBusyError(f"Database {database} is in use by another planwise run (pid {owner}). "
                                 "Wait for it to finish, or use another " + option("database") + ".")

    with exclusive_lock(lock_path, busy) as fd:  # a symlink planted as the lock file is refused
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            if not database.exists() or (created_lock and _file_state(database) == before):
                # nothing was written: remove the lock while still holding it
                lock_path.unlink(missing_ok=True)
                if created_folder:
                    with contextlib.suppress(OSError):  # not empty: something else is there, keep it
                        database.parent.rmdir()


def _file_state(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, modification time in ns) of a file, None when it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def completed_years(con) -> list[int]:
    if not table_exists(con, "fct_workforce_snapshot"):
        return []
    return [r[0] for r in con.execute(
        "select distinct simulation_year from fct_workforce_snapshot order by 1").fetchall()]


def delete_years(con, tables: list[str] | tuple[str, ...], first_year: int, last_year: int | None = None) -> None:
    """Remove every row the given years wrote to the year-partitioned ``tables`` (those that exist), at once."""
    last_year = first_year if last_year is None else last_year
    present = {row[0] for row in con.execute("select table_name from information_schema.tables "
                                             "where table_schema = 'main'").fetchall()}  # one catalog read
    con.execute("begin transaction")
    for table in tables:
        if table in present:
            con.execute(f"delete from {ident(table)} where simulation_year between {int(first_year)} and {int(last_year)}")
    con.execute("commit")


def year_row_counts(con, year: int) -> tuple[int, int]:
    events = con.execute(f"select count(*) from fct_yearly_events where simulation_year = {int(year)}").fetchone()[0]
    snapshot = con.execute(f"select count(*) from fct_workforce_snapshot where simulation_year = {int(year)}").fetchone()[0]
    return events, snapshot
