"""The plan's money configuration (docs/plan_rules.md section 2.2): the ``plan:`` section, its defaults and value checks.

Rules that read several keys (safe harbor, the escalation cap, the years the IRS limits table covers) are in
plan_rules.py. The vesting presets and the first published IRS year are read from the built-in parameter
tables (planwise_core/assumptions/defaults), so the models and the validator share one definition.
"""

import datetime
from fractions import Fraction
from typing import Any

import attrs

from planwise_core.config.checks import (
    NON_NEGATIVE_INT, RATE, Invalid, as_bool, as_float, as_int, choice, described, described_as, nullable,
    optional_date, ranged, short_repr,
)
from planwise_core.config.builtin_tables import first_irs_year, last_irs_limits, vesting_presets  # noqa: F401 - re-exported
from planwise_core.config.fields import Records, records_field, section_field, value_field
from planwise_core.config.ndt import NdtConfig, ndt_dbt_vars

GRADED_BY = ("none", "service", "age", "points")
MATCH_CALCULATIONS = ("annual_true_up", "per_pay_period", "per_pay_period_true_up")
ENTRIES = ("immediate", "first_of_next_month")
SERVICE_METHODS = ("elapsed_time", "hours")
ESCALATION_SCOPES = ("all_participants", "auto_enrolled_only")
CORRECTION_ORDERS = ("epcrs", "employer_first")
FORFEITURE_USES = ("reduce_employer_contributions", "pay_expenses", "reallocate_to_participants")
CUSTOM = "custom"
# The legal minimums a vesting schedule must meet at every year of service (IRC 411(a)(2)(B)).
CLIFF_3 = ((0, Fraction(0)), (3, Fraction(1)))
GRADED_6 = ((0, Fraction(0)), (2, Fraction(1, 5)), (3, Fraction(2, 5)), (4, Fraction(3, 5)), (5, Fraction(4, 5)),
            (6, Fraction(1)))

MATCH_RATE = ranged(as_float, 0, 10)  # matches above 100 % are real (e.g. 200 % of the first 3 %)
# Plan rates are kept in whole basis points, rounded half up (docs/plan_money.md): below half a basis point a
# rate would become 0, so where 0 is refused, so is a rate that rounds to it.
HALF_BASIS_POINT = 0.00005


def _positive_rate(value: Any) -> float:
    rate = ranged(as_float, 0, 1, low_open=True)(value)
    if rate < HALF_BASIS_POINT:
        raise Invalid(f"must be at least 0.00005 (half a basis point: rates are kept in whole basis "
                      f"points, so {short_repr(value)} would be 0)")
    return rate


POSITIVE_RATE = _positive_rate
AGE = ranged(as_int, 0, 100)
# Dollar keys are bounded by what the models' cent arithmetic carries (docs/configuration.md): a per-person cap
# like an IRS limit (a billion), a plan-wide pool well inside DECIMAL(18, 2).
LIMIT_DOLLARS_CEILING = 1_000_000_000
DOLLARS = ranged(as_float, 0, LIMIT_DOLLARS_CEILING)
POOL_DOLLARS = ranged(as_float, 0, 1_000_000_000_000)


def vested_at(steps, years: int) -> Fraction:
    """A schedule is a step function: the fraction of the largest key at or below ``years``, 0 before the first."""
    return max((fraction for key, fraction in steps if key <= years), default=Fraction(0))


def _mmdd(value: Any) -> str:
    try:
        month, day = (int(part) for part in str(value).split("-"))
        datetime.date(2023, month, day)  # a non-leap year: 02-29 would not exist every year
        if len(str(value)) != 5:
            raise ValueError
    except ValueError:
        raise Invalid(f"must be a day of the year written MM-DD, e.g. \"01-01\" (02-29 is not allowed) "
                      f"{described(value)}") from None
    return str(value)


described_as(_mmdd, type="string", pattern="MM-DD")


def _vesting_steps(value: Any) -> tuple[tuple[int, float], ...] | None:
    """A custom schedule {years of service: vested fraction}: fractions in [0, 1], non-decreasing, reaching 1,
    and at every year at least as generous as the 3-year cliff or the 2-6 graded minimum."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise Invalid(f"must be a mapping of years of service to vested fraction, e.g. {{0: 0, 3: 1}} {described(value)}")
    reasons, steps = [], []
    for key, fraction in value.items():
        try:
            years = NON_NEGATIVE_INT(int(key) if isinstance(key, str) and key.isdigit() else key)
            steps.append((years, RATE(fraction)))
        except Invalid as exc:
            reasons.append(f"entry {key!r}: {exc.args[0]}")
    if reasons:
        raise Invalid(*reasons)
    steps.sort()
    exact = [(years, Fraction(str(fraction))) for years, fraction in steps]
    if any(b < a for (_, a), (_, b) in zip(exact, exact[1:])):
        raise Invalid("vested fractions must not decrease with service")
    if exact[-1][1] != 1:
        raise Invalid("must reach 1 (fully vested) at some year of service")
    if not is_generous_enough(exact):
        raise Invalid("is less generous than both legal minimums: the 3-year cliff {0: 0, 3: 1} and the 2-6 graded "
                      "{2: 0.2, 3: 0.4, 4: 0.6, 5: 0.8, 6: 1} (vest faster)")
    return tuple(steps)


described_as(_vesting_steps, type="vesting_steps", nullable=True)  # a mapping years of service -> vested fraction


def is_generous_enough(steps) -> bool:
    years = range(0, 8)
    return any(all(vested_at(steps, y) >= vested_at(minimum, y) for y in years) for minimum in (CLIFF_3, GRADED_6))


def _increasing_tiers(tiers: Records) -> Records:
    if not tiers:
        raise Invalid("must list at least one tier, e.g. [{deferral_max: 0.03, rate: 1.0}]")
    bad = [(f"[{i}].deferral_max", f"must be greater than the previous tier's {before.deferral_max} "
                                   f"(tiers are cumulative bands; got {tier.deferral_max})")
           for i, (before, tier) in enumerate(zip(tiers, tiers[1:]), start=1) if tier.deferral_max <= before.deferral_max]
    if bad:
        raise Invalid(*bad)
    return tiers


def _contiguous_bands(bands: Records) -> Records:
    """Half-open bands [min, max) from 0 to an open end (max null), without gaps or overlaps."""
    reasons, expected = [], 0
    for i, band in enumerate(bands):
        if band.min != expected:
            where = "start at 0" if i == 0 else f"start where band {i - 1} ends ({expected})"
            reasons.append((f"[{i}].min", f"must {where}: bands are contiguous [min, max) (got {band.min})"))
        last = i == len(bands) - 1
        if band.max is None and not last:
            reasons.append((f"[{i}].max", "only the last band may be open-ended (max: null)"))
        elif band.max is not None and band.max <= band.min:
            reasons.append((f"[{i}].max", f"must be greater than min {band.min} (got {band.max})"))
        elif band.max is not None and last:
            reasons.append((f"[{i}].max", f"the last band must be open-ended: max: null (got {band.max})"))
        expected = band.max
    if reasons:
        raise Invalid(*reasons)
    return bands


@attrs.frozen
class Tier:
    deferral_max: float = value_field(0.03, POSITIVE_RATE, required=True)
    rate: float = value_field(1.0, MATCH_RATE, required=True)


DEFAULT_TIERS = (Tier(0.03, 1.0), Tier(0.05, 0.5))


@attrs.frozen
class MatchBand:
    min: int = value_field(0, NON_NEGATIVE_INT, required=True)
    max: int | None = value_field(None, nullable(NON_NEGATIVE_INT))
    tiers: tuple[Tier, ...] = records_field(DEFAULT_TIERS, Tier, _increasing_tiers)
    cap_pct_of_comp: float | None = value_field(None, nullable(RATE))
    cap_dollars: float | None = value_field(None, nullable(DOLLARS))


@attrs.frozen
class CoreBand:
    min: int = value_field(0, NON_NEGATIVE_INT, required=True)
    max: int | None = value_field(None, nullable(NON_NEGATIVE_INT))
    rate: float = value_field(0.03, RATE, required=True)


@attrs.frozen
class SourceEligibility:
    waiting_period_days: int | None = value_field(None, nullable(NON_NEGATIVE_INT))
    minimum_age: int | None = value_field(None, nullable(AGE))
    entry: str = value_field("immediate", choice(ENTRIES))


@attrs.frozen
class Allocation:
    last_day_rule: bool = value_field(False, as_bool)
    minimum_hours: float = value_field(0, ranged(as_float, 0, 8784))
    retirement_age_exemption: int | None = value_field(None, nullable(AGE))


@attrs.frozen
class Vesting:
    schedule: str = value_field("immediate", described_as(
        lambda v: choice((*vesting_presets(), CUSTOM))(v),
        lambda: {"type": "string", "choices": (*vesting_presets(), CUSTOM)}))
    custom: tuple[tuple[int, float], ...] | None = value_field(None, _vesting_steps)
    service_method: str = value_field("elapsed_time", choice(SERVICE_METHODS))


@attrs.frozen
class IrsLimitsConfig:
    cpi_growth: float = value_field(0.025, RATE)
    wage_growth: float = value_field(0.035, RATE)


@attrs.frozen
class RothConfig:
    enabled: bool = value_field(False, as_bool)
    share: float = value_field(0.0, RATE)
    mandatory_roth_catch_up: bool = value_field(True, as_bool)


@attrs.frozen
class DeferralsConfig:
    max_deferral_rate: float = value_field(0.75, POSITIVE_RATE)
    catch_up: bool = value_field(True, as_bool)
    super_catch_up: bool = value_field(True, as_bool)
    apply_401a17: bool = value_field(True, as_bool)
    eaca_refund_on_opt_out: bool = value_field(True, as_bool)
    roth: RothConfig = section_field(RothConfig)


@attrs.frozen
class AutoEscalationConfig:
    enabled: bool = value_field(False, as_bool)
    increment: float = value_field(0.01, POSITIVE_RATE)
    cap: float = value_field(0.10, POSITIVE_RATE)
    effective_mmdd: str = value_field("01-01", _mmdd)
    first_delay_years: int = value_field(1, NON_NEGATIVE_INT)
    scope: str = value_field("all_participants", choice(ESCALATION_SCOPES))
    hire_date_cutoff: datetime.date | None = value_field(None, optional_date)
    opt_out_rate: float = value_field(0.0, RATE)


@attrs.frozen
class ResponseDirection:
    enabled: bool = value_field(True, as_bool)
    probability: float = value_field(0.40, RATE)
    maximize_share: float = value_field(0.60, RATE)
    partial_factor: float = value_field(0.50, RATE)


@attrs.frozen
class MatchResponseConfig:
    """Elections reacting to the match formula in the first simulated year (docs/plan_money.md, R2a)."""
    enabled: bool = value_field(True, as_bool)
    upward: ResponseDirection = section_field(ResponseDirection)
    downward: ResponseDirection = section_field(lambda: ResponseDirection(True, 0.15, 0.70, 0.50))
    new_enrollee_share: float = value_field(0.0, RATE)


@attrs.frozen
class MatchConfig:
    enabled: bool = value_field(True, as_bool)
    tiers: tuple[Tier, ...] = records_field(DEFAULT_TIERS, Tier, _increasing_tiers)
    cap_pct_of_comp: float | None = value_field(None, nullable(RATE))
    cap_dollars: float | None = value_field(None, nullable(DOLLARS))
    graded_by: str = value_field("none", choice(GRADED_BY))
    bands: tuple[MatchBand, ...] = records_field((), MatchBand, _contiguous_bands)
    calculation: str = value_field("annual_true_up", choice(MATCH_CALCULATIONS))
    match_catch_up: bool = value_field(True, as_bool)
    eligibility: SourceEligibility = section_field(SourceEligibility)
    allocation: Allocation = section_field(Allocation)
    vesting: Vesting = section_field(Vesting)
    safe_harbor: bool = value_field(False, as_bool)


@attrs.frozen
class CoreConfig:
    enabled: bool = value_field(False, as_bool)
    graded_by: str = value_field("none", choice(GRADED_BY))
    bands: tuple[CoreBand, ...] = records_field((CoreBand(0, None, 0.03),), CoreBand, _contiguous_bands)
    eligibility: SourceEligibility = section_field(lambda: SourceEligibility(365, 21, "immediate"))
    allocation: Allocation = section_field(lambda: Allocation(True, 1000, 65))
    vesting: Vesting = section_field(lambda: Vesting("graded_6", None, "elapsed_time"))
    safe_harbor: bool = value_field(False, as_bool)


@attrs.frozen
class Limit415Config:
    correction_order: str = value_field("epcrs", choice(CORRECTION_ORDERS))


@attrs.frozen
class ForfeituresConfig:
    use: str = value_field("reduce_employer_contributions", choice(FORFEITURE_USES))
    opening_pool: float = value_field(0.0, POOL_DOLLARS)


@attrs.frozen
class PlanConfig:
    enabled: bool = value_field(True, as_bool)
    irs_limits: IrsLimitsConfig = section_field(IrsLimitsConfig)
    hours_per_week: float = value_field(40, ranged(as_float, 0, 168, low_open=True))
    normal_retirement_age: int = value_field(65, AGE)
    deferrals: DeferralsConfig = section_field(DeferralsConfig)
    auto_escalation: AutoEscalationConfig = section_field(AutoEscalationConfig)
    match_response: MatchResponseConfig = section_field(MatchResponseConfig)
    match: MatchConfig = section_field(MatchConfig)
    core: CoreConfig = section_field(CoreConfig)
    limit_415: Limit415Config = section_field(Limit415Config)
    forfeitures: ForfeituresConfig = section_field(ForfeituresConfig)
    ndt: NdtConfig = section_field(NdtConfig)


def _tiers(tiers) -> list[dict]:
    return [{"deferral_max": t.deferral_max, "rate": t.rate} for t in tiers]


def _steps(steps) -> list[dict] | None:
    return None if steps is None else [{"years": years, "vested": fraction} for years, fraction in steps]


def _source_vars(prefix: str, source: MatchConfig | CoreConfig) -> dict[str, Any]:
    elig, alloc, vest = source.eligibility, source.allocation, source.vesting
    return {
        f"{prefix}_enabled": source.enabled,
        f"{prefix}_graded_by": source.graded_by,
        f"{prefix}_waiting_period_days": elig.waiting_period_days,
        f"{prefix}_minimum_age": elig.minimum_age,
        f"{prefix}_entry": elig.entry,
        f"{prefix}_last_day_rule": alloc.last_day_rule,
        f"{prefix}_minimum_hours": alloc.minimum_hours,
        f"{prefix}_retirement_age_exemption": alloc.retirement_age_exemption,
        f"{prefix}_vesting_schedule": vest.schedule,
        f"{prefix}_vesting_custom": _steps(vest.custom),
        f"{prefix}_vesting_service_method": vest.service_method,
        f"{prefix}_safe_harbor": source.safe_harbor,
    }


def _response_vars(response: MatchResponseConfig) -> dict[str, Any]:
    flat = {"plan_match_response_enabled": response.enabled,
            "plan_match_response_new_enrollee_share": response.new_enrollee_share}
    for name in ("upward", "downward"):
        direction = getattr(response, name)
        flat.update({f"plan_match_response_{name}_{key}": getattr(direction, key)
                     for key in ("enabled", "probability", "maximize_share", "partial_factor")})
    return flat


def plan_dbt_vars(plan: PlanConfig) -> dict[str, Any]:
    """Every key of ``plan:`` as a flat dbt var ``plan_*`` (rates stay fractions; the models convert them to bp)."""
    dfr, esc, match, core = plan.deferrals, plan.auto_escalation, plan.match, plan.core
    cutoff = esc.hire_date_cutoff
    return {
        "plan_enabled": plan.enabled,
        "plan_cpi_growth": plan.irs_limits.cpi_growth,
        "plan_wage_growth": plan.irs_limits.wage_growth,
        "plan_hours_per_week": plan.hours_per_week,
        "plan_normal_retirement_age": plan.normal_retirement_age,
        "plan_max_deferral_rate": dfr.max_deferral_rate,
        "plan_catch_up": dfr.catch_up,
        "plan_super_catch_up": dfr.super_catch_up,
        "plan_apply_401a17": dfr.apply_401a17,
        "plan_eaca_refund_on_opt_out": dfr.eaca_refund_on_opt_out,
        "plan_roth_enabled": dfr.roth.enabled,
        "plan_roth_share": dfr.roth.share,
        "plan_mandatory_roth_catch_up": dfr.roth.mandatory_roth_catch_up,
        "plan_escalation_enabled": esc.enabled,
        "plan_escalation_increment": esc.increment,
        "plan_escalation_cap": esc.cap,
        "plan_escalation_effective_mmdd": esc.effective_mmdd,
        "plan_escalation_first_delay_years": esc.first_delay_years,
        "plan_escalation_scope": esc.scope,
        "plan_escalation_hire_date_cutoff": cutoff.isoformat() if cutoff else None,
        "plan_escalation_opt_out_rate": esc.opt_out_rate,
        **_response_vars(plan.match_response),
        **_source_vars("plan_match", match),
        "plan_match_tiers": _tiers(match.tiers),
        "plan_match_cap_pct_of_comp": match.cap_pct_of_comp,
        "plan_match_cap_dollars": match.cap_dollars,
        "plan_match_bands": [{"min": b.min, "max": b.max, "tiers": _tiers(b.tiers), "cap_pct_of_comp": b.cap_pct_of_comp,
                              "cap_dollars": b.cap_dollars} for b in match.bands],
        "plan_match_calculation": match.calculation,
        "plan_match_catch_up": match.match_catch_up,
        **_source_vars("plan_core", core),
        "plan_core_bands": [{"min": b.min, "max": b.max, "rate": b.rate} for b in core.bands],
        "plan_limit_415_correction_order": plan.limit_415.correction_order,
        "plan_forfeitures_use": plan.forfeitures.use,
        "plan_forfeitures_opening_pool": plan.forfeitures.opening_pool,
        **ndt_dbt_vars(plan.ndt, plan.enabled),
    }
