"""Run a phase's compiled statements in DuckDB with the project's materializations' semantics, without dbt.

- ``table`` and ``scratch_table``: ``create or replace table <relation> as (<sql>)``;
- ``year_partition``: created from the query on its first run; later, the query runs once into a temporary table
  (planned once, not once for a column check and again for the insert), whose columns (names and DuckDB types, by
  ``describe``) must equal the table's, or the model fails by name; then the year's rows are deleted and the
  temporary table's inserted by name, in one transaction; a model without rows in this configuration
  (``Node.empty``) runs so once in a run (its table created or its columns checked), then a year only deletes its
  rows: no query planned for nothing;
- a data test: dbt's test query (``fail_calc`` as failures, ``warn_if`` / ``error_if`` on it); an error-severity
  test that fails stops the phase with the test's name, a warn-severity one is logged.
See docs/compiled_engine.md.
"""

from __future__ import annotations

import logging
import time

import attrs

from planwise_core.database.sql import literal
from planwise_core.engine.compiled.cache import Entry, Node, cost_name
from planwise_core.engine.compiled.compiler import CompiledSQLError
from planwise_core.errors import SimulationError

log = logging.getLogger("planwise.compiled")
_STAGE_NAME = "planwise_compiled_stage"  # a year_partition query's rows, in this connection's temporary catalog
_STAGE = f"temp.main.{_STAGE_NAME}"


@attrs.define
class Tally:
    """What the compiled engine ran in a run: statements and their seconds."""

    statements: int = 0
    seconds: float = 0.0
    ran_once: set = attrs.Factory(set)  # the models without rows whose query already ran in this run
    # each node's seconds in this run, by its cost name (cache.cost_name): the lanes' balance (engine/compiled/split.py)
    node_seconds: dict = attrs.Factory(dict)

    def add(self, other: Tally) -> None:
        """Count ``other``'s statements (a lane's) in this tally."""
        self.statements += other.statements
        self.seconds += other.seconds
        for name, seconds in other.node_seconds.items():
            self.node_seconds.setdefault(name, []).extend(seconds)


def run_entry(con, entry: Entry, year: int | None, tally: Tally) -> int:
    """Every model then every test of ``entry``; returns how many nodes ran."""
    create_schemas(con, entry.nodes)
    return run_nodes(con, entry.nodes, year, tally)


def create_schemas(con, nodes) -> None:
    for schema in sorted({n.schema for n in nodes if n.kind == "model"}):
        con.execute(f"create schema if not exists {schema}")


def run_nodes(con, nodes, year: int | None, tally: Tally, transaction: bool = True) -> int:
    """``nodes`` in order. ``transaction`` False: the caller holds a transaction open around them all (a tail,
    engine/compiled/lanes.py), so a year's rows are replaced inside it."""
    for node in nodes:
        started = time.perf_counter()
        # (a table gone since, with a rolled-back tail that created it, is created again from the query)
        cleared = node.kind == "model" and node.empty and node.name in tally.ran_once and _exists(con, node)
        if node.kind == "test":
            _run_test(con, node)
        elif cleared:
            _guarded(node, _delete_year, con, node, year)
        else:
            _guarded(node, _materialize, con, node, year, transaction)
            if node.empty:
                tally.ran_once.add(node.name)
        seconds = time.perf_counter() - started
        tally.statements += 1
        tally.seconds += seconds
        tally.node_seconds.setdefault(cost_name(node), []).append(seconds)
        log.debug("  %s %s: %.2fs%s", node.name, node.kind, seconds, " (no rows: the year cleared)" if cleared else "",
                  extra={"event": "compiled_node", "node": node.name, "seconds": round(seconds, 3), "cleared": cleared})
    return len(nodes)


def _materialize(con, node: Node, year: int | None, transaction: bool = True) -> None:
    if node.materialized == "year_partition" and _exists(con, node):
        _replace_year(con, node, year, transaction)
    else:
        con.execute(f"create or replace table {node.relation} as (\n{node.sql}\n)")


def _guarded(node: Node, step, *args) -> None:
    """``step(*args)`` for ``node``: any DuckDB error of its statements is a CompiledSQLError naming the model (the
    year goes to the next engine)."""
    try:
        step(*args)
    except SimulationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any DuckDB error of a statement: the year goes to the next engine
        raise CompiledSQLError(f"compiled engine: model {node.name} failed: {exc}") from None


def _exists(con, node: Node) -> bool:
    """Whether the model's table exists; another kind of object in its place is refused by name."""
    # A literal, not a bound parameter: DuckDB's client imports pandas for bound parameters (docs/performance.md).
    kind = con.execute("select table_type from information_schema.tables where table_catalog || '.' || "
                       f"table_schema || '.' || table_name = {literal(_dotted(node.relation))}").fetchall()
    kind = kind[0] if kind else None
    if kind is not None and kind[0] != "BASE TABLE":
        raise SimulationError(f"{node.relation} exists as a {kind[0].lower()}, not a table: drop it, then run again")
    return kind is not None


def _dotted(relation: str) -> str:
    return ".".join(part.strip('"').replace('""', '"') for part in relation.split('"."'))


def _described(con, what: str) -> list[str]:
    return sorted(f"{name} {kind}" for name, kind, *_ in con.execute(f"describe {what}").fetchall())


def _replace_year(con, node: Node, year: int | None, transaction: bool = True) -> None:
    """The query planned and run once, into a temporary table: its columns checked against the table's, then the
    year's rows replaced from it (by name) in one transaction (the caller's when ``transaction`` is False)."""
    con.execute(f"create or replace temp table {_STAGE_NAME} as (\n{node.sql}\n)")
    try:
        _check_columns(con, node)
        if transaction:
            con.execute("begin transaction")
        try:
            _swap_rows(con, node, year)
            if transaction:
                con.execute("commit")
        except BaseException:
            if transaction:
                con.execute("rollback")
            raise
    finally:
        try:
            con.execute(f"drop table if exists {_STAGE}")
        except Exception:  # noqa: BLE001 - the caller's failed transaction: its rollback drops the table
            if transaction:
                raise


def _swap_rows(con, node: Node, year: int | None) -> None:
    _delete_year(con, node, year)
    con.execute(f"insert into {node.relation} by name select * from {_STAGE}")


def _delete_year(con, node: Node, year: int | None) -> None:
    column = '"' + node.year_column.replace('"', '""') + '"'
    con.execute(f"delete from {node.relation} where {column} = {int(year)}")


def _check_columns(con, node: Node) -> None:
    have, want = _described(con, node.relation), _described(con, _STAGE)
    if have != want:
        raise SimulationError(f"model {node.name} changed its columns: the table {node.relation} has "
                              f"{', '.join(have)} but the model now returns {', '.join(want)}. Rebuild from the "
                              "start year into a new database (or run with --full-refresh)")
    if node.year_column not in {column.split(" ")[0] for column in have}:
        raise SimulationError(f"model {node.name} has no column {node.year_column} to partition {node.relation} "
                              "by year")


def _run_test(con, node: Node) -> None:
    query = (f"select {node.fail_calc} as failures, {node.fail_calc} {node.warn_if} as should_warn, "
             f"{node.fail_calc} {node.error_if} as should_error from (\n{node.sql}\n) dbt_internal_test")
    try:
        failures, should_warn, should_error = con.execute(query).fetchone()
    except Exception as exc:  # noqa: BLE001 - a test that cannot run: the year goes to the next engine
        raise CompiledSQLError(f"compiled engine: test {node.name} could not run: {exc}") from None
    if node.severity == "ERROR" and should_error:
        raise SimulationError(f"test {node.name} failed: {failures} failing rows (configured to fail if "
                              f"{node.error_if})")
    if should_warn:
        log.warning("test %s: %s failing rows (warn if %s)", node.name, failures, node.warn_if)
