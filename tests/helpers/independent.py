"""Per-year figures recomputed by the tests from the base tables, never from the code under test.

The summary mart (fct_year_summary), ``outputs.summary`` and the report read these numbers through their own SQL;
the tests compare them with these, written here from fct_workforce_snapshot, fct_yearly_events and
fct_dc_contributions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HUNDREDTH, TEN_THOUSANDTH = Decimal("0.01"), Decimal("0.0001")


def year_figures(con) -> dict[int, dict]:
    """{year: {end_headcount, hires, terminations, retirements, payroll, enrolled_actives, enrolled_share_of_actives
    (a fraction, 4 decimals), total_employee_deferrals, total_match, total_core, total_employer_gross}} (money keys
    only with the money table): fct_year_summary's names (outputs/metrics.py)."""
    figures = {}
    for year, actives, enrolled, payroll in con.execute("""
            select simulation_year, count(*) filter (where employment_status = 'active'),
                   count(*) filter (where employment_status = 'active' and is_enrolled),
                   sum(prorated_annual_compensation)
            from fct_workforce_snapshot group by 1 order by 1""").fetchall():
        figures[year] = {"end_headcount": actives, "enrolled_actives": enrolled, "payroll": payroll,
                         "enrolled_share_of_actives": (Decimal(enrolled) / actives).quantize(TEN_THOUSANDTH,
                                                                                             ROUND_HALF_UP)
                         if actives else None}
    for year, hires, terminations, retirements in con.execute("""
            select simulation_year, count(*) filter (where event_type = 'hire'),
                   count(*) filter (where event_type = 'termination'),
                   count(*) filter (where event_category = 'retirement')
            from fct_yearly_events group by 1""").fetchall():
        figures[year].update(hires=hires, terminations=terminations, retirements=retirements)
    has_money = con.execute("select count(*) from information_schema.tables "
                            "where table_name = 'fct_dc_contributions'").fetchone()[0]
    if has_money:
        for year, deferrals, match, core in con.execute("""
                select simulation_year, sum(employee_deferral), sum(employer_match), sum(employer_core)
                from fct_dc_contributions group by 1""").fetchall():
            figures[year].update(total_employee_deferrals=deferrals, total_match=match, total_core=core,
                                 total_employer_gross=match + core)
    return figures
