"""The headline metrics of a result database, per year, read exactly: the report's headline block and what
``planwise diff`` compares.

Values come from the ``fct_year_summary`` mart and, when the plan's money layer ran, ``fct_dc_plan_summary``
(docs/plan_rules.md section 2.5). A metric whose column is absent (e.g. ``retirements`` before that model exists)
is simply not available. Money stays :class:`~decimal.Decimal` to the cent; a value stored as DOUBLE
(percentages, rates) is read back through its shortest text (72.91, not 72.909999...).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from planwise_core.database import table_exists

YEAR_SUMMARY, PLAN_SUMMARY = "fct_year_summary", "fct_dc_plan_summary"
COUNT, MONEY, PERCENT, FRACTION = "count", "money", "percent", "fraction"
HUNDREDTH = Decimal("0.01")


class Metric(NamedTuple):
    key: str
    label: str
    table: str
    column: str
    unit: str  # count | money | percent (already x100) | fraction (0.06 = 6 %)


METRICS = (
    Metric("headcount", "Head count (actives on Dec 31)", YEAR_SUMMARY, "end_headcount", COUNT),
    Metric("hires", "Hires", YEAR_SUMMARY, "hires", COUNT),
    Metric("terminations", "Terminations", YEAR_SUMMARY, "terminations", COUNT),
    Metric("retirements", "Retirements", YEAR_SUMMARY, "retirements", COUNT),
    Metric("payroll", "Payroll", YEAR_SUMMARY, "payroll", MONEY),
    Metric("participation_pct", "Participation (% of actives enrolled)", YEAR_SUMMARY, "participation_pct", PERCENT),
    Metric("average_deferral_rate", "Average deferral rate (enrolled actives)", YEAR_SUMMARY,
           "average_deferral_rate", FRACTION),
    Metric("employee_deferrals", "Employee deferrals", PLAN_SUMMARY, "total_employee_deferrals", MONEY),
    Metric("employer_match", "Employer match", PLAN_SUMMARY, "total_match", MONEY),
    Metric("employer_core", "Employer core", PLAN_SUMMARY, "total_core", MONEY),
    Metric("employer_cost", "Employer plan cost (match + core)", PLAN_SUMMARY, "total_employer_gross", MONEY),
    Metric("forfeitures_applied", "Forfeitures applied", PLAN_SUMMARY, "forfeitures_applied", MONEY),
    Metric("net_employer_cost", "Net employer cost", PLAN_SUMMARY, "net_employer_cost", MONEY),
    Metric("employer_cost_pct_payroll", "Employer cost, % of payroll", PLAN_SUMMARY, "employer_cost_pct_payroll",
           FRACTION),
    Metric("plan_participation_rate", "Participation (% of eligible)", PLAN_SUMMARY, "participation_rate", FRACTION),
    Metric("at_402g_limit_share", "Share of contributors at the 402(g) limit", PLAN_SUMMARY, "at_402g_limit_share",
           FRACTION),
)
BY_KEY = {m.key: m for m in METRICS}


def table_columns(con, table: str) -> set[str]:
    """The columns of ``table``; none when it is absent or empty (``plan.enabled: false`` builds the plan
    marts with no rows: their metrics are then not available, rather than blank)."""
    if not table_exists(con, table) or con.execute(f"select count(*) from {table}").fetchone()[0] == 0:
        return set()
    return {r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = 'main' and table_name = ?", [table]).fetchall()}


def available(con) -> list[Metric]:
    """The metrics this database holds, in :data:`METRICS` order."""
    columns = {t: table_columns(con, t) for t in (YEAR_SUMMARY, PLAN_SUMMARY)}
    return [m for m in METRICS if m.column in columns[m.table]]


def exact(value):
    """A stored value as an exact number: int and Decimal as they are, a float through its shortest text."""
    if value is None or isinstance(value, (int, Decimal)):
        return value
    return Decimal(repr(float(value)))


def headline(con, metrics: list[Metric] | None = None) -> dict[int, dict[str, object]]:
    """{year: {metric key: exact value or None}} for every year of ``fct_year_summary``."""
    metrics = available(con) if metrics is None else metrics
    if not table_exists(con, YEAR_SUMMARY):
        return {}
    out: dict[int, dict[str, object]] = {
        y: {} for (y,) in con.execute(f"select simulation_year from {YEAR_SUMMARY} order by 1").fetchall()}
    for table in (YEAR_SUMMARY, PLAN_SUMMARY):
        wanted = [m for m in metrics if m.table == table]
        if not wanted:
            continue
        columns = ", ".join(f'"{m.column}"' for m in wanted)
        for year, *values in con.execute(f"select simulation_year, {columns} from {table} order by 1").fetchall():
            if year in out:
                out[year].update({m.key: exact(v) for m, v in zip(wanted, values)})
    for values in out.values():
        for m in metrics:
            values.setdefault(m.key, None)
    return out


def change(first, second) -> tuple[object, Decimal | None]:
    """(second - first, the relative change in percent rounded half up to 2 decimals); None where undefined."""
    if first is None or second is None:
        return None, None
    delta = second - first
    if first == 0:
        return delta, None
    return delta, (Decimal(delta) * 100 / Decimal(first)).quantize(HUNDREDTH, ROUND_HALF_UP)


def _percent(value: Decimal, signed: bool = False) -> str:
    """A fraction as a percentage with exactly 2 decimals, rounded half up (fixed decimals read and print alike)."""
    return f"{(Decimal(value) * 100).quantize(HUNDREDTH, ROUND_HALF_UP):{'+' if signed else ''}.2f}"


def fmt_value(value, unit: str, signed: bool = False) -> str:
    """A headline value as text, exactly: counts with separators, money to the cent, percentages;
    ``signed`` for a change (+/-, percentage points "pp" for percentages)."""
    if value is None:
        return "–"
    sign = "+" if signed else ""
    if unit == COUNT:
        return f"{value:{sign},}"
    if unit == MONEY:
        text = f"{abs(value):,.2f}"
        return ("-" if value < 0 else sign if value else "") + f"${text}"
    if unit == PERCENT:
        return f"{value:{sign}.2f}" + (" pp" if signed else "%")
    return _percent(value, signed) + (" pp" if signed else "%")
