"""The per-year metrics, written once: each column of the ``fct_year_summary`` mart with its label and unit.

Every reader (``planwise summary``, the run report, ``planwise diff``, exports, the batch store and its report,
the web pages) takes names, labels and units from here; a test keeps this list and the mart's columns in
``models/marts/_marts.yml`` equal. Units (docs/outputs.md, "The per-year summary"):

* ``count``: a number of people or events;
* ``money``: dollars, exact to the cent (DECIMAL);
* ``fraction``: a share or a rate, 0.0525 for 5.25 %. The marts store fractions only; a reader turns one into a
  percentage when it displays it (:func:`percent`), nowhere else.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

YEAR_SUMMARY, PLAN_SUMMARY = "fct_year_summary", "fct_dc_plan_summary"
COUNT, MONEY, FRACTION = "count", "money", "fraction"


class Metric(NamedTuple):
    key: str  # the column of fct_year_summary
    label: str
    unit: str
    source: str = YEAR_SUMMARY  # the mart whose rows make it available (the plan's money: fct_dc_plan_summary)


def _plan(key: str, label: str, unit: str) -> Metric:
    return Metric(key, label, unit, PLAN_SUMMARY)


METRICS = (
    Metric("start_headcount", "Head count on Jan 1 (actives)", COUNT),
    Metric("experienced_terminations", "Experienced terminations (retirements included)", COUNT),
    Metric("retirements", "Retirements", COUNT),
    Metric("hires", "Hires", COUNT),
    Metric("new_hire_terminations", "New-hire terminations", COUNT),
    Metric("terminations", "Terminations (all)", COUNT),
    Metric("end_headcount", "Head count on Dec 31 (actives)", COUNT),
    Metric("target_end_headcount", "Target head count on Dec 31", COUNT),
    Metric("continuing_actives", "Continuing actives on Dec 31", COUNT),
    Metric("new_hire_actives", "New hires active on Dec 31", COUNT),
    Metric("growth_rate", "Head count growth", FRACTION),
    Metric("target_growth_rate", "Target growth", FRACTION),
    Metric("promotions", "Promotions", COUNT),
    Metric("raises", "Raises", COUNT),
    Metric("eligibility_events", "Newly eligible", COUNT),
    Metric("enrollments", "Enrollments", COUNT),
    Metric("opt_outs", "Opt-outs", COUNT),
    Metric("match_responses", "Match responses (deferral changes)", COUNT),
    Metric("escalations", "Auto-escalations", COUNT),
    Metric("enrolled_actives", "Enrolled actives on Dec 31", COUNT),
    Metric("enrolled_share_of_actives", "Enrolled share of all actives", FRACTION),
    Metric("payroll", "Payroll (prorated compensation)", MONEY),
    Metric("average_deferral_rate", "Average deferral rate (enrolled actives)", FRACTION),
    _plan("total_employee_deferrals", "Employee deferrals", MONEY),
    _plan("total_match", "Employer match", MONEY),
    _plan("total_core", "Employer core", MONEY),
    _plan("total_employer_gross", "Employer cost (match + core, before forfeitures)", MONEY),
    _plan("forfeitures_applied", "Forfeitures applied", MONEY),
    _plan("net_employer_cost", "Net employer cost (after forfeitures)", MONEY),
    _plan("employer_cost_pct_payroll", "Employer cost, share of plan compensation", FRACTION),
    _plan("participation_rate", "Participation (enrolled share of eligible)", FRACTION),
    _plan("at_402g_limit_share", "Share of contributors at the 402(g) limit", FRACTION),
)
BY_KEY = {m.key: m for m in METRICS}
METRIC_LABELS = {m.key: m.label for m in METRICS}

# The metrics the batch summarises per scenario and year and its report draws (columns of batch_run_years), and
# the plan's cost beside them so two match formulas can be compared (null for runs with plan.enabled false).
BATCH_METRICS = ("end_headcount", "hires", "terminations", "payroll", "enrolled_share_of_actives",
                 "average_deferral_rate")
PLAN_METRICS = ("total_employer_gross", "employer_cost_pct_payroll", "total_match", "total_core")
BAND_METRICS = BATCH_METRICS + PLAN_METRICS
HUNDREDTH = Decimal("0.01")


def exact(value):
    """A stored value as an exact number: int and Decimal as they are, a float through its shortest text."""
    if value is None or isinstance(value, (int, Decimal)):
        return value
    return Decimal(repr(float(value)))


def percent(value, signed: bool = False) -> str:
    """A fraction shown as a percentage, two decimals rounded half up: 0.729149 -> "72.91" (no sign)."""
    return f"{(exact(value) * 100).quantize(HUNDREDTH, ROUND_HALF_UP) + 0:{'+' if signed else ''}.2f}"


def display(value, unit: str, signed: bool = False) -> str:
    """A metric's value as text: counts with separators, money to the cent, fractions as percentages; ``signed``
    for a change (+/-, percentage points "pp" for fractions); an en dash for a missing value."""
    if value is None:
        return "–"
    sign = "+" if signed else ""
    if unit == COUNT:
        return f"{value:{sign},}"
    if unit == MONEY:
        text = f"{abs(value):,.2f}"
        return ("-" if value < 0 else sign if value else "") + f"${text}"
    return percent(value, signed) + (" pp" if signed else "%")
