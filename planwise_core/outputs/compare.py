"""Two result databases compared table by table, row by row: the engines' regression check
(``planwise compare-engines``, run by planwise_core/engine_comparison.py)."""

from __future__ import annotations

from pathlib import Path

from planwise_core.database.sql import literal

import duckdb



def compare_databases(first: Path, second: Path, tables: tuple[str, ...]) -> dict:
    """For each table (the engines' year tables: ``planwise_core.engine_comparison.year_tables``): row counts and
    the number of rows found in only one of the two databases."""
    con = duckdb.connect()
    try:
        con.execute(f"attach {literal(first)} as a (read_only)")
        con.execute(f"attach {literal(second)} as b (read_only)")
        return {table: _compare_table(con, table) for table in tables}
    finally:
        con.close()


def _compare_table(con, table: str) -> dict:
    rows_a = con.execute(f'select count(*) from a."{table}"').fetchone()[0]
    rows_b = con.execute(f'select count(*) from b."{table}"').fetchone()[0]
    # EXCEPT ALL keeps duplicates, so a doubled row counts as a difference too.
    only_a = con.execute(f'select count(*) from (select * from a."{table}" except all select * from b."{table}")').fetchone()[0]
    only_b = con.execute(f'select count(*) from (select * from b."{table}" except all select * from a."{table}")').fetchone()[0]
    return {"rows_first": rows_a, "rows_second": rows_b, "only_in_first": only_a, "only_in_second": only_b,
            "identical": only_a == 0 and only_b == 0 and rows_a == rows_b}


def all_identical(comparison: dict) -> bool:
    return all(t["identical"] for t in comparison.values())
