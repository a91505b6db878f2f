"""One plain-text description per configuration key path: the one place a form, the API and the docs test read.

Keys are those of ``config_schema()`` (config/describe.py): sections too, and a list's record fields as
``path[].field``. A test checks every schema key has a description here and is listed in docs/configuration.md.
Ranges, defaults and choices are not repeated here: the schema gives them from the validator's own checks.
"""

_SEGMENTS = {"young": "under 31", "mid_career": "31-45", "mature": "46-55", "senior": "56 and over"}
_TIER = {
    "deferral_max": "upper end of the tier, a deferral rate; tiers are cumulative bands, each above the previous one",
    "rate": "match per dollar deferred inside the tier (1.0 = 100 %; above 1 is allowed)",
}


def _source(name: str, path: str) -> dict[str, str]:
    """The keys the match and the core contribution share (eligibility, allocation, vesting)."""
    return {
        f"{path}.eligibility": f"when a person enters the {name}",
        f"{path}.eligibility.waiting_period_days": f"days from hire before the {name} starts; null = as deferral "
                                                  "eligibility",
        f"{path}.eligibility.minimum_age": f"age needed for the {name}; null = as deferral eligibility",
        f"{path}.eligibility.entry": "entry on the day the conditions are met (immediate) or on the first of the "
                                     "next month",
        f"{path}.allocation": f"conditions for receiving the year's {name} (docs/plan_money.md)",
        f"{path}.allocation.last_day_rule": "only people employed on the last day of the year receive it",
        f"{path}.allocation.minimum_hours": "hours the person must work in the year to receive it (0 = none)",
        f"{path}.allocation.retirement_age_exemption": "people who leave at or after this age are exempt from the "
                                                       "conditions; null = no exemption",
        f"{path}.vesting": f"how the {name} becomes the person's own with service",
        f"{path}.vesting.schedule": "a vesting preset (docs/configuration.md lists their steps) or custom",
        f"{path}.vesting.custom": "with schedule custom: years of service -> vested fraction, at least as generous "
                                  "as the 3-year cliff or the 2-6 graded schedule",
        f"{path}.vesting.service_method": "years of service counted as elapsed time, or as years with 1,000 hours",
        f"{path}.graded_by": f"pick the {name} band by years of service, age, or points (age + service); none = "
                             "one formula for everyone",
        f"{path}.safe_harbor": f"the {name} is a safe-harbor contribution: its conditions are checked",
    }


DESCRIPTIONS: dict[str, str] = {
    "simulation": "which years are simulated, from which census date, growing how fast",
    "simulation.start_year": "first simulated year",
    "simulation.end_year": "last simulated year (more than 10 years warns: runs get long)",
    "simulation.target_growth_rate": "yearly growth of the active headcount; one rate, or a rate by year",
    "simulation.census_date": "date the census describes, before start_year; null = December 31 of the year "
                              "before start_year",
    "workforce": "who leaves the workforce each year",
    "workforce.total_termination_rate": "share of the start-of-year actives who leave during the year (retirements "
                                        "included); one rate, or a rate by year",
    "workforce.new_hire_termination_rate": "share of the year's hires who leave in their hire year; one rate, or a "
                                           "rate by year",
    "workforce.retirement": "retirements by age (parameter table retirement_rates)",
    "workforce.retirement.enabled": "start-of-year actives aged 55 and over retire with the probability of their age",
    "workforce.retirement.rate_multiplier": "scales every age's retirement probability (1.2 = 120 % of the table), "
                                            "each capped at 1",
    "compensation": "yearly pay increases",
    "compensation.cola_rate": "cost-of-living raise of every year, or a rate by year; null = the cola_by_year table",
    "compensation.merit_budget": "merit raise of every level; null = each level's rate in the job_levels table",
    "eligibility": "when an employee may join the plan",
    "eligibility.waiting_period_days": "days from hire to plan eligibility",
    "eligibility.minimum_age": "age needed for plan eligibility",
    "enrollment": "how eligible employees enroll, and at which deferral rate",
    "enrollment.auto_enrollment": "enrollment by default, unless the person opts out",
    "enrollment.auto_enrollment.enabled": "auto-enroll the employees in scope",
    "enrollment.auto_enrollment.window_days": "days from eligibility to auto-enrollment",
    "enrollment.auto_enrollment.default_deferral_rate": "deferral rate given by auto-enrollment",
    "enrollment.auto_enrollment.opt_out_grace_period": "days after auto-enrollment in which an opt-out happens",
    "enrollment.auto_enrollment.scope": "who is auto-enrolled: new hires only, or every eligible employee",
    "enrollment.auto_enrollment.hire_date_cutoff": "only people hired on or after this date are in scope; null = no "
                                                   "cutoff",
    "enrollment.proactive_enrollment": "enrollment by choice inside the auto-enrollment window",
    "enrollment.proactive_enrollment.enabled": "employees may enroll by choice before auto-enrollment",
    "enrollment.proactive_enrollment.probability_by_age": "probability of proactive enrollment, by age segment",
    **{f"enrollment.proactive_enrollment.probability_by_age.{segment}":
       f"probability of proactive enrollment, ages {ages}" for segment, ages in _SEGMENTS.items()},
    "enrollment.voluntary_enrollment": "yearly enrollment of eligible employees outside auto-enrollment's scope",
    "enrollment.voluntary_enrollment.enabled": "eligible employees not enrolled may enroll in any year",
    "enrollment.voluntary_enrollment.annual_probability": "probability of enrolling in a given year",
    "enrollment.opt_out_rate_by_age": "probability an auto-enrolled employee opts out, by age segment",
    **{f"enrollment.opt_out_rate_by_age.{segment}":
       f"probability an auto-enrolled employee opts out, ages {ages}" for segment, ages in _SEGMENTS.items()},
    "enrollment.deferral_rate_distribution": "deferral rate -> share of the employees who enroll by choice "
                                             "(proactive or voluntary); the shares sum to 1",
    "census": "how the census file is read",
    "census.on_invalid_rows": "a census with invalid rows is refused whole (refuse), or those rows are left out and "
                              "written to <database>.rejects.csv (drop)",
    "census.columns": "the file's header for each census column it names otherwise, e.g. "
                      "{employee_termination_date: \"Term Date\"} (docs/census.md)",
    "census.date_format": "how the file writes its dates, %Y, %m and %d once each (ISO %Y-%m-%d by default)",
    "census.percent_strings": "read deferral rates written as percentages ('6%' -> 0.06) instead of refusing them",
    "orchestration": "how a run executes; never changes the results",
    "orchestration.optimization_level": "starting rung of the engine fallback chain (docs/architecture.md)",
    "orchestration.max_workers": "dbt threads at the high level",
    "orchestration.batch_size": "rows per record batch in each year checkpoint",
    "orchestration.enable_compression": "LZ4-compress the year checkpoints",
    "orchestration.fail_fast": "stop at the first failed year: no retry, no fallback",
    "orchestration.max_retries": "retries of a failed year on the same level",
    "orchestration.retry_backoff_seconds": "wait before retry k: this times 2 to the power k",
    "plan": "the plan's money layer: deferrals, match, core, limits, vesting, forfeitures (docs/plan_money.md)",
    "plan.enabled": "compute the money layer and deferral escalation",
    "plan.irs_limits": "projection of the IRS limits beyond the irs_limits table",
    "plan.irs_limits.cpi_growth": "yearly growth projecting the IRS limits after the table's last year",
    "plan.irs_limits.wage_growth": "yearly growth projecting the Social Security wage base",
    "plan.hours_per_week": "hours per week employed, for the 1,000-hour rules (2,080 a full year at 40)",
    "plan.normal_retirement_age": "age (on December 31) from which every account is fully vested",
    "plan.deferrals": "the employees' own contributions",
    "plan.deferrals.max_deferral_rate": "plan limit on a deferral election: the rate used is the smaller of the two",
    "plan.deferrals.catch_up": "employees aged 50 and over may defer the catch-up amount above the 402(g) limit",
    "plan.deferrals.super_catch_up": "ages 60-63 get the higher catch-up amount (2025 on)",
    "plan.deferrals.apply_401a17": "deferral pay is capped at the 401(a)(17) compensation limit",
    "plan.deferrals.eaca_refund_on_opt_out": "an opt-out inside the grace period refunds the deferrals already made",
    "plan.deferrals.roth": "Roth (after-tax) deferrals",
    "plan.deferrals.roth.enabled": "Roth deferrals are offered",
    "plan.deferrals.roth.share": "share of the regular deferrals designated Roth",
    "plan.deferrals.roth.mandatory_roth_catch_up": "from 2026, the catch-up of people whose prior-year wages exceed "
                                                   "the threshold is Roth",
    "plan.match_response": "participants' elections moving toward the rate that captures the whole match, in the "
                           "first simulated year (docs/plan_rules.md, R2a)",
    "plan.match_response.enabled": "let deferral elections react to the match formula",
    **{f"plan.match_response.{side}": f"participants deferring {where} the match-maximizing rate"
       for side, where in (("upward", "below"), ("downward", "above"))},
    **{f"plan.match_response.{side}.enabled": f"let participants {verb} their deferral toward the match-maximizing rate"
       for side, verb in (("upward", "raise"), ("downward", "lower"))},
    **{f"plan.match_response.{side}.probability": "probability that such a participant responds"
       for side in ("upward", "downward")},
    **{f"plan.match_response.{side}.maximize_share": "share of responders who move all the way to the "
                                                      "match-maximizing rate" for side in ("upward", "downward")},
    **{f"plan.match_response.{side}.partial_factor": "the other responders move this fraction of the way"
       for side in ("upward", "downward")},
    "plan.match_response.new_enrollee_share": "share of proactive and voluntary enrollees who elect the "
                                              "match-maximizing rate instead of a draw from the distribution",
    "plan.ndt": "nondiscrimination testing of each simulated year: ADP, ACP, coverage, 401(a)(4), top-heavy "
                "(docs/ndt.md)",
    "plan.ndt.enabled": "run the tests and write fct_ndt_employee and fct_ndt_summary (needs plan.enabled)",
    "plan.ndt.testing_method": "ADP and ACP against the NHCEs of the current year or of the prior year",
    "plan.ndt.prior_year_nhce": "the NHCE averages of the year before start_year, for the prior-year method",
    "plan.ndt.prior_year_nhce.adp": "the NHCEs' ADP of the year before start_year; null means 3 %",
    "plan.ndt.prior_year_nhce.acp": "the NHCEs' ACP of the year before start_year; null means 3 %",
    "plan.ndt.testing_compensation": "testing pay: the pay of the eligible period, or of the whole plan year",
    "plan.ndt.top_paid_group_election": "count as HCEs by pay only those in the top 20 % of employees by pay",
    "plan.ndt.otherwise_excludable": "employees below the statutory age and service: excluded when NHCE, tested "
                                     "separately (disaggregate), or kept (none)",
    "plan.auto_escalation": "yearly automatic increase of the deferral rate",
    "plan.auto_escalation.enabled": "raise participants' deferral rates every year (deferral_escalation events)",
    "plan.auto_escalation.increment": "added to the deferral rate at each escalation",
    "plan.auto_escalation.cap": "no escalation at or above this rate (at most deferrals.max_deferral_rate)",
    "plan.auto_escalation.effective_mmdd": "day of the year of the escalation, MM-DD",
    "plan.auto_escalation.first_delay_years": "calendar years after the enrollment year before the first escalation",
    "plan.auto_escalation.scope": "who is escalated: every participant, or the auto-enrolled only",
    "plan.auto_escalation.hire_date_cutoff": "only people hired on or after this date are escalated; null = no "
                                             "cutoff",
    "plan.auto_escalation.opt_out_rate": "probability a participant opts out of escalation for good",
    "plan.match": "the employer's match of the deferrals",
    "plan.match.enabled": "the employer matches deferrals",
    "plan.match.tiers": "the match formula: cumulative tiers on the deferral rate",
    **{f"plan.match.tiers[].{key}": text for key, text in _TIER.items()},
    "plan.match.cap_pct_of_comp": "cap on the match as a fraction of match pay; null = none",
    "plan.match.cap_dollars": "cap on the match in dollars a year; null = none",
    "plan.match.bands": "with graded_by: one match formula per band of service, age or points",
    "plan.match.bands[].min": "lower end of the band (included); the first band starts at 0",
    "plan.match.bands[].max": "upper end of the band (excluded), the next band's min; null on the last band",
    "plan.match.bands[].tiers": "the band's match tiers",
    **{f"plan.match.bands[].tiers[].{key}": text for key, text in _TIER.items()},
    "plan.match.bands[].cap_pct_of_comp": "the band's cap as a fraction of match pay; null = none",
    "plan.match.bands[].cap_dollars": "the band's cap in dollars a year; null = none",
    "plan.match.calculation": "match computed on the year's totals, every pay period, or every pay period with a "
                              "year-end true-up",
    "plan.match.match_catch_up": "catch-up deferrals are matched too",
    **_source("match", "plan.match"),
    "plan.core": "the employer's nonelective (core) contribution, paid whether or not the person defers",
    "plan.core.enabled": "the employer pays a core contribution",
    "plan.core.bands": "core rate by band of service, age or points (one band when graded_by is none)",
    "plan.core.bands[].min": "lower end of the band (included); the first band starts at 0",
    "plan.core.bands[].max": "upper end of the band (excluded), the next band's min; null on the last band",
    "plan.core.bands[].rate": "core contribution as a fraction of pay",
    **_source("core contribution", "plan.core"),
    "plan.limit_415": "the 415(c) annual additions limit",
    "plan.limit_415.correction_order": "which money is cut first when a person's additions exceed the 415(c) limit",
    "plan.forfeitures": "unvested employer money left by people who leave",
    "plan.forfeitures.use": "what the forfeiture pool pays for",
    "plan.forfeitures.opening_pool": "forfeiture pool available in the first simulated year, in dollars",
    "random_seed": "seed of every random draw: the same seed gives the same results",
    "assumptions": "parameter tables replacing the built-in ones: a folder of CSV files, or tables written inline "
                   "(docs/assumptions.md)",
}
