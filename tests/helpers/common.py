"""Small independent re-computations shared by several test modules."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path


def draw(seed: int, employee_id: str, year: int | str, stream: str) -> float:
    """The engine's uniform draw (the uniform_draw macro), recomputed: sha256 of 'seed|id|year|stream'."""
    digest = hashlib.sha256(f"{seed}|{employee_id}|{year}|{stream}".encode()).hexdigest()
    return int(digest[:16], 16) / 2**64


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def completed_years(start: date, on: date) -> int:
    """Whole years from ``start`` to ``on`` (ages and tenures)."""
    return on.year - start.year - (1 if (on.month, on.day) < (start.month, start.day) else 0)


def html_section(page: str, name: str) -> str:
    """The body of ``<section id="NAME">`` in a report page."""
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, flags=re.S)
    assert match, f"no section {name}"
    return match.group(1)


def money_text(value) -> str:
    """An amount as the report shows it: $1,234.56 (a minus sign before the dollar sign)."""
    return ("-" if value < 0 else "") + f"${abs(value):,.2f}"


def compare_outputs(first: Path, second: Path) -> dict:
    """outputs.compare over the tables the engines write year by year (as compare-engines compares them)."""
    from planwise_core.config import PlanwiseConfig
    from planwise_core.engine_comparison import year_tables
    from planwise_core.outputs.compare import compare_databases

    # The list comes from the dbt project's manifest, which is parsed once per catalog (a database file's stem):
    # asked under the registry's file name, it reuses that parse instead of parsing again for each new name.
    tables = year_tables(PlanwiseConfig(), Path(first).parent / "sim.duckdb")
    return compare_databases(first, second, tables)
