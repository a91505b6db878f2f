"""The per-year summary that `planwise run` prints and exports."""

from __future__ import annotations

SUMMARY_SQL = """
with events as (
    select simulation_year,
        count(*) filter (where event_type = 'termination' and event_category = 'experienced_termination') as experienced_terminations,
        count(*) filter (where event_type = 'hire') as hires,
        count(*) filter (where event_type = 'termination' and event_category = 'new_hire_termination') as new_hire_terminations,
        count(*) filter (where event_type = 'promotion') as promotions,
        count(*) filter (where event_type = 'raise') as raises,
        count(*) filter (where event_type = 'enrollment') as enrollments,
        count(*) filter (where event_type = 'opt_out') as opt_outs
    from fct_yearly_events group by simulation_year
),
snapshot as (
    select simulation_year,
        count(*) filter (where employment_status = 'active') as end_headcount,
        count(*) filter (where employment_status = 'active' and is_enrolled) as enrolled_actives,
        sum(prorated_annual_compensation) as payroll,
        avg(deferral_rate) filter (where employment_status = 'active' and is_enrolled) as average_deferral_rate
    from fct_workforce_snapshot group by simulation_year
)
select
    r.simulation_year,
    r.start_headcount,
    coalesce(e.experienced_terminations, 0) as experienced_terminations,
    coalesce(e.hires, 0) as hires,
    coalesce(e.new_hire_terminations, 0) as new_hire_terminations,
    s.end_headcount,
    r.target_end_headcount,
    round(100.0 * (s.end_headcount - r.start_headcount) / nullif(r.start_headcount, 0), 2) as growth_pct,
    round(100.0 * r.target_growth_rate, 2) as target_growth_pct,
    coalesce(e.promotions, 0) as promotions,
    coalesce(e.raises, 0) as raises,
    coalesce(e.enrollments, 0) as enrollments,
    coalesce(e.opt_outs, 0) as opt_outs,
    round(100.0 * s.enrolled_actives / nullif(s.end_headcount, 0), 2) as participation_pct,
    cast(s.payroll as double) as payroll,
    round(cast(s.average_deferral_rate as double), 6) as average_deferral_rate
from int_workforce_requirements r
join snapshot s using (simulation_year)
left join events e using (simulation_year)
where r.simulation_year between ? and ?
order by r.simulation_year
"""

COLUMNS = (
    ("simulation_year", "year"), ("start_headcount", "start"), ("experienced_terminations", "exp_term"),
    ("hires", "hires"), ("new_hire_terminations", "nh_term"), ("end_headcount", "end"),
    ("growth_pct", "growth%"), ("target_growth_pct", "target%"), ("promotions", "promos"),
    ("raises", "raises"), ("enrollments", "enrolls"), ("opt_outs", "opt_outs"),
    ("participation_pct", "particip%"),
)


def year_summary(con, first_year: int, last_year: int) -> list[dict]:
    """One dict per simulated year; empty when no year has been simulated (e.g. the first one failed)."""
    present = con.execute("select count(*) from information_schema.tables where table_schema = 'main' and table_name "
                          "in ('int_workforce_requirements', 'fct_yearly_events', 'fct_workforce_snapshot')").fetchone()[0]
    if present < 3:
        return []
    cur = con.execute(SUMMARY_SQL, [first_year, last_year])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def format_summary(rows: list[dict]) -> str:
    """A fixed-width text table, one line per year."""
    headers = [label for _, label in COLUMNS]
    table = [[_fmt(row[key]) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in table]
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)
