"""The dbt project's nodes in build order, for engines that run them one by one.

A test checks these lists against the parsed dbt manifest, so they cannot drift.
"""

SEEDS = (
    "config_job_levels",
    "config_age_bands",
    "config_tenure_bands",
    "config_promotion_hazard",
    "config_cola_by_year",
    "config_raise_month_distribution",
    "config_new_hire_age_distribution",
)

STAGING_MODELS = (
    "stg_census",
    "stg_job_levels",
    "stg_age_bands",
    "stg_tenure_bands",
    "stg_promotion_hazard",
    "stg_cola_by_year",
    "stg_raise_month_distribution",
    "stg_new_hire_age_distribution",
)

BASELINE_MODELS = ("int_baseline_workforce",)

YEAR_START_MODEL = "int_workforce_start"

YEARLY_MODELS = (
    "int_workforce_requirements",
    "int_experienced_terminations",
    "int_hires",
    "int_new_hire_terminations",
    "int_promotions",
    "int_merit_raises",
    "int_compensation_timeline",
    "int_employment_year",
    "int_eligibility_events",
    "int_enrollment_events",
    "fct_yearly_events",
    "fct_workforce_snapshot",
)

# Tables that hold one partition per simulation year (incremental, delete+insert).
YEAR_PARTITIONED_TABLES = ("int_workforce_requirements", "fct_yearly_events", "fct_workforce_snapshot")
