"""The ``plan.ndt`` section: nondiscrimination testing (docs/ndt.md, Configuration), its keys and its rules.

The tests only read the simulation's tables, so every key here changes the NDT tables and nothing else.
"""

from typing import Any

import attrs

from planwise_core.config.checks import RATE, as_bool, choice, nullable
from planwise_core.config.fields import section_field, value_field

TESTING_METHODS = ("current_year", "prior_year")
TESTING_COMPENSATION = ("eligible_period", "plan_year")
OTHERWISE_EXCLUDABLE = ("exclude_nhce", "disaggregate", "none")
YEAR_OF_SERVICE_HOURS = 1000


@attrs.frozen
class PriorYearNhce:
    adp: float | None = value_field(None, nullable(RATE))
    acp: float | None = value_field(None, nullable(RATE))


@attrs.frozen
class NdtConfig:
    enabled: bool = value_field(False, as_bool)
    testing_method: str = value_field("current_year", choice(TESTING_METHODS))
    prior_year_nhce: PriorYearNhce = section_field(PriorYearNhce)
    testing_compensation: str = value_field("eligible_period", choice(TESTING_COMPENSATION))
    top_paid_group_election: bool = value_field(False, as_bool)
    otherwise_excludable: str = value_field("exclude_nhce", choice(OTHERWISE_EXCLUDABLE))


def ndt_dbt_vars(ndt: NdtConfig, plan_enabled: bool) -> dict[str, Any]:
    """The section as flat dbt vars ``plan_ndt_*``; NDT needs the plan's money layer (no tables without it)."""
    return {
        "plan_ndt_enabled": ndt.enabled and plan_enabled,
        "plan_ndt_testing_method": ndt.testing_method,
        "plan_ndt_prior_year_nhce_adp": ndt.prior_year_nhce.adp,
        "plan_ndt_prior_year_nhce_acp": ndt.prior_year_nhce.acp,
        "plan_ndt_testing_compensation": ndt.testing_compensation,
        "plan_ndt_top_paid_group_election": ndt.top_paid_group_election,
        "plan_ndt_otherwise_excludable": ndt.otherwise_excludable,
    }


def ndt_rule(ndt: NdtConfig, path: str, report) -> None:
    keys = [f"{path}.testing_method", f"{path}.prior_year_nhce.adp", f"{path}.prior_year_nhce.acp"]
    if report.valid(*keys) and ndt.testing_method == "current_year":
        for test in ("adp", "acp"):
            if getattr(ndt.prior_year_nhce, test) is not None:
                report.warn(f"{path}.prior_year_nhce.{test}", "ignored with testing_method current_year (only the "
                                                              "prior_year method reads it)")


def plan_ndt_rule(plan, path: str, report) -> None:
    """Rules between ``plan.ndt`` and the rest of ``plan:`` (called from the plan's own rule)."""
    enabled, ndt = f"{path}.enabled", f"{path}.ndt.enabled"
    if not (report.valid(enabled, ndt) and plan.ndt.enabled):
        return
    if not plan.enabled:
        report.warn(ndt, "has no effect while plan.enabled is false (the tests read the plan's money)")
    hours = f"{path}.hours_per_week"
    if report.valid(hours) and plan.hours_per_week * 52 < YEAR_OF_SERVICE_HOURS:
        report.warn(hours, f"{plan.hours_per_week} hours a week is under {YEAR_OF_SERVICE_HOURS} hours a year: "
                           "nobody completes a year of service, so every NHCE stays otherwise excludable")
