"""One employee's story as words: each money amount of a year with the rule that produced it, and the whole story
as the text ``planwise employee`` prints. The rules are those of docs/plan_money.md."""

from __future__ import annotations

from planwise_core.outputs.employee_rules import pct, usd

CATCH_UP_KINDS = {"age_50": "the age-50 catch-up", "age_60_63": "the ages 60-63 catch-up",
                  "under_50": "no catch-up: under 50 on Dec 31", "not_offered": "no catch-up: the plan offers none"}
CALCULATIONS = {"annual_true_up": "on the year's totals", "per_pay_period": "every pay period",
                "per_pay_period_true_up": "every pay period, trued up at year end"}
FORFEITURE_USES = {"reduce_employer_contributions": "they reduce the employer's contributions",
                   "pay_expenses": "they pay plan expenses",
                   "reallocate_to_participants": "they are reallocated to participants"}


def _tiers(match: dict) -> str:
    low, parts = 0, []
    for tier in match.get("tiers", ()):
        parts.append(f"{pct(tier['rate_bp'])} of deferrals from {pct(low)} to {pct(tier['deferral_max_bp'])} of pay")
        low = tier["deferral_max_bp"]
    return "; ".join(parts) or "no tier"


def _band(band: dict | None) -> str:
    if not band:
        return ""
    top = "and over" if band["max"] is None else f"to {band['max']}"
    return f" (band {band['by']} {band['min']} {top}: {band['value']})"


def _requested(m: dict, r: dict) -> str:
    d = r["deferral"]
    text = (f"elected rate {pct(d['rate_boy_bp'])} on Jan 1, {pct(d['rate_eoy_bp'])} on Dec 31"
            f"{' (escalated)' if d['escalated'] else ''}, day by day on deferral pay {usd(m['deferral_comp'])}")
    if d["max_deferral_rate_bp"] is not None:
        text += f"; a rate above the plan's {pct(d['max_deferral_rate_bp'])} counts as that"
    if r["limit_401a17"]["applied"]:
        text += f"; pay counted up to the 401(a)(17) limit {usd(r['limit_401a17']['limit_cents'])}"
    return text


def _deferral(m: dict, r: dict) -> str:
    g, cu = r["limit_402g"], r["catch_up"]
    limits = f"the 402(g) limit {usd(g['limit_cents'])}" + (
        f" ({CATCH_UP_KINDS[cu['kind']]})" if cu["kind"] in ("under_50", "not_offered") else
        f" plus {CATCH_UP_KINDS[cu['kind']]} {usd(cu['limit_cents'])} = {usd(g['elective_limit_cents'])}")
    if g["reached"]:
        text = f"requested {usd(m['requested_deferral'])}, cut at {limits} (limit reached)"
    else:
        text = f"requested {usd(m['requested_deferral'])}, within {limits}"
    return text + (f"; {usd(m['refunded_deferral'])} refunded ({_why_refunded(m)})" if m["refunded_deferral"] else "")


def _why_refunded(m: dict) -> str:
    """The refund is the EACA refund plus the 415(c) correction (docs/plan_money.md)."""
    if m["reduced_415"]:
        return "the 415(c) correction, with any automatic enrollment refund"
    return "an opt-out in the automatic enrollment grace period refunds the deferrals made before it"


def _roth(m: dict, r: dict) -> str:
    share = r["deferral"]["roth_share_bp"]
    if share is None:  # Roth off, or a run whose configuration is not recorded
        return "the part of the deferrals designated Roth" if m["roth_deferral"] else "no Roth deferrals"
    return (f"{pct(share)} of the regular deferrals designated Roth; the catch-up too when the Roth catch-up rule "
            "applies (prior-year wages above the threshold)")


def _match(m: dict, r: dict) -> str:
    x = r["match"]
    if not x["eligible"]:
        return "not eligible for the match this year (no day in the match period, or the match is off)"
    if "tiers" not in x:
        return f"match on match pay {usd(m['match_comp'])} (the run's configuration is not recorded)"
    caps = [f"at most {pct(x['cap_pct_of_comp_bp'])} of match pay"] if x["cap_pct_of_comp_bp"] is not None else []
    caps += [f"at most {usd(x['cap_dollars_cents'])} a year"] if x["cap_dollars_cents"] is not None else []
    return (f"{_tiers(x)}{_band(x['band'])}, on match pay {usd(m['match_comp'])}, computed "
            f"{CALCULATIONS.get(x['calculation'], x['calculation'])}"
            f"{'' if x['match_catch_up'] else ', catch-up not matched'}{'; ' + ', '.join(caps) if caps else ''}"
            f"; true-up basis {usd(m['match_true_up_basis'])}")


def _core(m: dict, r: dict) -> str:
    x = r["core"]
    if not x["eligible"]:
        return "no core contribution this year (the core is off, or not yet eligible)"
    alloc = x.get("allocation") or {}
    hours = alloc.get("minimum_hours")
    conditions = [c for c, on in (("employed on Dec 31", alloc.get("last_day_rule")),
                                  (f"{hours:g} hours in the year" if hours else "", hours)) if on]
    text = f"{pct(x['rate_bp'])}{_band(x.get('band'))} of core pay {usd(m['core_comp'])}"
    return text + (f"; allocated only if {' and '.join(conditions)}" if conditions else "")


def _additions(m: dict, r: dict) -> str:
    x = r["limit_415"]
    limit = (f"the 415(c) limit {usd(x['limit_cents'])} (the smaller of {usd(x['table_cents'])} and plan pay "
             f"{usd(x['plan_comp_cents'])})")
    if x["reduced"]:
        return f"deferrals without catch-up + match + core, cut to {limit} (order: {x['correction_order']})"
    return f"deferrals without catch-up + match + core, within {limit}"


def _service(source: str, vesting: dict) -> int | None:
    """Years of vesting service of a source: plan years with 1,000 hours (hours method), else the elapsed years
    (vesting_service_years is the match's service, and the core's when the match counts the same way)."""
    method = vesting[source].get("service_method")
    if method == "hours":
        return vesting["hours_service_years"]
    same = source == "match" or vesting["match"].get("service_method") in (None, method)
    return vesting["service_years"] if same else None


def _vested_part(source: str, vesting: dict, balance: int) -> str:
    v, service = vesting[source], _service(source, vesting)
    schedule = ""
    if "schedule" in v:
        years = "" if service is None else f", {service} year(s) of service by {v['service_method'].replace('_', ' ')}"
        schedule = f" ({v['schedule']}{years})"
    return f"{source} {usd(balance)} {pct(v['vested_bp'])} vested{schedule}"


def _balances(m: dict) -> tuple[int, int]:
    """The employer money a leaver's vesting applies to: each balance on Jan 1 plus the year's contribution."""
    return m["match_balance_boy"] + m["employer_match"], m["core_balance_boy"] + m["employer_core"]


def _forfeiture(m: dict, r: dict) -> str:
    v = r["vesting"]
    vested = ", ".join(_vested_part(s, v, b) for s, b in zip(("match", "core"), _balances(m)))
    age = f" (fully vested from age {v['normal_retirement_age']})" if "normal_retirement_age" in v else ""
    return f"left this year: {vested}{age}; the vested part is the person's"


def _forfeited(m: dict, r: dict) -> str:
    use = FORFEITURE_USES.get(r["forfeiture"]["use"], "")
    match, core = _balances(m)
    return (f"the part of the employer money ({usd(match + core)}) not vested on leaving"
            f"{'; ' + use if use else ''}")


def _balance(m: dict, source: str) -> str:
    contribution = "match" if source == "match" else "core"
    text = f"{usd(m[source + '_balance_boy'])} on Jan 1 + the {contribution}"
    return text + (", less what was vested or forfeited on leaving" if m["vested_amount"] or m["forfeited_amount"]
                   else "")


# (name, fct_dc_contributions column) of each amount, in the order the money layer computes them.
AMOUNTS = (("requested deferral", "requested_deferral"), ("employee deferral", "employee_deferral"),
           ("pre-tax deferral", "pre_tax_deferral"), ("Roth deferral", "roth_deferral"),
           ("catch-up deferral", "catch_up_deferral"), ("refunded deferral", "refunded_deferral"),
           ("employer match", "employer_match"), ("employer core", "employer_core"),
           ("annual additions", "annual_additions"), ("match balance (Dec 31)", "match_balance_eoy"),
           ("core balance (Dec 31)", "core_balance_eoy"), ("vested amount", "vested_amount"),
           ("forfeited amount", "forfeited_amount"))


def _catch_up(m: dict, r: dict) -> str:
    cu = r["catch_up"]
    return (f"the part above the 402(g) limit, up to {usd(cu['limit_cents'])}: {CATCH_UP_KINDS[cu['kind']]} "
            f"(age {cu['age_dec31']} on Dec 31)")


def _refunded(m: dict, r: dict) -> str:
    if m["refunded_deferral"]:
        return _why_refunded(m)
    return "none (a refund comes from an opt-out in the automatic enrollment grace period, or the 415(c) correction)"


RULES = {"requested_deferral": _requested, "employee_deferral": _deferral,
         "pre_tax_deferral": lambda m, r: "the deferral less its Roth part", "roth_deferral": _roth,
         "catch_up_deferral": _catch_up, "refunded_deferral": _refunded, "employer_match": _match,
         "employer_core": _core, "annual_additions": _additions,
         "match_balance_eoy": lambda m, r: _balance(m, "match"), "core_balance_eoy": lambda m, r: _balance(m, "core"),
         "vested_amount": _forfeiture, "forfeited_amount": _forfeited}


def year_amounts(money: dict, rules: dict) -> list[tuple[str, str, int, str]]:
    """(name, column, cents, rule) of each money amount of the year; vested and forfeited only for a leaver."""
    leaver = money["vested_amount"] or money["forfeited_amount"]
    return [(name, column, money[column], RULES[column](money, rules)) for name, column in AMOUNTS
            if leaver or column not in ("vested_amount", "forfeited_amount")]


def _event(e) -> str:
    change = ""
    if e.pay_cents is not None and e.type in ("hire", "raise", "promotion"):
        change = f" pay {usd(e.previous_pay_cents)} -> {usd(e.pay_cents)}" if e.previous_pay_cents else \
            f" pay {usd(e.pay_cents)}"
    if e.to_level is not None and e.from_level != e.to_level:
        change += f" level {e.from_level} -> {e.to_level}" if e.from_level else f" level {e.to_level}"
    if e.deferral_rate_bp is not None and e.type in ("enrollment", "deferral_escalation", "opt_out"):
        change += f" deferral rate {pct(e.deferral_rate_bp)}"
    return f"    {e.date.isoformat()}  {e.type} ({e.category}){change}"


def _year_text(y) -> list[str]:
    lines = [f"{y.year}  {y.status} ({y.detailed_status})  level {y.level}  age {y.age}  tenure {y.tenure}  "
             f"pay rate {usd(y.pay_rate_cents)}  paid in the year {usd(y.prorated_pay_cents)}",
             f"  eligible: {y.eligibility_date.isoformat() if y.eligibility_date else 'no'}  "
             f"enrolled: {y.enrollment_date.isoformat() if y.enrolled and y.enrollment_date else 'no'}  "
             f"deferral rate {pct(y.deferral_rate_bp)}{'  (opted out)' if y.ever_opted_out else ''}"]
    lines += ["  events:"] + [_event(e) for e in y.events] if y.events else ["  events: none"]
    if y.limits:
        lim = y.limits
        lines.append(f"  IRS limits {y.year} ({lim['status']}, {lim['source']}): 402(g) "
                     f"{usd(lim['elective_deferral_402g'])}, catch-up 50+ {usd(lim['catch_up_50'])}, 60-63 "
                     f"{usd(lim['catch_up_60_63'])}, 401(a)(17) {usd(lim['compensation_401a17'])}, 415(c) "
                     f"{usd(lim['annual_additions_415c'])}")
    if y.amounts:
        width = max(len(a.name) for a in y.amounts)
        lines += ["  money:"] + [f"    {a.name:<{width}}  {usd(a.cents):>14}  {a.rule}" for a in y.amounts]
    return lines


def format_story(story) -> str:
    """The story as text: a header, then one block per year."""
    left = f"; left {story.termination_date.isoformat()}" if story.termination_date else ""
    lines = [f"Employee {story.employee_id} in {story.database} (run {story.run_id or 'unknown'})",
             f"born {story.birth_date.isoformat()}, hired {story.hire_date.isoformat()}{left}",
             "money: dollars to the cent, as fct_dc_contributions holds them; rules: docs/plan_money.md"
             if story.plan_enabled else "the plan's money layer did not run (plan.enabled: false)"]
    for y in story.years:
        lines += [""] + _year_text(y)
    return "\n".join(lines)
