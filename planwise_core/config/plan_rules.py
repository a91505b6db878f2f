"""Rules of the ``plan:`` section that read several keys (docs/plan_rules.md section 2.2).

Each rule runs when the keys it reads are valid (``report.valid``), even if another key of the section is
not, so every problem is reported at once without a misleading follow-up message.
"""

import math
from fractions import Fraction
from typing import Any

from planwise_core.config.ndt import NdtConfig, ndt_rule, plan_ndt_rule
from planwise_core.config.plan import (
    CUSTOM, HALF_BASIS_POINT, LIMIT_DOLLARS_CEILING, CoreConfig, MatchConfig, PlanConfig, Tier, Vesting, first_irs_year,
    last_irs_limits,
)

EACA_MAX_GRACE_DAYS = 90
BASIC_SAFE_HARBOR = (Tier(0.03, 1.0), Tier(0.05, 0.5))
QACA_SAFE_HARBOR = (Tier(0.01, 1.0), Tier(0.06, 0.5))
SAFE_HARBOR_CORE_RATE = 0.03
SAFE_HARBOR_VESTING = ("immediate", "cliff_2")  # cliff_2 only for a QACA


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def match_rate(tiers, deferral: Fraction, cap_pct: float | None = None) -> Fraction:
    """Match as a fraction of pay for a deferral rate (the tier formula of R6 with Ĉ = 1)."""
    total, low = Fraction(0), Fraction(0)
    for tier in tiers:
        high = Fraction(str(tier.deferral_max))
        total += Fraction(str(tier.rate)) * min(max(deferral - low, 0), high - low)
        low = high
    return total if cap_pct is None else min(total, Fraction(str(cap_pct)))


def _at_least(tiers, cap_pct, minimum) -> bool:
    grid = (Fraction(k, 10_000) for k in range(10_001))
    return all(match_rate(tiers, d, cap_pct) >= match_rate(minimum, d) for d in grid)


def _vesting_rule(vesting: Vesting, path: str, report) -> None:
    if not report.valid(_join(path, "schedule"), _join(path, "custom")):
        return
    if vesting.schedule == CUSTOM and vesting.custom is None:
        report.error(_join(path, "custom"), "required when schedule is custom: a mapping of years of service to "
                                            "vested fraction, e.g. {0: 0, 1: 0.5, 2: 1}")
    elif vesting.schedule != CUSTOM and vesting.custom is not None:
        report.error(_join(path, "custom"), f"only used with schedule: custom (the schedule is {vesting.schedule}; "
                                            "set schedule: custom or remove custom)")


def _safe_harbor(source: MatchConfig | CoreConfig, path: str, report) -> None:
    """A safe-harbor source vests at once (a QACA may use the 2-year cliff) and has no allocation conditions."""
    if not (report.valid(_join(path, "safe_harbor")) and source.safe_harbor):
        return
    schedule = _join(path, "vesting.schedule")
    if report.valid(schedule) and source.vesting.schedule not in SAFE_HARBOR_VESTING:
        report.error(schedule, f"a safe-harbor contribution vests immediately (cliff_2 for a QACA), "
                               f"got {source.vesting.schedule}")
    last_day = _join(path, "allocation.last_day_rule")
    if report.valid(last_day) and source.allocation.last_day_rule:
        report.error(last_day, "must be false for a safe-harbor contribution (no last-day condition)")
    hours = _join(path, "allocation.minimum_hours")
    if report.valid(hours) and source.allocation.minimum_hours != 0:
        report.error(hours, f"must be 0 for a safe-harbor contribution (got {source.allocation.minimum_hours})")


def _match_rule(match: MatchConfig, path: str, report) -> None:
    graded, bands = _join(path, "graded_by"), _join(path, "bands")
    if report.valid(graded, bands):
        if match.graded_by != "none" and not match.bands:
            report.error(bands, f"needs at least one band when graded_by is {match.graded_by}, e.g. "
                                "[{min: 0, max: null, tiers: [{deferral_max: 0.03, rate: 1.0}]}]")
        elif match.graded_by == "none" and match.bands:
            report.warn(bands, "ignored because graded_by is none (the top-level tiers apply to everyone)")
    last_day = _join(path, "allocation.last_day_rule")
    if report.valid(_join(path, "calculation"), last_day) and match.calculation == "per_pay_period" \
            and match.allocation.last_day_rule:
        report.warn(last_day, "has no effect with calculation per_pay_period (the match is deposited every payroll); "
                              "it applies only to the true-up of per_pay_period_true_up")
    _safe_harbor(match, path, report)
    _safe_harbor_formula(match, path, report)
    if report.valid(_join(path, "tiers")):
        _rates_round_to_zero([t.rate for t in match.tiers], _join(path, "tiers"), report)
    if report.valid(graded, bands) and match.graded_by != "none":  # each band's own tiers, as the model uses them
        for i, band in enumerate(match.bands):
            _rates_round_to_zero([t.rate for t in band.tiers], f"{bands}[{i}].tiers", report)


def _rates_round_to_zero(rates, key: str, report) -> None:
    """A rate where 0 is allowed but below half a basis point becomes 0: say so (docs/plan_money.md)."""
    tiny = [r for r in rates if 0 < r < HALF_BASIS_POINT]
    if tiny:
        report.warn(key, f"rate {tiny[0]:g} is below half a basis point: rates are kept in whole basis points, so "
                         "it counts as 0")


def _safe_harbor_formula(match: MatchConfig, path: str, report) -> None:
    keys = [_join(path, k) for k in ("safe_harbor", "tiers", "bands", "graded_by", "cap_pct_of_comp", "vesting")]
    if not (report.valid(*keys) and match.safe_harbor):
        return
    minimum = QACA_SAFE_HARBOR if match.vesting.schedule == "cliff_2" else BASIC_SAFE_HARBOR
    formulas = ([(b.tiers, b.cap_pct_of_comp) for b in match.bands] if match.graded_by != "none"
                else [(match.tiers, match.cap_pct_of_comp)])
    if not all(_at_least(tiers, cap, minimum) for tiers, cap in formulas):
        name = "QACA (100 % of 1 % + 50 % of the next 5 %)" if minimum is QACA_SAFE_HARBOR else \
            "basic safe harbor (100 % of 3 % + 50 % of the next 2 %)"
        report.warn(_join(path, "tiers"), f"the safe-harbor match is below the {name} at some deferral rate")
    if match.cap_dollars is not None:
        report.warn(_join(path, "cap_dollars"), "a dollar cap can bring a safe-harbor match below the required formula")


def _core_rule(core: CoreConfig, path: str, report) -> None:
    graded, bands = _join(path, "graded_by"), _join(path, "bands")
    if report.valid(graded, bands) and core.graded_by == "none" and len(core.bands) != 1:
        report.error(bands, f"graded_by none takes one flat rate: a single band {{min: 0, max: null, rate: …}} "
                            f"(got {len(core.bands)} bands; set graded_by to service, age or points to use them)")
    _safe_harbor(core, path, report)
    if report.valid(bands, _join(path, "safe_harbor")) and core.safe_harbor \
            and any(b.rate < SAFE_HARBOR_CORE_RATE for b in core.bands):
        report.warn(bands, "a safe-harbor nonelective contribution is at least 3 % of pay in every band")
    if report.valid(bands):
        _rates_round_to_zero([b.rate for b in core.bands], bands, report)


def _plan_rule(plan: PlanConfig, path: str, report) -> None:
    cap, limit = _join(path, "auto_escalation.cap"), _join(path, "deferrals.max_deferral_rate")
    if report.valid(cap, limit) and plan.auto_escalation.cap > plan.deferrals.max_deferral_rate:
        report.error(cap, f"must be at most deferrals.max_deferral_rate {plan.deferrals.max_deferral_rate} "
                          f"(got {plan.auto_escalation.cap})")
    plan_ndt_rule(plan, path, report)


KEY_RULES: dict[type, tuple[Any, ...]] = {
    Vesting: (_vesting_rule,),
    MatchConfig: (_match_rule,),
    CoreConfig: (_core_rule,),
    PlanConfig: (_plan_rule,),
    NdtConfig: (ndt_rule,),
}


def cross_section_rules(config, report) -> None:
    """Rules tying ``plan:`` to other sections; they apply only when the plan is enabled (the IRS projection,
    computed by every foundation, always)."""
    _irs_projection_rule(config, report)
    if not (report.valid("plan.enabled") and config.plan.enabled):
        return
    first = first_irs_year()
    if report.valid("simulation.start_year") and config.simulation.start_year < first:
        report.error("simulation.start_year", f"the plan needs IRS limits for every simulated year and the published "
                                              f"ones start in {first} (got {config.simulation.start_year}); start "
                                              f"in {first} or later, or set plan.enabled: false")
    grace, refund = "enrollment.auto_enrollment.opt_out_grace_period", "plan.deferrals.eaca_refund_on_opt_out"
    if report.valid(grace, refund) and config.plan.deferrals.eaca_refund_on_opt_out \
            and config.enrollment.auto_enrollment.opt_out_grace_period > EACA_MAX_GRACE_DAYS:
        report.error(grace, f"must be at most {EACA_MAX_GRACE_DAYS} days while {refund} is true (an EACA "
                            f"permissible withdrawal window; got "
                            f"{config.enrollment.auto_enrollment.opt_out_grace_period}); shorten it or set "
                            f"{refund}: false")


def _irs_projection_rule(config, report) -> None:
    """The projected IRS limits must stay under LIMIT_DOLLARS_CEILING up to end_year (docs/configuration.md)."""
    cpi, wages = "plan.irs_limits.cpi_growth", "plan.irs_limits.wage_growth"
    if not report.valid(cpi, wages, "simulation.end_year"):
        return
    last_year, largest = last_irs_limits()
    years = config.simulation.end_year - last_year
    growth = max(config.plan.irs_limits.cpi_growth, config.plan.irs_limits.wage_growth)
    if years > 0 and math.log(largest) + years * math.log1p(growth) > math.log(LIMIT_DOLLARS_CEILING):
        key = cpi if config.plan.irs_limits.cpi_growth >= config.plan.irs_limits.wage_growth else wages
        end = config.simulation.end_year
        report.error(key, f"growing {growth:.4g} a year from {last_year} to {end}, the projected "
                          f"IRS limits would pass {LIMIT_DOLLARS_CEILING:,} dollars; lower the growth or simulate "
                          "fewer years")
