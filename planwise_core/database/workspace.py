"""Where a run builds its results, and how they replace the database's at once.

A run never writes result tables into the database the user named (``D``). It builds a complete new
database in ``.<D's name>.build/planwise.duckdb`` beside it, and only when every year has succeeded is
that file checkpointed, closed and renamed over ``D``: one ``rename(2)``, so a reader sees the previous
complete results or the new ones, never a mix, and a failed, interrupted or killed run leaves ``D``'s
results byte-identical (its build stays, for ``--resume``).

The build file always has the same, plain name: DuckDB names a file's catalog after its stem and dbt's
parse records that catalog, and every model is a table (no view names its catalog), so the published
file can carry any name, quotes and spaces included, while dbt only ever sees ``planwise``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

import duckdb

from planwise_core.database.connection import not_duckdb
from planwise_core.database.sql import attached, ident, table_exists
from planwise_core.errors import PlanwiseError, option
from planwise_core.fileio import fsync_dir

BUILD_NAME = "planwise.duckdb"
MARKER_TABLE = "planwise_database"
MARKER_DDL = f"create table if not exists {MARKER_TABLE} (format integer, created_at timestamp)"
FORMAT = 1


class Workspace:
    """The published database ``D`` and its build folder ``.<D's name>.build/`` (build file, checkpoints, dbt)."""

    def __init__(self, database: Path):
        self.database = Path(database).absolute()
        self.folder = self.database.parent / f".{self.database.name}.build"
        self.build = self.folder / BUILD_NAME
        self.state_dir = self.folder / "state"

    # -- checks, before anything is touched ------------------------------------------------

    def check_published(self) -> bool:
        """True when ``D`` exists and is a PlanWise database; False when it does not exist; else refuse."""
        return check_planwise_file(self.database, purpose="write results into it")

    def has_build(self) -> bool:
        return self.build.is_file()

    # -- building ---------------------------------------------------------------------------

    def start_empty(self) -> None:
        """A new, empty build (any earlier build is discarded)."""
        self.discard()
        self.folder.mkdir(parents=True)
        with contextlib.closing(duckdb.connect(str(self.build))) as con:
            mark(con)

    def start_from_published(self) -> None:
        """A build that starts as a copy of ``D`` (to continue its projection)."""
        self.discard()
        self.folder.mkdir(parents=True)
        settle(self.database)
        shutil.copyfile(self.database, self.build)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def publish(self) -> None:
        """Replace ``D`` by the finished build in one rename (both files closed and checkpointed first)."""
        with publish_guard(self.database):
            settle(self.build)
            if self.database.exists():
                settle(self.database)
            os.replace(self.build, self.database)
        fsync_dir(self.database.parent)


@contextlib.contextmanager
def publish_guard(database: Path):
    """A write failure while publishing (a full disk at the last checkpoint, a failed rename) is a PlanwiseError
    saying the earlier results were kept and the finished build can be published with --resume."""
    try:
        yield
    except (OSError, duckdb.Error) as exc:
        cause = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise PlanwiseError(f"Could not publish the results into {database} ({cause}). It still holds its earlier "
                            f"results, and this run's finished years are kept beside it: fix the cause (free some "
                            f"space) and run the same command with {option('resume')} to publish them.") from None


def drop_build_record(con) -> None:
    """After the rename (``con`` on the published database): it no longer needs the build's resume record."""
    con.execute("drop table if exists planwise_build")


def mark(con) -> None:
    """Record in ``con``'s database that PlanWise created it (once)."""
    con.execute(MARKER_DDL)
    if not con.execute(f"select count(*) from {MARKER_TABLE}").fetchone()[0]:
        con.execute(f"insert into {MARKER_TABLE} values ({FORMAT:d}, now())")


def settle(path: Path) -> None:
    """Fold any write-ahead log into ``path`` so that the file alone holds the database."""
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        with contextlib.closing(duckdb.connect(str(path))) as con:
            con.execute("checkpoint")
    if wal.exists():
        raise PlanwiseError(f"{path} still has a write-ahead log ({wal.name}) after a checkpoint: is another "
                            "program writing it? Close it and run again.")


def written_by_planwise(con) -> bool:
    """Whether the database holds PlanWise's marker table (written by every run)."""
    return table_exists(con, MARKER_TABLE)


def check_planwise_file(database: Path, purpose: str) -> bool:
    """False when ``database`` does not exist; True when it is a DuckDB file PlanWise created; else refuse.

    Refuses (with what to do) a folder, an empty or non-DuckDB file, a read-only file when ``purpose``
    writes, and a DuckDB database another program created (no PlanWise marker table).
    """
    if not database.exists():
        return False
    if database.is_dir():
        raise PlanwiseError(f"{database} is a folder, not a database file: pass {option('database')} a .duckdb file.")
    info = database.stat()
    if info.st_size == 0:
        raise PlanwiseError(f"{database} is an empty file (0 bytes), not a PlanWise database: remove it or "
                            f"pass another {option('database')}.")
    if purpose.startswith("write") and not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PlanwiseError(f"{database} is read-only: make it writable (chmod u+w) or pass another {option('database')}.")
    kind = not_duckdb(database)
    if kind:
        raise PlanwiseError(f"{database} is not a DuckDB database: it is {kind}. Remove it or pass another "
                            f"{option('database')} (the file was not touched).")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise PlanwiseError(f"Database {database} is open in another process: close it and try again.") from None
        raise PlanwiseError(f"{database} is not a DuckDB database ({str(exc).splitlines()[0]}): remove it or "
                            f"pass another {option('database')}.") from None
    try:
        ours = written_by_planwise(con)
    finally:
        con.close()
    if not ours:
        raise PlanwiseError(f"{database} is a DuckDB database that PlanWise did not create (no {MARKER_TABLE} "
                            f"table), so PlanWise will not {purpose}: pass another {option('database')}.")
    return True


def carry_own_tables(con, published: Path, project_relations: set[str]) -> list[str]:
    """Copy into the build (``con``) the tables users added to the published database: every base table the
    build lacks that is not one of the engine's own relations (a model dropped from the project
    stays dropped). Views are not carried. Returns their qualified names."""
    with attached(con, published, "prev"):
        mine = set(con.execute("select table_schema, table_name from information_schema.tables "
                               "where table_catalog = current_database()").fetchall())
        theirs = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_catalog = 'prev' and table_type = 'BASE TABLE'").fetchall()
        carried = []
        for schema, name in theirs:
            if (schema, name) in mine or name in project_relations:
                continue
            q_schema, q_name = (ident(v) for v in (schema, name))
            con.execute(f"create schema if not exists {q_schema}")
            con.execute(f"create table {q_schema}.{q_name} as select * from prev.{q_schema}.{q_name}")
            carried.append(f"{schema}.{name}")
        return carried
