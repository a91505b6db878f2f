"""The run report's retirement-plan charts, each with the table of its numbers, and the plan-cost table.

Participation by year (enrolled actives / actives, ``fct_year_summary``) and by age and tenure band
(band order), the deferral-rate distribution, and, when the money layer ran (``fct_dc_plan_summary``,
docs/plan_rules.md section 2.5), the employer cost split into match and core with forfeitures applied and the
net cost. Without that table the section says the plan layer was not run.
"""

from __future__ import annotations

from collections import Counter

from planwise_core.census.profile import deferral_buckets
from planwise_core.outputs.metrics import BY_KEY, FRACTION, METRIC_LABELS

from planwise_core.report.charts import Figure, bar_chart, shades
from planwise_core.report.formatting import fmt_cents, fmt_int, fmt_money, fmt_pct, fmt_pct2, fmt_rate, num, or_dash
from planwise_core.report.tables import Column, Table, by_columns
from planwise_core.report.workforce_figures import DIMENSIONS, metric, year_labels

MATCH, CORE, NET = "#4e79a7", "#59a14f", "#e15759"


def _shared(key: str) -> tuple:
    """A column fct_year_summary shares with the plan summary: its label from outputs/metrics.py."""
    return key, BY_KEY[key].label, fmt_rate if BY_KEY[key].unit == FRACTION else fmt_cents


# fct_dc_plan_summary column -> (header, format) of the plan-cost table, in order.
PLAN_COLUMNS = (("payroll", "plan compensation", fmt_cents), ("eligible_eoy", "eligible (Dec 31)", fmt_int),
                ("participants_eoy", "participants (Dec 31)", fmt_int), _shared("participation_rate"),
                ("avg_deferral_rate", "average deferral rate", fmt_rate),
                *map(_shared, ("total_employee_deferrals", "total_match", "total_core", "total_employer_gross",
                               "forfeitures_applied", "net_employer_cost", "employer_cost_pct_payroll")),
                ("net_employer_cost_pct_payroll", "net cost, share of plan compensation", fmt_rate),
                ("at_402g_limit_count", "at the 402(g) limit", fmt_int), _shared("at_402g_limit_share"),
                ("reduced_415_count", "reduced by §415", fmt_int))
NO_PLAN = ("The plan's money layer was not run for this database (no fct_dc_plan_summary table): contributions, "
           "employer cost and cost as a share of payroll are not available. Run with the plan layer to see them.")


def participation_figure(data: dict) -> Figure:
    years = year_labels(data)
    share, enrolled, actives = (metric(data, k) for k in ("enrolled_share_of_actives", "enrolled_actives",
                                                         "end_headcount"))
    pct = [100 * num(p) for p in share]  # a fraction in the mart, a percentage on the page
    tips = [[f"{y}: {fmt_rate(num(p))} ({num(e):,.0f} of {num(a):,.0f} actives enrolled)"
             for y, p, e, a in zip(years, share, enrolled, actives)]]
    table = by_columns([Column("year", years, numeric=False), Column("enrolled actives", enrolled, fmt_int),
                        Column("actives", actives, fmt_int),
                        Column(METRIC_LABELS["enrolled_share_of_actives"], share, fmt_rate)])
    return Figure("participation", "Plan participation of active employees on Dec 31",
                  bar_chart(years, [("participation", pct, "#76b7b2")], fmt=fmt_pct, fixed_max=100, tips=tips),
                  [("enrolled actives / actives", "#76b7b2")], table=table)


def participation_by_band_figure(data: dict, dimension: str) -> Figure:
    """Enrolled actives / actives per band (band order) and year."""
    cells, bands, years = data[dimension]["cells"], data[dimension]["bands"], data["years"]
    label, colors = DIMENSIONS[dimension], shades(len(years))

    def pct(year, band):
        n, e = cells.get((year, band), (0, 0))
        return 100 * e / n if n else None

    series = [(str(y), [num(pct(y, b)) for b in bands], c) for y, c in zip(years, colors)]
    def tip(year, band):
        n, e = cells.get((year, band), (0, 0))
        return f"{label} {band}, {year}: " + (f"{num(pct(year, band)):.2f}% ({e:,} of {n:,} actives enrolled)"
                                              if n else "– (no actives)")

    tips = [[tip(y, b) for b in bands] for y in years]
    last = years[-1]
    table = by_columns([Column(label, bands, numeric=False),
                        *(Column(str(y), [pct(y, b) for b in bands], fmt_pct2) for y in years),
                        Column(f"enrolled {last}", [cells.get((last, b), (0, 0))[1] for b in bands], fmt_int),
                        Column(f"actives {last}", [cells.get((last, b), (0, 0))[0] for b in bands], fmt_int)])
    return Figure(f"participation-{dimension}", f"Participation of active employees by {label} (% enrolled)",
                  bar_chart(bands, series, fmt=fmt_pct, fixed_max=100, tips=tips) if bands else None,
                  [(str(y), c) for y, c in zip(years, colors)], table=table if bands else None)


def deferral_figure(data: dict) -> Figure:
    rates, title = data["deferrals"], f"Deferral rates of enrolled actives on Dec 31, {data['last_year']}"
    if not rates:
        return Figure("deferral-distribution", title, None)
    buckets = deferral_buckets(Counter(rates))  # whole percentage points: a few dozen bars at most
    cats, counts = [label for label, _ in buckets], [n for _, n in buckets]
    tips = [[f"{c}: {n:,} participants" for c, n in zip(cats, counts)]]
    table = by_columns([Column("deferral rate", cats, numeric=False), Column("participants", counts, fmt_int),
                        Column("share", [100 * n / len(rates) for n in counts], fmt_pct2)])
    return Figure("deferral-distribution", title, bar_chart(cats, [("participants", counts, "#b07aa1")], tips=tips),
                  note=f"{len(rates):,} participants, average {100 * sum(rates) / len(rates):.2f}%", table=table)


def employer_cost_figure(data: dict) -> Figure | None:
    """Match and core stacked per year, the net cost (after forfeitures applied) as a line; None without the plan."""
    plan = data["plan"]
    if not plan:
        return None
    years = [y for y in data["years"] if y in plan]
    rows = [plan[y] for y in years]
    cats = [str(y) for y in years]
    match, core = [r.get("total_match") for r in rows], [r.get("total_core") for r in rows]
    net = [r.get("net_employer_cost") for r in rows]
    tips = [[f"{y} · {name}: {fmt_cents(num(v))}" for y, v in zip(cats, values)]
            for name, values in (("match", match), ("core", core))]
    table = by_columns([Column("year", cats, numeric=False), Column("match", match, fmt_cents),
                        Column("core", core, fmt_cents),
                        Column("employer cost", [r.get("total_employer_gross") for r in rows], fmt_cents),
                        Column("forfeitures applied", [r.get("forfeitures_applied") for r in rows], fmt_cents),
                        Column("net employer cost", net, fmt_cents),
                        Column("cost % of payroll", [r.get("employer_cost_pct_payroll") for r in rows], fmt_rate)])
    note = ("Forfeitures applied is empty (–) in a year with no known opening pool (the first simulated year, "
            "docs/plan_rules.md R13); the net cost is then the gross cost.")
    return Figure("employer-cost", "Employer plan cost by year: match and core, net of forfeitures applied",
                  bar_chart(cats, [("match", [num(v) for v in match], MATCH), ("core", [num(v) for v in core], CORE)],
                            stacked=True, fmt=fmt_money, tips=tips, lines=[("net employer cost", [num(v) for v in net], NET)]),
                  [("match", MATCH), ("core", CORE), ("net employer cost", NET)], note=note, table=table)


def plan_table(data: dict) -> Table | None:
    """Every year of fct_dc_plan_summary in the columns of PLAN_COLUMNS it has; None without the plan."""
    plan = data["plan"]
    if not plan:
        return None
    present = [c for c in PLAN_COLUMNS if any(c[0] in r for r in plan.values())]
    rows = [[str(y), *(or_dash(plan[y].get(key), fmt) for key, _, fmt in present)] for y in sorted(plan)]
    return Table(["year", *(header for _, header, _ in present)], rows, range(1, len(present) + 1))


def plan_figures(data: dict) -> list[Figure]:
    figs = [participation_figure(data), participation_by_band_figure(data, "age"),
            participation_by_band_figure(data, "tenure"), deferral_figure(data)]
    cost = employer_cost_figure(data)
    return figs + ([cost] if cost else [])
