"""The headline metrics of a result database, per year, read exactly: the report's headline block and what
``planwise diff`` compares.

Every value comes from the ``fct_year_summary`` mart; names, labels and units are ``outputs/metrics.py``'s. The
plan's figures are available only when the plan's money layer ran (``fct_dc_plan_summary`` has rows); a metric
whose column the mart lacks is simply not available. Money stays :class:`~decimal.Decimal` to the cent; a value
stored as DOUBLE (fractions) is read back through its shortest text (0.7291, not 0.729099999...).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from planwise_core.database import table_exists
from planwise_core.outputs.metrics import (BY_KEY as _ALL, COUNT, FRACTION, MONEY, PLAN_SUMMARY, YEAR_SUMMARY,
                                           Metric, display as fmt_value, exact)

__all__ = ["COUNT", "FRACTION", "MONEY", "PLAN_SUMMARY", "YEAR_SUMMARY", "Metric", "fmt_value", "exact",
           "METRICS", "BY_KEY", "available", "headline", "change"]
HUNDREDTH = Decimal("0.01")
METRICS = tuple(_ALL[k] for k in (
    "end_headcount", "hires", "terminations", "retirements", "payroll", "enrolled_share_of_actives",
    "average_deferral_rate", "total_employee_deferrals", "total_match", "total_core", "total_employer_gross",
    "forfeitures_applied", "net_employer_cost", "employer_cost_pct_payroll", "participation_rate",
    "at_402g_limit_share"))
BY_KEY = {m.key: m for m in METRICS}


def _has_rows(con, table: str) -> bool:
    """``plan.enabled: false`` builds the plan marts with no rows: their metrics are then not available."""
    return table_exists(con, table) and con.execute(f"select count(*) from {table}").fetchone()[0] > 0


def available(con) -> list[Metric]:
    """The metrics this database holds, in :data:`METRICS` order."""
    if not _has_rows(con, YEAR_SUMMARY):
        return []
    columns = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                         "where table_schema = 'main' and table_name = ?", [YEAR_SUMMARY]).fetchall()}
    with_plan = _has_rows(con, PLAN_SUMMARY)
    return [m for m in METRICS if m.key in columns and (m.source == YEAR_SUMMARY or with_plan)]


def headline(con, metrics: list[Metric] | None = None) -> dict[int, dict[str, object]]:
    """{year: {metric key: exact value or None}} for every year of ``fct_year_summary``."""
    metrics = available(con) if metrics is None else metrics
    if not table_exists(con, YEAR_SUMMARY):
        return {}
    columns = "".join(f', "{m.key}"' for m in metrics)
    rows = con.execute(f"select simulation_year{columns} from {YEAR_SUMMARY} order by 1").fetchall()
    return {year: {m.key: exact(v) for m, v in zip(metrics, values)} for year, *values in rows}


def change(first, second) -> tuple[object, Decimal | None]:
    """(second - first, the relative change in percent rounded half up to 2 decimals); None where undefined."""
    if first is None or second is None:
        return None, None
    delta = second - first
    if first == 0:
        return delta, None
    return delta, (Decimal(delta) * 100 / Decimal(first)).quantize(HUNDREDTH, ROUND_HALF_UP)
