"""Loading a validated census into raw.census."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from planwise_core.census.sql import KNOWN, file_kind, parsed_sql, source_sql
from planwise_core.census.validate import CensusSummary, validate_census
from planwise_core.errors import CensusError


def load_census(con: duckdb.DuckDBPyConnection, path: str | Path, census_date: date) -> CensusSummary:
    """Validate, then replace raw.census with the typed census in one transaction (all rows kept)."""
    path = Path(path)
    summary = validate_census(path, census_date)
    source = source_sql(con, path, file_kind(path))
    present = set(KNOWN) & {r[0] for r in con.execute(f"DESCRIBE {source}").fetchall()}
    parsed = parsed_sql(source, present, with_rid=False)
    con.begin()
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(f"""CREATE OR REPLACE TABLE raw.census AS SELECT
            s_id AS employee_id, p_birth AS employee_birth_date, p_hire AS employee_hire_date,
            p_term AS employee_termination_date,
            coalesce(try_cast(s_comp AS DECIMAL(18, 2)), p_comp::DECIMAL(18, 2)) AS employee_gross_compensation,
            coalesce(try_cast(s_def AS DECIMAL(9, 6)), p_def::DECIMAL(9, 6), 0)::DECIMAL(9, 6)
                AS employee_deferral_rate,
            p_level::INTEGER AS level_id,
            coalesce(try_cast(s_mbal AS DECIMAL(18, 2)), p_mbal::DECIMAL(18, 2), 0)::DECIMAL(18, 2)
                AS employer_match_balance,
            coalesce(try_cast(s_cbal AS DECIMAL(18, 2)), p_cbal::DECIMAL(18, 2), 0)::DECIMAL(18, 2)
                AS employer_core_balance,
            coalesce(p_esc, false) AS auto_escalation_opt_out
            FROM ({parsed})""")
        loaded = con.execute("SELECT count(*) FROM raw.census").fetchone()[0]
        if loaded != summary.rows:
            raise CensusError(f"Census {path} changed while it was being loaded (nothing was loaded); run again")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return summary
