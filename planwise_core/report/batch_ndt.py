"""The batch report's nondiscrimination table: each scenario's ADP, ACP and top-heavy results per year side by
side (docs/ndt.md), from ``batch_run_years``. With several runs (seeds) a status shows how many runs had it."""

from __future__ import annotations

from collections import Counter

from planwise_core.database import table_exists
from planwise_core.report.formatting import fmt_cents
from planwise_core.report.tables import Table

TESTS = (("ndt_adp", "ADP"), ("ndt_acp", "ACP"), ("ndt_top_heavy", "top-heavy"))


def ndt_side_by_side(con, scenarios: list[str]) -> Table | None:
    """None when no run of the batch tested (or the batch database predates the NDT columns)."""
    if not table_exists(con, "batch_run_years"):
        return None
    columns = {r[0] for r in con.execute("describe batch_run_years").fetchall()}
    if "ndt_adp" not in columns:
        return None
    found = con.execute("select scenario, simulation_year, ndt_adp, ndt_acp, ndt_top_heavy, ndt_total_correction "
                        "from batch_run_years where ndt_adp is not null order by scenario, simulation_year, run_id"
                        ).fetchall()
    if not found:
        return None
    cells: dict = {}
    for scenario, year, *values in found:
        cells.setdefault((scenario, year), []).append(values)
    rows = []
    for scenario in [s for s in scenarios if any(k[0] == s for k in cells)]:
        for year in sorted(y for s, y in cells if s == scenario):
            runs = cells[(scenario, year)]
            statuses = [_statuses([r[i] for r in runs]) for i in range(len(TESTS))]
            mean = sum(r[3] for r in runs) / len(runs)
            rows.append([scenario, str(year), *statuses, fmt_cents(mean)])
    return Table(["scenario", "year", *(label for _, label in TESTS), "total correction (mean over runs)"], rows,
                 {5})


def _statuses(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    return ", ".join(f"{status} {n}/{len(values)}" for status, n in sorted(Counter(values).items()))
