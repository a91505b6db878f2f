"""The run report's nondiscrimination section (docs/ndt.md): per ADP/ACP test, the HCE and NHCE averages against
the limit by year as a chart with the table of its numbers (margin, correction cost, HCEs corrected, the QNEC
alternative), and the top-heavy table. Read from ``fct_ndt_summary`` (outputs.ndt); exact figures in the tables.
"""

from __future__ import annotations

from decimal import Decimal

from planwise_core.report.charts import Figure, bar_chart
from planwise_core.report.formatting import fmt_cents, fmt_int, fmt_pct, fmt_rate, or_dash
from planwise_core.report.tables import Column, Table, by_columns

HCE, NHCE, LIMIT = "#e15759", "#4e79a7", "#333333"
NO_NDT = ("Nondiscrimination testing was not run for this database: set plan.ndt.enabled: true (docs/ndt.md) to "
          "see the ADP, ACP, coverage and top-heavy tests.")


def _exact(rows: list[dict]) -> list[dict]:
    """outputs.ndt gives amounts as exact strings; the table formats want Decimals."""
    return [{k: Decimal(v) if isinstance(v, str) and k not in TEXT else v for k, v in r.items()} for r in rows]


TEXT = {"test", "test_group", "status", "status_reason", "applied_prong"}


def _pct_points(value) -> float | None:
    return None if value is None else float(Decimal(value) * 100)


def test_figure(rows: list[dict], test: str) -> Figure | None:
    """HCE and NHCE averages (bars) and the limit (line) per year of one test's main group."""
    rows = [r for r in rows if r["test"] == test and r["test_group"] == "main" and r["status"] != "not_applicable"]
    if not rows:
        return None
    years = [str(r["simulation_year"]) for r in rows]
    hce, nhce, limit = ([_pct_points(r[k]) or 0.0 for r in rows] for k in ("hce_avg", "nhce_avg", "limit_pct"))
    table = by_columns([
        Column("year", years, numeric=False), Column("status", [r["status"] for r in rows], numeric=False),
        Column("HCE average", [r["hce_avg"] for r in rows], fmt_rate),
        Column("NHCE average", [r["nhce_avg"] for r in rows], fmt_rate),
        Column("limit", [r["limit_pct"] for r in rows], fmt_rate), Column("margin", [r["margin"] for r in rows], fmt_rate),
        Column("correction", [r["total_excess"] for r in rows], fmt_cents),
        Column("distributed", [r["total_distributed"] for r in rows], fmt_cents),
        Column("HCEs corrected", [r["hces_corrected"] for r in rows], fmt_int),
        Column("QNEC alternative", [r["qnec_rate"] for r in rows], fmt_rate),
        Column("QNEC cost", [r["qnec_cost"] for r in rows], fmt_cents)])
    name = test.upper()
    return Figure(f"ndt-{test}", f"{name} test: HCE and NHCE averages against the limit (% of pay)",
                  bar_chart(years, [("HCE average", hce, HCE), ("NHCE average", nhce, NHCE)], fmt=fmt_pct,
                            lines=[("limit", limit, LIMIT)]),
                  [("HCE average", HCE), ("NHCE average", NHCE), ("limit", LIMIT)],
                  note=f"{name} passes when the HCE average is at most the limit; exempt under a safe-harbor design.",
                  table=table)


def ndt_figures(data: dict) -> list[Figure]:
    rows = _exact(data.get("ndt") or [])
    return [f for f in (test_figure(rows, "adp"), test_figure(rows, "acp")) if f]


def top_heavy_table(data: dict) -> Table | None:
    rows = [r for r in _exact(data.get("ndt") or []) if r["test"] == "top_heavy"]
    if not rows:
        return None
    return by_columns([
        Column("year", [str(r["simulation_year"]) for r in rows], numeric=False),
        Column("status", [f"{r['status']} ({r['status_reason']})" if r["status_reason"] else r["status"] for r in rows],
               numeric=False),
        Column("key / total balances", [r["ratio"] for r in rows], lambda v: or_dash(v, lambda x: f"{Decimal(x):.6f}")),
        Column("minimum rate", [r["minimum_rate"] for r in rows], fmt_rate),
        Column("minimum cost", [r["minimum_cost"] for r in rows], fmt_cents)])
