"""The per-year metrics that the batch summarises and its report draws, with their labels."""

# The metrics summarised per scenario and year (columns of batch_run_years) that the batch report draws.
METRICS = ("headcount", "hires", "terminations", "payroll", "participation_pct", "average_deferral_rate")
# The plan's cost (docs/plan_money.md), summarised and banded too, so two match formulas can be compared
# side by side; null for runs with plan.enabled false.
PLAN_METRICS = ("employer_cost", "employer_cost_pct_payroll", "employer_match", "employer_core")
BAND_METRICS = METRICS + PLAN_METRICS
METRIC_LABELS = {
    "headcount": "Headcount (end of year, active)", "hires": "Hires", "terminations": "Terminations (all)",
    "payroll": "Payroll (prorated compensation)", "participation_pct": "Participation (% of actives enrolled)",
    "average_deferral_rate": "Average deferral rate (enrolled actives)",
    "employer_cost": "Employer cost (match + core, before forfeitures)",
    "employer_cost_pct_payroll": "Employer cost (% of payroll)",
    "employer_match": "Employer match", "employer_core": "Employer core",
}
