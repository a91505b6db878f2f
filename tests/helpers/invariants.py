"""The invariant set every simulated run must keep, whatever its census or configuration.

:func:`invariant_problems` returns ``{rule: (violations, first examples)}``, empty when every rule holds. It reads
only the run's output tables (fct_yearly_events, fct_workforce_snapshot, int_workforce_requirements,
int_baseline_workforce, raw.census, fct_dc_contributions, fct_dc_plan_summary, int_irs_limits_by_year) and the
configuration the run was given, and recomputes each rule independently of the models:

* headcount identities (docs/domain.md steps 1-2): requirements from N, g, t, h and the year's retirements; actives at the
  end = target; start of Y+1 = actives of Y, the same people; snapshot rows = start actives + hires;
* events vs snapshot: one snapshot row per employee-year, unique event ids, no event outside employment or the
  year, no orphan events, termination kind and date = snapshot status and date, hires = new-hire rows, contiguous
  event sequences in (date, type rank) order, nothing after an earlier year's termination;
* status transitions: status codes follow the dates, age and tenure grow by one and are day-exact, retirees were
  55+, promotions one level, pay only rises and chains event to event, FYE carries into next year;
* eligibility and enrollment (docs/domain.md 5, steps 7-8): eligibility date from the waiting period and minimum age,
  one eligibility event when it falls inside the year, enrolled implies eligible, enrollment only when eligible,
  employed and not enrolled, at most one enrollment and one opt-out per person, opt-outs only inside the grace
  period after an auto-enrollment and for good, snapshot enrollment state follows the events, rates in [0, 1];
* plan money (docs/plan_rules.md 2.6): one money row per snapshot row (none when the plan is off), money in DECIMAL(18,2)
  (never DOUBLE), no negative amounts, pre-tax + Roth = deferral, deferral <= requested and <= 402(g) + catch-up
  limit, catch-up only from 50, annual additions identity and <= 415 limit, match = true-up basis without a 415
  reduction and only with a deferral, balances roll forward, leavers vest + forfeit everything, actives forfeit
  nothing, nothing forfeited at normal retirement age or under immediate vesting, summary = exact sums of rows,
  forfeiture pool identity.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from helpers.common import completed_years

EVENT_TYPE_RANK = {"hire": 1, "promotion": 2, "raise": 3, "eligibility": 4, "enrollment": 5,
                   "deferral_match_response": 6, "deferral_escalation": 7, "opt_out": 8, "termination": 9}
REQUIREMENT_COLUMNS = ("target_end_headcount", "experienced_terminations", "retirements", "additional_terminations",
                       "total_experienced_terminations", "hazard_terminations", "total_hires", "new_hire_terminations")
EXAMPLES = 3


def round_half_up(x) -> int:
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_requirements(start: int, g: float, t: float, h: float, retirements: int = 0) -> dict[str, int]:
    """Domain 4.1-4.2 computed independently with exact decimal arithmetic (R = retirements of the year)."""
    g, t, h = Decimal(str(g)), Decimal(str(t)), Decimal(str(h))
    target = round_half_up(start * (1 + g))
    q_exp = round_half_up(start * t)
    leaving = max(q_exp, retirements)  # retirements count toward Q_exp and replace it when they exceed it
    need = target - (start - leaving)
    common = {"target_end_headcount": target, "experienced_terminations": q_exp, "retirements": retirements}
    if need <= 0:
        return {**common, "additional_terminations": -need, "total_experienced_terminations": leaving - need,
                "hazard_terminations": leaving - need - retirements, "total_hires": 0, "new_hire_terminations": 0}
    hires = need
    while hires - round_half_up(hires * h) < need:
        hires += 1
    return {**common, "additional_terminations": 0, "total_experienced_terminations": leaving,
            "hazard_terminations": leaving - retirements, "total_hires": hires, "new_hire_terminations": hires - need}


class _Checker:
    def __init__(self, con):
        self.con = con
        self.problems: dict[str, Any] = {}

    def rows(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params=None):
        return self.con.execute(sql, params or []).fetchone()[0]

    def none(self, rule: str, sql: str, params=None) -> None:
        """The SQL selects the rows that break ``rule``."""
        self.bad(rule, self.rows(sql, params))

    def bad(self, rule: str, found: list) -> None:
        if found:
            self.problems[rule] = (len(found), found[:EXAMPLES])

    def table_exists(self, name: str) -> bool:
        return bool(self.scalar("select count(*) from information_schema.tables where table_name = ?", [name]))


def invariant_problems(con, years: list[int], config=None) -> dict[str, Any]:
    """Every rule of the module docstring on one run; ``config`` is the run's PlanwiseConfig (defaults if None)."""
    if config is None:
        from planwise_core.config import PlanwiseConfig

        config = PlanwiseConfig()
    check = _Checker(con)
    _headcount(check, years)
    _events_vs_snapshot(check)
    _status_and_pay(check, years)
    _eligibility_and_enrollment(check, config)
    _money(check, years, config)
    return check.problems


# --------------------------------------------------------------------------- headcount


def _headcount(c: _Checker, years: list[int]) -> None:
    req = {r[0]: r[1:] for r in c.rows(f"""
        select simulation_year, start_headcount, target_growth_rate, total_termination_rate,
               new_hire_termination_rate, {', '.join(REQUIREMENT_COLUMNS)}
        from int_workforce_requirements order by 1""")}
    if sorted(req) != years:
        c.problems["requirement years"] = sorted(req)
    snapshot_years = [r[0] for r in c.rows("select distinct simulation_year from fct_workforce_snapshot order by 1")]
    if snapshot_years != years:
        c.problems["snapshot years"] = snapshot_years
    previous_active = c.scalar("select count(*) from int_baseline_workforce")
    census_active = c.scalar("""select count(*) from raw.census c join int_baseline_workforce b using (employee_id)""")
    if census_active != previous_active:
        c.problems["baseline rows are census rows"] = (census_active, previous_active)
    for year in years:
        if year not in req:
            continue
        start, g, t, h, *values = req[year]
        got = dict(zip(REQUIREMENT_COLUMNS, values))
        if start != previous_active:
            c.problems[f"{year} start headcount"] = (start, previous_active)
        counts = dict(c.rows("""select event_category, count(*) from fct_yearly_events
                                where simulation_year = ? group by 1""", [year]))
        retired = counts.get("retirement", 0)
        exp = expected_requirements(start, g, t, h, retired)
        if got != exp:
            c.problems[f"{year} requirements"] = (got, exp)
        active, rows_ = c.rows("""select count(*) filter (where employment_status = 'active'), count(*)
                                  from fct_workforce_snapshot where simulation_year = ?""", [year])[0]
        got_counts = (active, counts.get("experienced_termination", 0) + retired, counts.get("new_hire", 0),
                      counts.get("new_hire_termination", 0), rows_)
        wanted = (exp["target_end_headcount"], exp["total_experienced_terminations"], exp["total_hires"],
                  exp["new_hire_terminations"], start + exp["total_hires"])
        if got_counts != wanted:
            c.problems[f"{year} counts (active, exp term incl. retirements, hires, nh term, rows)"] = (got_counts, wanted)
        previous_active = active
    # the same people, not only the same count: the non-hires of Y+1 are exactly the actives of Y
    c.none("start of next year = actives of this year", f"""
        select coalesce(p.employee_id, n.employee_id), p.simulation_year, n.simulation_year
        from (select employee_id, simulation_year from fct_workforce_snapshot where employment_status = 'active'
              and simulation_year < {max(years)}) p
        full join (select employee_id, simulation_year - 1 as simulation_year from fct_workforce_snapshot
                   where detailed_status_code in ('continuous_active', 'experienced_termination')
                     and simulation_year > {min(years)}) n using (employee_id, simulation_year)
        where p.employee_id is null or n.employee_id is null""")
    c.none("first year's continuing people = baseline", f"""
        select coalesce(b.employee_id, s.employee_id) from int_baseline_workforce b
        full join (select employee_id from fct_workforce_snapshot where simulation_year = {min(years)}
                   and detailed_status_code in ('continuous_active', 'experienced_termination')) s using (employee_id)
        where b.employee_id is null or s.employee_id is null""")


# --------------------------------------------------------------------------- events vs snapshot


def _events_vs_snapshot(c: _Checker) -> None:
    c.none("one snapshot row per employee-year", """select employee_id, simulation_year, count(*)
        from fct_workforce_snapshot group by all having count(*) > 1""")
    c.none("event ids unique and not null", """select event_id, count(*) from fct_yearly_events
        group by all having count(*) > 1 or event_id is null""")
    c.none("events without a snapshot row", """select e.employee_id, e.simulation_year, e.event_type
        from fct_yearly_events e anti join fct_workforce_snapshot s using (employee_id, simulation_year)""")
    c.none("events outside employment or the year", """
        select e.employee_id, e.simulation_year, e.event_type, e.effective_date
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.effective_date is null or e.effective_date < s.employee_hire_date
           or e.effective_date > coalesce(s.termination_date, DATE '9999-12-31')
           or year(e.effective_date) <> e.simulation_year""")
    c.none("termination dates inside the year", """select employee_id, simulation_year, termination_date
        from fct_workforce_snapshot where termination_date is not null and year(termination_date) <> simulation_year""")
    c.none("termination event = snapshot status and date", """
        select s.employee_id, s.simulation_year, s.detailed_status_code, s.termination_date, e.event_category,
               e.effective_date
        from fct_workforce_snapshot s left join fct_yearly_events e
          on e.employee_id = s.employee_id and e.simulation_year = s.simulation_year and e.event_type = 'termination'
        where s.termination_date is distinct from e.effective_date
           or (e.event_category is not null and replace(e.event_category, 'retirement', 'experienced_termination')
               <> s.detailed_status_code)""")
    c.none("at most one termination per person-year", """select employee_id, simulation_year, count(*)
        from fct_yearly_events where event_type = 'termination' group by all having count(*) > 1""")
    c.none("new-hire rows = hire events, hire level and date = snapshot", """
        select coalesce(s.employee_id, h.employee_id), s.level_id, h.to_level from
          (select * from fct_workforce_snapshot where detailed_status_code like 'new_hire%') s
          full join (select * from fct_yearly_events where event_type = 'hire') h using (employee_id, simulation_year)
        where s.employee_id is null or h.employee_id is null or s.level_id <> h.to_level
           or s.employee_hire_date <> h.effective_date or h.previous_compensation is not null""")
    c.none("hire ids unique and never a census id", """
        select employee_id, count(*) from fct_yearly_events where event_type = 'hire'
        group by 1 having count(*) > 1 or employee_id in (select employee_id from raw.census)""")
    c.none("nothing after an earlier year's termination", """
        select s.employee_id, s.simulation_year from fct_workforce_snapshot s join fct_workforce_snapshot t
          on t.employee_id = s.employee_id and t.termination_date is not null and t.simulation_year < s.simulation_year
        union all
        select e.employee_id, e.simulation_year from fct_yearly_events e join fct_workforce_snapshot t
          on t.employee_id = e.employee_id and t.termination_date is not null and t.simulation_year < e.simulation_year""")
    groups = defaultdict(list)
    for emp, year, kind, day, seq in c.rows("""select employee_id, simulation_year, event_type, effective_date,
            event_sequence from fct_yearly_events order by employee_id, simulation_year, event_sequence"""):
        groups[(emp, year)].append((kind, day, seq))
    c.bad("event sequence 1..n in (date, type rank) order", [
        (key, events) for key, events in groups.items()
        if [seq for _, _, seq in events] != list(range(1, len(events) + 1))
        or [(day, EVENT_TYPE_RANK.get(kind, 99)) for kind, day, _ in events]
        != sorted((day, EVENT_TYPE_RANK.get(kind, 99)) for kind, day, _ in events)])


# --------------------------------------------------------------------------- status and pay


def _status_and_pay(c: _Checker, years: list[int]) -> None:
    c.none("status codes follow the dates", """
        select employee_id, simulation_year, employment_status, detailed_status_code from fct_workforce_snapshot
        where employment_status <> case when termination_date is null then 'active' else 'terminated' end
           or detailed_status_code <> case
                when year(employee_hire_date) = simulation_year and termination_date is null then 'new_hire_active'
                when year(employee_hire_date) = simulation_year then 'new_hire_termination'
                when termination_date is null then 'continuous_active'
                else 'experienced_termination' end""")
    c.bad("age and tenure are completed years on Dec 31", [
        r for r in c.rows("""select employee_id, simulation_year, employee_birth_date, employee_hire_date,
                                    current_age, current_tenure from fct_workforce_snapshot""")
        if (r[4], r[5]) != (completed_years(r[2], date(r[1], 12, 31)), completed_years(r[3], date(r[1], 12, 31)))])
    c.none("retirees are start actives aged 55+ on Dec 31 of Y-1", """
        select e.employee_id, e.simulation_year from fct_yearly_events e
        join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_category = 'retirement' and (e.event_type <> 'termination'
              or s.detailed_status_code <> 'experienced_termination'
              or date_sub('year', s.employee_birth_date, make_date(e.simulation_year - 1, 12, 31)) < 55)""")
    c.none("promotions to the next level of the job-level table, on Feb 1", """
        select employee_id, simulation_year, from_level, to_level from fct_yearly_events e
        where event_type = 'promotion'
          and (to_level is distinct from (select min(level_id) from assumptions.job_levels where level_id > from_level)
               or from_level not in (select level_id from assumptions.job_levels)
               or effective_date <> make_date(simulation_year, 2, 1))""")
    c.none("every level held is a level of the job-level table", """select employee_id, simulation_year, level_id
        from fct_workforce_snapshot where level_id not in (select level_id from assumptions.job_levels)""")
    c.none("raises and promotions raise pay", """select employee_id, simulation_year, event_type
        from fct_yearly_events where event_type in ('raise', 'promotion')
          and (compensation_amount is null or previous_compensation is null
               or compensation_amount <= previous_compensation)""")
    c.none("snapshot level = level after the year's promotion", """
        select s.employee_id, s.simulation_year from fct_workforce_snapshot s join fct_yearly_events p
          on p.employee_id = s.employee_id and p.simulation_year = s.simulation_year and p.event_type = 'promotion'
        where s.level_id <> p.to_level""")
    # pay chains: every pay event starts from the rate in force (baseline / last FYE / hire salary / last event)
    rates = {(emp, min(years)): comp for emp, comp in c.rows(
        "select employee_id, current_compensation from int_baseline_workforce")}
    rates.update({(emp, year): fye for emp, year, fye in c.rows("""select employee_id, simulation_year + 1,
        full_year_equivalent_compensation from fct_workforce_snapshot where employment_status = 'active'""")})
    rates.update({(emp, year): comp for emp, year, comp in c.rows("""select employee_id, simulation_year,
        compensation_amount from fct_yearly_events where event_type = 'hire'""")})
    bad = []
    for emp, year, kind, prev, amount in c.rows("""select employee_id, simulation_year, event_type,
            previous_compensation, compensation_amount from fct_yearly_events
            where event_type in ('promotion', 'raise', 'termination')
            order by employee_id, simulation_year, event_sequence"""):
        rate = rates.get((emp, year))
        if rate is None or prev != rate or (kind == "termination" and amount != rate):
            bad.append((emp, year, kind, prev, amount, rate))
        rates[(emp, year)] = amount
    c.bad("pay events chain from the rate in force", bad)
    c.none("snapshot pay = last rate; FYE of actives = Dec 31 rate", """
        select employee_id, simulation_year from fct_workforce_snapshot
        where current_compensation is null or current_compensation <= 0
           or (employment_status = 'active' and full_year_equivalent_compensation <> current_compensation)""")


# --------------------------------------------------------------------------- eligibility and enrollment


def _birthday(birth: date, age: int) -> tuple[date, ...]:
    """The day ``age`` is reached; a Feb 29 birth reaches it on Feb 28 or Mar 1 in a common year (either is read)."""
    try:
        return (birth.replace(year=birth.year + age),)
    except ValueError:
        return date(birth.year + age, 2, 28), date(birth.year + age, 3, 1)


def _eligibility_and_enrollment(c: _Checker, config) -> None:
    waiting, min_age = config.eligibility.waiting_period_days, config.eligibility.minimum_age
    census_date = config.simulation.census_date or date(config.simulation.start_year - 1, 12, 31)
    bad = []
    for emp, year, birth, hired, elig, is_elig, term, participant in c.rows("""
            select s.employee_id, s.simulation_year, s.employee_birth_date, s.employee_hire_date, s.eligibility_date,
                   s.is_eligible, s.termination_date, coalesce(b.is_enrolled, false)
            from fct_workforce_snapshot s left join int_baseline_workforce b using (employee_id)"""):
        allowed = {max(hired + timedelta(days=waiting), day) for day in _birthday(birth, min_age)}
        if participant:  # census participants count as eligible from the census date at the latest
            allowed = {min(day, census_date) for day in allowed}
        if elig not in allowed or is_elig != (elig <= (term or date(year, 12, 31))):
            bad.append((emp, year, elig, sorted(allowed), is_elig))
    c.bad("eligibility date = max(hire + waiting period, minimum-age birthday)", bad)
    c.none("one eligibility event when the date falls in the year while employed", """
        select coalesce(s.employee_id, e.employee_id), coalesce(s.simulation_year, e.simulation_year)
        from (select * from fct_workforce_snapshot
              where year(eligibility_date) = simulation_year and eligibility_date >= employee_hire_date
                and eligibility_date <= coalesce(termination_date, DATE '9999-12-31')) s
        full join (select * from fct_yearly_events where event_type = 'eligibility') e using (employee_id, simulation_year)
        where s.employee_id is null or e.employee_id is null or s.eligibility_date <> e.effective_date""")
    c.none("enrolled implies eligible", """select employee_id, simulation_year from fct_workforce_snapshot
        where is_enrolled and (not is_eligible or eligibility_date > enrollment_date)""")
    c.none("enrollment only when eligible and employed", """
        select e.employee_id, e.simulation_year from fct_yearly_events e
        join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_type = 'enrollment' and (e.effective_date < s.eligibility_date
              or e.effective_date < s.employee_hire_date
              or e.effective_date > coalesce(s.termination_date, DATE '9999-12-31'))""")
    start_state = """start_state as (
            select employee_id, (select min(simulation_year) from fct_workforce_snapshot) as simulation_year,
                   is_enrolled from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, is_enrolled from fct_workforce_snapshot
            where employment_status = 'active')"""
    c.none("enrollment only when not enrolled at the start of the year", f"""
        with {start_state}
        select e.employee_id, e.simulation_year from fct_yearly_events e join start_state s
          using (employee_id, simulation_year) where e.event_type = 'enrollment' and s.is_enrolled""")
    c.none("at most one enrollment and one opt-out per person", """select employee_id, event_type, count(*)
        from fct_yearly_events where event_type in ('enrollment', 'opt_out') group by all having count(*) > 1""")
    auto = config.enrollment.auto_enrollment
    c.none("auto-enrollment at eligibility + window at the default rate", f"""
        select e.employee_id, e.simulation_year, e.effective_date, s.eligibility_date, e.deferral_rate
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_category = 'auto' and (e.deferral_rate <> {auto.default_deferral_rate}
              or e.effective_date < s.eligibility_date
              or (starts_with(e.employee_id, 'NH_')
                  and e.effective_date <> s.eligibility_date + {auto.window_days}))""")
    c.none("opt-out at rate 0 within the grace period after an auto-enrollment", f"""
        select o.employee_id, o.simulation_year from fct_yearly_events o
        where o.event_type = 'opt_out' and (o.deferral_rate <> 0 or not exists (
            select 1 from fct_yearly_events a where a.employee_id = o.employee_id and a.event_category = 'auto'
              and o.effective_date between a.effective_date
                                       and a.effective_date + {auto.opt_out_grace_period}))""")
    c.none("after an opt-out: not enrolled, rate 0, ever_opted_out for good", """
        select s.employee_id, s.simulation_year from fct_workforce_snapshot s join fct_yearly_events o
          on o.employee_id = s.employee_id and o.event_type = 'opt_out' and o.simulation_year <= s.simulation_year
        where s.is_enrolled or s.deferral_rate <> 0 or not s.ever_opted_out""")
    c.none("deferral rates in [0, 1], enrolled implies a rate", """
        select employee_id, simulation_year from fct_workforce_snapshot
        where deferral_rate is null or deferral_rate < 0 or deferral_rate > 1 or (is_enrolled and deferral_rate = 0)
        union all
        select employee_id, simulation_year from fct_yearly_events where event_type in ('enrollment', 'opt_out')
          and (deferral_rate is null or deferral_rate < 0 or deferral_rate > 1)""")
    c.none("snapshot enrollment state follows the events", f"""
        with {start_state},
        ev as (
            select employee_id, simulation_year,
                   max(effective_date) filter (where event_type = 'enrollment') as enrolled_on,
                   bool_or(event_type = 'opt_out') as opted_out
            from fct_yearly_events group by all)
        select s.employee_id, s.simulation_year, s.is_enrolled, s.enrollment_date, ev.enrolled_on
        from fct_workforce_snapshot s left join start_state st using (employee_id, simulation_year)
        left join ev using (employee_id, simulation_year)
        where s.is_enrolled <> ((coalesce(st.is_enrolled, false) or ev.enrolled_on is not null)
                                and not coalesce(ev.opted_out, false))
           or (ev.enrolled_on is not null and s.enrollment_date <> ev.enrolled_on)""")


# --------------------------------------------------------------------------- plan money


MONEY_TYPE = "DECIMAL(18,2)"


def _money(c: _Checker, years: list[int], config) -> None:
    if not c.table_exists("fct_dc_contributions"):
        if config.plan.enabled:
            c.problems["money tables missing"] = True
        return
    if not config.plan.enabled:
        c.none("no money rows when the plan is off", "select employee_id, simulation_year from fct_dc_contributions")
        return
    c.none("one money row per snapshot row", """
        select coalesce(s.employee_id, m.employee_id), coalesce(s.simulation_year, m.simulation_year)
        from fct_workforce_snapshot s full join fct_dc_contributions m using (employee_id, simulation_year)
        where s.employee_id is null or m.employee_id is null""")
    c.none("one money row per employee-year", """select employee_id, simulation_year, count(*)
        from fct_dc_contributions group by all having count(*) > 1""")
    types = dict(c.rows("select column_name, column_type from (describe fct_dc_contributions)"))
    amounts = [name for name, kind in types.items() if kind == MONEY_TYPE]
    c.bad("money columns are whole cents, never DOUBLE", [(n, k) for n, k in types.items()
                                                          if k in ("DOUBLE", "FLOAT", "REAL")])
    if len(amounts) < 20:
        c.problems["money columns"] = amounts
        return
    c.none("no negative amounts", f"""select employee_id, simulation_year from fct_dc_contributions
        where least({', '.join(amounts)}) < 0""")
    frame = """with m as (
        select m.*, l.elective_deferral_402g, l.catch_up_50, l.catch_up_60_63, l.annual_additions_415c,
               s.termination_date
        from fct_dc_contributions m
        join int_irs_limits_by_year l on l.limit_year = m.simulation_year
        join fct_workforce_snapshot s using (employee_id, simulation_year))"""
    c.none("pre-tax + Roth = deferral; Roth only when offered", f"""select employee_id, simulation_year
        from fct_dc_contributions where pre_tax_deferral + roth_deferral <> employee_deferral
           {'' if config.plan.deferrals.roth.enabled else 'or roth_deferral <> 0'}""")
    c.none("deferral <= requested and <= 402(g) + catch-up limit", frame + """
        select employee_id, simulation_year, employee_deferral, requested_deferral, elective_limit from m
        where employee_deferral > requested_deferral or employee_deferral > elective_limit
           or elective_limit <> elective_deferral_402g + catch_up_limit""")
    c.none("catch-up within its limit and only from age 50", frame + """
        select employee_id, simulation_year from m
        where catch_up_deferral > catch_up_limit or (catch_up_deferral > 0 and age_dec31 < 50)
           or (catch_up_limit > 0 and catch_up_limit not in (catch_up_50, catch_up_60_63))""")
    c.none("annual additions identity, within 415 exactly", frame + """
        select employee_id, simulation_year from m
        where annual_additions <> employee_deferral - catch_up_deferral + employer_match + employer_core
           or limit_415 <> least(plan_comp, annual_additions_415c) or annual_additions > limit_415""")
    c.none("match = true-up basis without a 415 reduction, only with a deferral and eligibility", """
        select employee_id, simulation_year from fct_dc_contributions
        where (not reduced_415 and employer_match <> match_true_up_basis)
           or (employer_match > 0 and (employee_deferral = 0 or not match_eligible))""")
    c.none("plan pay = the snapshot's prorated pay", """
        select employee_id, simulation_year from fct_dc_contributions m join fct_workforce_snapshot s
        using (employee_id, simulation_year) where m.plan_comp <> s.prorated_annual_compensation""")
    c.none("balances roll forward; vested shares in [0, 1]", """select employee_id, simulation_year
        from fct_dc_contributions
        where match_balance_eoy + core_balance_eoy <> match_balance_boy + core_balance_boy + employer_match
              + employer_core - vested_amount - forfeited_amount
           or vested_pct_match not between 0 and 1 or vested_pct_core not between 0 and 1""")
    c.none("opening balance = last year's closing balance", f"""
        select m.employee_id, m.simulation_year from fct_dc_contributions m
        left join fct_dc_contributions p on p.employee_id = m.employee_id and p.simulation_year = m.simulation_year - 1
        where m.simulation_year > {min(years)} and (m.match_balance_boy <> coalesce(p.match_balance_eoy, 0)
              or m.core_balance_boy <> coalesce(p.core_balance_eoy, 0))""")
    c.none("actives neither vest out nor forfeit; leavers take or forfeit everything", frame + """
        select employee_id, simulation_year from m
        where (termination_date is null and (forfeited_amount <> 0 or vested_amount <> 0))
           or (termination_date is not null and (match_balance_eoy <> 0 or core_balance_eoy <> 0
               or vested_amount + forfeited_amount
                  <> match_balance_boy + core_balance_boy + employer_match + employer_core))""")
    immediate = config.plan.match.vesting.schedule == "immediate" and not config.plan.core.enabled
    c.none("nothing forfeited at normal retirement age (or under immediate vesting)", f"""
        select employee_id, simulation_year from fct_dc_contributions where forfeited_amount <> 0
          and (age_dec31 >= {config.plan.normal_retirement_age} or {str(immediate).lower()})""")
    summary = {r[0]: r[1:] for r in c.rows("""select simulation_year, headcount, total_employee_deferrals,
        total_roth, total_catch_up, total_match, total_core, total_employer_gross, forfeitures_generated, payroll,
        forfeiture_pool_boy, forfeitures_applied, forfeiture_pool_eoy, net_employer_cost, forfeitures_prior_unknown
        from fct_dc_plan_summary order by 1""")}
    sums = {r[0]: r[1:] for r in c.rows("""select simulation_year, count(*), sum(employee_deferral),
        sum(roth_deferral), sum(catch_up_deferral), sum(employer_match), sum(employer_core), sum(employer_total),
        sum(forfeited_amount), sum(plan_comp) from fct_dc_contributions group by 1""")}
    if sorted(summary) != years:
        c.problems["plan summary years"] = sorted(summary)
    previous_eoy = None
    for year in sorted(summary):
        head, pool = summary[year][:9], summary[year][9:]
        if head != sums.get(year):
            c.problems[f"{year} plan summary = sums of rows"] = (head, sums.get(year))
        boy, applied, eoy, net, unknown = pool
        if applied is None:  # documented: null in a first year without an opening pool (and only there)
            if not (unknown and year == min(years) and boy == 0):
                c.problems[f"{year} forfeitures_applied null"] = pool
            applied = Decimal(0)
        gross, generated = head[6], head[7]
        reduces = config.plan.forfeitures.use == "reduce_employer_contributions"
        if (previous_eoy is not None and boy != previous_eoy) or applied > boy or eoy != boy - applied + generated \
                or (reduces and (applied != min(boy, gross) or net != gross - applied or net < 0)):
            c.problems[f"{year} forfeiture pool"] = (pool, previous_eoy, gross, generated)
        previous_eoy = eoy
