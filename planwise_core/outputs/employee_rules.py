"""The rules behind one employee's money of one year (docs/plan_money.md): which limits, tiers, band, rate and
vesting schedule applied, as data, and each amount with one line saying how it came about.

Inputs are the year's snapshot row, its fct_dc_contributions row (cents and basis points), the year's IRS limits
(cents) and the run's configuration (None for a database whose run log lacks it: then only what the money row
itself says is given).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from planwise_core.config.plan import CUSTOM, vesting_presets

SUPER_CATCH_UP_AGES = range(60, 64)
CATCH_UP_AGE = 50


def _bp(fraction) -> int | None:
    """A fraction (float, Decimal or Fraction) as integer basis points, half up."""
    if fraction is None:
        return None
    exact = Decimal(fraction.numerator) / Decimal(fraction.denominator) if isinstance(fraction, Fraction) \
        else Decimal(str(fraction))
    return int((exact * 10_000).quantize(Decimal(1), ROUND_HALF_UP))


def _cents(dollars) -> int | None:
    return None if dollars is None else int((Decimal(str(dollars)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def usd(cents: int | None) -> str:
    return "-" if cents is None else f"${Decimal(cents) / 100:,.2f}"


def pct(bp: int | None) -> str:
    return "-" if bp is None else f"{Decimal(bp) / 100:.2f} %"


def _band(bands, graded_by: str, row: dict):
    """The band [min, max) holding the person's key on Dec 31 (tenure, age or both), as the models pick it."""
    key = {"service": row["current_tenure"], "age": row["current_age"],
           "points": row["current_age"] + row["current_tenure"]}[graded_by]
    band = next((b for b in bands if b.min <= key and (b.max is None or key < b.max)), None)
    return band, key


def _allocation(alloc) -> dict[str, Any]:
    return {"last_day_rule": alloc.last_day_rule, "minimum_hours": alloc.minimum_hours,
            "retirement_age_exemption": alloc.retirement_age_exemption}


def _catch_up(row: dict, money: dict, limits: dict | None, plan) -> dict[str, Any]:
    age, limit = money["age_dec31"], money["catch_up_limit"]
    if plan is not None and not plan.deferrals.catch_up:
        kind = "not_offered"
    elif age < CATCH_UP_AGE:
        kind = "under_50"
    elif limits and age in SUPER_CATCH_UP_AGES and limit == limits["catch_up_60_63"] != limits["catch_up_50"]:
        kind = "age_60_63"
    else:
        kind = "age_50"
    return {"kind": kind, "age_dec31": age, "limit_cents": limit, "deferral_cents": money["catch_up_deferral"]}


def _match(row: dict, money: dict, plan) -> dict[str, Any]:
    out: dict[str, Any] = {"eligible": money["match_eligible"], "match_comp_cents": money["match_comp"]}
    if plan is None:
        return out
    match = plan.match
    tiers, cap_pct, cap_dollars, band = match.tiers, match.cap_pct_of_comp, match.cap_dollars, None
    if match.graded_by != "none":
        found, key = _band(match.bands, match.graded_by, row)
        band = {"by": match.graded_by, "value": key, "min": found.min, "max": found.max} if found else None
        tiers, cap_pct, cap_dollars = (found.tiers, found.cap_pct_of_comp, found.cap_dollars) if found else ((), None, None)
    return {**out, "enabled": match.enabled, "band": band, "calculation": match.calculation,
            "tiers": [{"deferral_max_bp": _bp(t.deferral_max), "rate_bp": _bp(t.rate)} for t in tiers],
            "cap_pct_of_comp_bp": _bp(cap_pct), "cap_dollars_cents": _cents(cap_dollars),
            "match_catch_up": match.match_catch_up, "allocation": _allocation(match.allocation)}


def _core(row: dict, money: dict, plan) -> dict[str, Any]:
    out: dict[str, Any] = {"eligible": money["core_eligible"], "rate_bp": money["core_rate"],
                           "core_comp_cents": money["core_comp"]}
    if plan is None:
        return out
    core, band = plan.core, None
    if core.graded_by != "none":
        found, key = _band(core.bands, core.graded_by, row)
        band = {"by": core.graded_by, "value": key, "min": found.min, "max": found.max,
                "rate_bp": _bp(found.rate)} if found else None
    return {**out, "enabled": core.enabled, "band": band, "allocation": _allocation(core.allocation)}


def _schedule(vesting, vested_bp: int | None) -> dict[str, Any]:
    steps = vesting.custom if vesting.schedule == CUSTOM else vesting_presets().get(vesting.schedule, ())
    return {"schedule": vesting.schedule, "service_method": vesting.service_method, "vested_bp": vested_bp,
            "steps": [{"years": years, "vested_bp": _bp(fraction)} for years, fraction in steps or ()]}


def _vesting(money: dict, plan) -> dict[str, Any]:
    out: dict[str, Any] = {"service_years": money["vesting_service_years"],
                           "hours_service_years": money["hours_service_years"],
                           "match": {"vested_bp": money["vested_pct_match"]},
                           "core": {"vested_bp": money["vested_pct_core"]}}
    if plan is None:
        return out
    return {**out, "normal_retirement_age": plan.normal_retirement_age,
            "match": _schedule(plan.match.vesting, money["vested_pct_match"]),
            "core": _schedule(plan.core.vesting, money["vested_pct_core"])}


def year_rules(row: dict, money: dict, limits: dict | None, config) -> dict[str, Any]:
    """The rules that applied to the year's money, as JSON-safe data (cents, basis points)."""
    plan = config.plan if config is not None else None
    deferrals = plan.deferrals if plan is not None else None
    return {
        "deferral": {"rate_boy_bp": money["deferral_rate_boy"], "rate_eoy_bp": money["deferral_rate_eoy"],
                     "escalated": money["escalated"], "deferral_comp_cents": money["deferral_comp"],
                     "max_deferral_rate_bp": _bp(deferrals.max_deferral_rate) if deferrals else None,
                     "roth_share_bp": _bp(deferrals.roth.share) if deferrals and deferrals.roth.enabled else None},
        # The elective limit E is the 402(g) limit plus the person's catch-up limit; the deferral is min(requested, E).
        "limit_402g": {"limit_cents": money["elective_limit"] - money["catch_up_limit"],
                       "elective_limit_cents": money["elective_limit"], "reached": money["limit_402g_reached"],
                       "table_cents": limits["elective_deferral_402g"] if limits else None},
        "catch_up": _catch_up(row, money, limits, plan),
        "limit_401a17": {"limit_cents": money["comp_limit_401a17"], "applied": money["comp_401a17_applied"]},
        "match": _match(row, money, plan),
        "core": _core(row, money, plan),
        "limit_415": {"limit_cents": money["limit_415"], "annual_additions_cents": money["annual_additions"],
                      "reduced": money["reduced_415"], "table_cents": limits["annual_additions_415c"] if limits else None,
                      "plan_comp_cents": money["plan_comp"],
                      "correction_order": plan.limit_415.correction_order if plan else None},
        "vesting": _vesting(money, plan),
        "forfeiture": {"use": plan.forfeitures.use if plan else None, "forfeited_cents": money["forfeited_amount"],
                       "vested_cents": money["vested_amount"]},
        "limits_status": {"status": limits["status"], "source": limits["source"]} if limits else None,
    }

