"""The run report's workforce and pay charts, each with the table of its numbers.

Workforce: head count by status, events, growth against target, actives by age band and by tenure band
(band order), the level mix, retirements (when ``fct_year_summary`` has them). Pay: payroll by year, the
pay distribution of the last year, average pay by level.
"""

from __future__ import annotations

from planwise_core.report.charts import PALETTE, Figure, bar_chart, histogram, shades
from planwise_core.outputs.metrics import METRIC_LABELS
from planwise_core.report.formatting import fmt_dollars, fmt_int, fmt_money, fmt_pct, fmt_pct2, fmt_rate, num
from planwise_core.report.tables import Column, by_columns

# Event type -> its count column in fct_year_summary, in chart order.
EVENT_COLUMNS = (("hire", "hires"), ("termination", "terminations"), ("promotion", "promotions"),
                 ("raise", "raises"), ("eligibility", "eligibility_events"), ("enrollment", "enrollments"),
                 ("opt_out", "opt_outs"), ("deferral_match_response", "match_responses"),
                 ("deferral_escalation", "escalations"))
# Everyone employed in the year by status: (fct_year_summary column, label, colour).
STATUSES = (("continuing_actives", "continuing active", "#4e79a7"), ("new_hire_actives", "new hire, active", "#76b7b2"),
            ("experienced_terminations", "experienced termination", "#e15759"),
            ("new_hire_terminations", "new hire, terminated", "#f28e2b"))
DIMENSIONS = {"age": "age band", "tenure": "tenure band"}


def metric(data: dict, key: str) -> list:
    """One value per simulated year from fct_year_summary (None for a year the mart lacks)."""
    return [data["by_year"].get(y, {}).get(key) for y in data["years"]]


def year_labels(data: dict) -> list[str]:
    return [str(y) for y in data["years"]]


def headcount_figure(data: dict) -> Figure:
    years = year_labels(data)
    series = [(label, [num(v) for v in metric(data, key)], color) for key, label, color in STATUSES]
    totals = [sum(vals[i] for _, vals, _ in series) for i in range(len(years))]
    table = by_columns([Column("year", years, numeric=False),
                        *(Column(label, vals, fmt_int) for label, vals, _ in series), Column("total", totals, fmt_int)])
    return Figure("headcount", "Head count by year and status (everyone employed during the year)",
                  bar_chart(years, series, stacked=True), [(s[0], s[2]) for s in series], table=table)


def events_figure(data: dict) -> Figure:
    years = year_labels(data)
    counts = [(kind, [num(v) for v in metric(data, key)]) for kind, key in EVENT_COLUMNS]
    present = [(kind, vals) for kind, vals in counts if any(vals)]
    series = [(kind, vals, PALETTE[i % len(PALETTE)]) for i, (kind, vals) in enumerate(present)]
    table = by_columns([Column("year", years, numeric=False), *(Column(k, v, fmt_int) for k, v, _ in series)])
    return Figure("events", "Events by type and year", bar_chart(years, series, gap=0.2) if series else None,
                  [(s[0], s[2]) for s in series], table=table if series else None)


def growth_figure(data: dict) -> Figure:
    years = year_labels(data)
    rates, targets = metric(data, "growth_rate"), metric(data, "target_growth_rate")  # fractions in the mart
    growth, target = [100 * num(v) for v in rates], [100 * num(v) for v in targets]
    start, end, target_end = (metric(data, k) for k in ("start_headcount", "end_headcount", "target_end_headcount"))
    tips = [[f"{y}: {fmt_rate(num(g))} (active {fmt_int(num(s))} → {fmt_int(num(e))}, target {fmt_int(num(t))})"
             for y, g, s, e, t in zip(years, rates, start, end, target_end)]]
    table = by_columns([Column("year", years, numeric=False), Column("actives at start", start, fmt_int),
                        Column("actives at end", end, fmt_int), Column("target end", target_end, fmt_int),
                        Column(METRIC_LABELS["growth_rate"], rates, fmt_rate),
                        Column(METRIC_LABELS["target_growth_rate"], targets, fmt_rate)])
    return Figure("growth", "Head-count growth against target (% of start-of-year actives)",
                  bar_chart(years, [("actual growth", growth, "#4e79a7")], fmt=fmt_pct,
                            lines=[("target growth", target, "#e15759")], tips=tips),
                  [("actual growth", "#4e79a7"), ("target growth", "#e15759")], table=table)


def band_mix_figure(data: dict, dimension: str) -> Figure:
    """Actives on Dec 31 by band and year: a stacked bar per year, bands in band order."""
    cells, bands, years = data[dimension]["cells"], data[dimension]["bands"], data["years"]
    label = DIMENSIONS[dimension]
    colors = shades(len(bands))
    series = [(b, [cells.get((y, b), (0, 0))[0] for y in years], c) for b, c in zip(bands, colors)]
    totals = [sum(v[i] for _, v, _ in series) for i in range(len(years))]
    tips = [[f"{y} · {label} {b}: {fmt_int(n)} actives ({100 * n / t if t else 0:.1f}%)"
             for y, n, t in zip(years, vals, totals)] for b, vals, _ in series]
    table = by_columns([Column(label, bands, numeric=False),
                        *(Column(str(y), [cells.get((y, b), (0, 0))[0] for b in bands], fmt_int) for y in years)])
    return Figure(f"{dimension}-bands", f"Active employees on Dec 31 by {label}",
                  bar_chart(year_labels(data), series, stacked=True, tips=tips) if bands else None,
                  [(b, c) for b, _, c in series], table=table if bands else None)


def level_mix_figure(data: dict) -> Figure:
    years, levels, cells = data["years"], data["levels"], data["pay_by_level"]
    count = {key: n for key, (_, n) in cells.items()}
    series = [(f"level {lvl}", [count.get((lvl, y), 0) for y in years], PALETTE[i % len(PALETTE)])
              for i, lvl in enumerate(levels)]
    totals = [sum(v[i] for _, v, _ in series) for i in range(len(years))]
    last = years[-1]
    table = by_columns([Column("level", levels, numeric=False),
                        *(Column(str(y), [count.get((lvl, y), 0) for lvl in levels], fmt_int) for y in years),
                        Column(f"share {last}", [100 * count.get((lvl, last), 0) / totals[-1] if totals[-1] else 0
                                                 for lvl in levels], fmt_pct2)])
    return Figure("level-mix", "Level mix: active employees on Dec 31 by level",
                  bar_chart(year_labels(data), series, stacked=True) if levels else None,
                  [(s[0], s[2]) for s in series], table=table if levels else None)


def retirements_figure(data: dict) -> Figure | None:
    """Retirements per year, when the model writes them (fct_year_summary.retirements); else None."""
    if not data["summary"] or "retirements" not in data["summary"][0]:
        return None
    years = year_labels(data)
    retirements, terminations = metric(data, "retirements"), metric(data, "terminations")
    table = by_columns([Column("year", years, numeric=False), Column("retirements", retirements, fmt_int),
                        Column("all terminations", terminations, fmt_int)])
    return Figure("retirements", "Retirements by year",
                  bar_chart(years, [("retirements", [num(v) for v in retirements], "#9c755f")]),
                  [("retirements", "#9c755f")], table=table)


def payroll_figure(data: dict) -> Figure:
    years, payroll = year_labels(data), metric(data, "payroll")
    table = by_columns([Column("year", years, numeric=False), Column("payroll", payroll, fmt_dollars),
                        Column("head count (Dec 31)", metric(data, "end_headcount"), fmt_int)])
    return Figure("payroll", "Payroll by year (salary paid to everyone employed in the year)",
                  bar_chart(years, [("payroll", [num(v) for v in payroll], "#59a14f")], fmt=fmt_money),
                  [("payroll", "#59a14f")], table=table)


def pay_figure(data: dict) -> Figure:
    pay, title = data["pay"], f"Pay distribution of active employees on Dec 31, {data['last_year']}"
    if not pay:
        return Figure("pay-distribution", title, None)
    starts, width, counts = histogram(pay)
    ranges = [f"{fmt_money(s)} – {fmt_money(s + width)}" for s in starts]
    tips = [[f"{r}: {c} employees" for r, c in zip(ranges, counts)]]
    table = by_columns([Column("pay", ranges, numeric=False), Column("employees", counts, fmt_int)])
    return Figure("pay-distribution", title, bar_chart([fmt_money(s) for s in starts],
                                                       [("employees", counts, "#59a14f")], gap=0.0, tips=tips),
                  note=f"{len(pay):,} actives; bins of {fmt_money(width)}", table=table)


def pay_by_level_figure(data: dict) -> Figure:
    years, levels = data["years"], data["levels"]
    colors = shades(len(years))
    cell = {key: avg for key, (avg, _) in data["pay_by_level"].items()}
    series = [(str(y), [cell.get((lvl, y), 0.0) for lvl in levels], c) for y, c in zip(years, colors)]
    tips = [[f"level {lvl}, {y}: average {fmt_money(cell.get((lvl, y), 0.0))} "
             f"({data['pay_by_level'].get((lvl, y), (0.0, 0))[1]} actives)" for lvl in levels] for y in years]
    table = by_columns([Column("level", levels, numeric=False),
                        *(Column(f"average {y}", [cell.get((lvl, y)) for lvl in levels], fmt_dollars) for y in years)])
    return Figure("pay-by-level", "Average pay of active employees by level and year",
                  bar_chart([f"level {lvl}" for lvl in levels], series, fmt=fmt_money, tips=tips) if levels else None,
                  [(str(y), c) for y, c in zip(years, colors)], table=table if levels else None)


def workforce_figures(data: dict) -> list[Figure]:
    figs = [headcount_figure(data), events_figure(data), growth_figure(data), band_mix_figure(data, "age"),
            band_mix_figure(data, "tenure"), level_mix_figure(data)]
    retirements = retirements_figure(data)
    return figs + ([retirements] if retirements else [])


def pay_figures(data: dict) -> list[Figure]:
    return [payroll_figure(data), pay_figure(data), pay_by_level_figure(data)]
