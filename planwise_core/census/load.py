"""Loading a validated census into raw.census, with what was left out and why.

One transaction replaces three tables: ``raw.census`` (the rows kept), ``raw.census_rejects`` (each
problem of each row left out: row number, id, column, reason) and ``raw.census_load`` (one row: the
file, the counts, the warnings, the rejects file). With ``drop`` the rejects are also written to a CSV
file (written aside, then renamed into place) so they can be opened in a spreadsheet.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb

from planwise_core.census.formats import Reading, rate_decimal_sql
from planwise_core.census.sql import sql_literal
from planwise_core.database.sql import inline
from planwise_core.census.validate import REFUSE, CensusSummary, Inspection
from planwise_core.spreadsheet import formula_safe_sql

LOAD_DDL = """
CREATE OR REPLACE TABLE raw.census_load (
    loaded_at TIMESTAMP, run_id VARCHAR, census_path VARCHAR, on_invalid_rows VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_dropped BIGINT, warning_rows BIGINT,
    actives BIGINT, terminated BIGINT, enrolled BIGINT, extra_columns VARCHAR[],
    rejects_file VARCHAR, summary_json VARCHAR)
"""


def census_options(config) -> dict:
    """How ``config`` wants its census read: what to do with invalid rows, the salaries it can carry, and the
    column mapping and formats of census.* (formats.Reading)."""
    from planwise_core.census.capacity import capacity_for

    return {"on_invalid_rows": config.census.on_invalid_rows, "capacity": capacity_for(config),
            "reading": Reading.of(config.census)}


def publish_rejects(con: duckdb.DuckDBPyConnection, built: Path, final: Path, census_loaded: bool):
    """A run lists rejected rows in its build folder (``built``); at publish the list takes the database's name.

    Points the census load record at ``final`` now (in the build, before it is published) and returns what
    moves the file once the build is in place: without a list, a census loaded again removes an older one.
    """
    con.execute(inline("""update raw.census_load set rejects_file = ?, summary_json = replace(summary_json, ?, ?)
                          where rejects_file = ?""",
                       [str(final), json.dumps(str(built)), json.dumps(str(final)), str(built)]))

    def move() -> None:
        if built.exists():
            os.replace(built, final)
        elif census_loaded:
            final.unlink(missing_ok=True)
    return move


def rejects_path_for(database: Path) -> Path:
    """Where a census loaded into ``database`` lists the rows it left out."""
    return database.with_name(database.name + ".rejects.csv")


def load_census(con: duckdb.DuckDBPyConnection, path: str | Path, census_date: date, *,
                on_invalid_rows: str = REFUSE, capacity=None, rejects_file: Path | None = None,
                run_id: str | None = None, reading: Reading | None = None) -> CensusSummary:
    """Validate, then replace raw.census (and its load record) with the typed census in one transaction.

    ``refuse``: any invalid row refuses the file (CensusError, nothing written). ``drop``: invalid rows are
    left out, recorded in raw.census_rejects and, when ``rejects_file`` is given, written there as CSV.
    """
    path = Path(path)
    inspection = Inspection(con, path, census_date, on_invalid_rows, capacity, reading)
    summary = inspection.run()
    _number_rejects(con, inspection)
    partial = None
    con.begin()
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        present = set(inspection.sources)
        rate = rate_decimal_sql("s_def", inspection.reading.percent_strings)
        con.execute(f"""CREATE OR REPLACE TABLE raw.census AS SELECT
            s_id AS employee_id, p_birth AS employee_birth_date, p_hire AS employee_hire_date,
            p_term AS employee_termination_date,
            p_comp::DECIMAL(18, 2) AS employee_gross_compensation,
            coalesce({rate}, p_def::DECIMAL(9, 6), 0)::DECIMAL(9, 6)
                AS employee_deferral_rate,
            {'p_level::INTEGER' if 'level_id' in present else 'NULL::INTEGER'} AS level_id,
            coalesce(try_cast(s_mbal AS DECIMAL(18, 2)), p_mbal::DECIMAL(18, 2), 0)::DECIMAL(18, 2)
                AS employer_match_balance,
            coalesce(try_cast(s_cbal AS DECIMAL(18, 2)), p_cbal::DECIMAL(18, 2), 0)::DECIMAL(18, 2)
                AS employer_core_balance,
            coalesce(p_esc, false) AS auto_escalation_opt_out,
            coalesce(try_cast(s_own AS DECIMAL(9, 6)), p_own::DECIMAL(9, 6), 0)::DECIMAL(9, 6) AS ownership_pct,
            coalesce(p_off, false) AS is_officer,
            coalesce(try_cast(s_dbal AS DECIMAL(18, 2)), p_dbal::DECIMAL(18, 2), 0)::DECIMAL(18, 2)
                AS employee_deferral_balance
            FROM census_kept ORDER BY _rid""")
        con.execute("CREATE OR REPLACE TABLE raw.census_rejects AS SELECT * FROM census_rejects_numbered "
                    "ORDER BY row_number, column_name")
        written = rejects_file if summary.dropped and rejects_file is not None else None
        if written is not None:
            partial = _write_rejects_aside(con, written)
        _record(con, summary, run_id, written)
        con.commit()
    except BaseException:
        con.rollback()
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
    if partial is not None:
        os.replace(partial, written)
    elif rejects_file is not None:
        rejects_file.unlink(missing_ok=True)  # an older run's list would describe another census
    return summary


def _number_rejects(con: duckdb.DuckDBPyConnection, inspection: Inspection) -> None:
    """census_rejects_numbered: (row_number, employee_id, column_name, reason) of each problem of each row left
    out, numbered as the messages number them (file lines for CSV, 1-based rows for Parquet)."""
    mapping = inspection.line_map()
    if mapping:
        import pyarrow as pa

        lines = pa.table({"rid": list(mapping), "line": list(mapping.values())})
        con.register("census_line_map", lines)
        number = "coalesce(m.line, e._rid + {offset})"
        join = "LEFT JOIN census_line_map m ON m.rid = e._rid"
    else:
        number, join = "e._rid + {offset}", ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE census_rejects_numbered AS
        SELECT {number.format(offset=inspection.row_offset())}::BIGINT AS row_number, p.s_id AS employee_id,
               e.column_name, e.reason
        FROM census_errors e JOIN census_parsed p USING (_rid) {join}""")
    if mapping:
        con.unregister("census_line_map")


def _write_rejects_aside(con: duckdb.DuckDBPyConnection, target: Path) -> Path:
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Ids come from the file as given: an id such as =HYPERLINK(...) must stay text in a spreadsheet.
    con.execute(f"""COPY (SELECT row_number, {formula_safe_sql('employee_id')} AS employee_id,
                                 column_name AS "column", reason
                          FROM census_rejects_numbered ORDER BY row_number, column_name)
                    TO {sql_literal(partial)} (FORMAT csv, HEADER true)""")
    return partial


def _record(con: duckdb.DuckDBPyConnection, summary: CensusSummary, run_id: str | None,
            rejects: Path | None) -> None:
    con.execute(LOAD_DDL)
    detail = dict(summary.to_dict(), rejects_file=str(rejects) if rejects else None)
    con.execute(inline("INSERT INTO raw.census_load VALUES (now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [run_id, str(summary.path), summary.on_invalid_rows, summary.rows, summary.loaded,
                        summary.dropped, summary.warning_rows, summary.actives, summary.terminated, summary.enrolled,
                        list(summary.extra_columns), str(rejects) if rejects else None, json.dumps(detail)]))

