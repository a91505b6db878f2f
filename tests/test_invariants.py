"""Every invariant of docs/domain.md section 5, checked on ONE shared 5-year run (3,000 employees).

Each test states one rule and asserts it with SQL (or an independent Python re-computation)
against fct_yearly_events, fct_workforce_snapshot and int_workforce_requirements.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from helpers.common import completed_years
from helpers.invariants import EVENT_TYPE_RANK, REQUIREMENT_COLUMNS, expected_requirements, invariant_problems
from helpers.sims import CENSUS_DATE, HIRING_RANGES, NEW_HIRE_ID, CensusSpec, SimSpec, days_in_year, largest_remainder
from helpers.sql import rows, scalar

YEARS = list(range(2025, 2030))
SPEC = SimSpec.make(CensusSpec.generated(3000, 7), end_year=2029)
WAITING_DAYS, MIN_AGE, WINDOW_DAYS, GRACE_DAYS, AUTO_DEFERRAL = 30, 21, 45, 30, Decimal("0.06")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(sims):
    run = sims.get(SPEC)
    assert run.result["success"], run.result
    assert run.result["completed_years"] == YEARS
    return run


@pytest.fixture(scope="module")
def con(run):
    con = run.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def start_rates(con):
    """Rate in force at the start of each (employee, year): baseline / previous FYE / hire salary."""
    rates = {}
    for emp, comp in rows(con, "select employee_id, current_compensation from int_baseline_workforce"):
        rates[(emp, YEARS[0])] = comp
    for emp, year, fye in rows(con, """select employee_id, simulation_year + 1, full_year_equivalent_compensation
                                       from fct_workforce_snapshot where employment_status = 'active'"""):
        rates[(emp, year)] = fye
    for emp, year, comp in rows(con, "select employee_id, simulation_year, compensation_amount "
                                     "from fct_yearly_events where event_type = 'hire'"):
        rates[(emp, year)] = comp
    return rates


def _violations(con, sql: str, params=None, limit: int = 5):
    """Rows that break a rule (the SQL selects them), capped for a readable assertion message."""
    found = rows(con, sql, params)
    return len(found), found[:limit]


# --------------------------------------------------------------------------- identity


def test_one_snapshot_row_per_employee_year(con):
    assert _violations(con, """select employee_id, simulation_year, count(*) from fct_workforce_snapshot
                               group by all having count(*) > 1""") == (0, [])
    assert sorted(r[0] for r in rows(con, "select distinct simulation_year from fct_workforce_snapshot")) == YEARS


def test_event_ids_unique(con):
    total, distinct, nulls = rows(con, """select count(*), count(distinct event_id), count(*) - count(event_id)
                                          from fct_yearly_events""")[0]
    assert total > 10_000 and nulls == 0 and distinct == total


def test_snapshot_and_events_use_only_domain_codes(con):
    pairs = set(rows(con, "select distinct event_type, event_category from fct_yearly_events"))
    assert pairs == {("hire", "new_hire"), ("termination", "experienced_termination"), ("termination", "retirement"),
                     ("termination", "new_hire_termination"), ("promotion", "promotion"), ("raise", "merit_cola"),
                     ("eligibility", "plan_eligibility"), ("enrollment", "auto"), ("enrollment", "proactive"),
                     ("enrollment", "voluntary"), ("opt_out", "auto_opt_out"),
                     # the match response of the first simulated year (docs/plan_rules.md, R2a), on by default
                     ("deferral_match_response", "upward"), ("deferral_match_response", "downward")}
    codes = set(rows(con, "select distinct employment_status, detailed_status_code from fct_workforce_snapshot"))
    assert codes == {("active", "continuous_active"), ("active", "new_hire_active"),
                     ("terminated", "experienced_termination"), ("terminated", "new_hire_termination")}


# --------------------------------------------------------------------------- headcount


def test_requirements_follow_domain_formula(con):
    req = rows(con, f"""select simulation_year, start_headcount, target_growth_rate, total_termination_rate,
                               new_hire_termination_rate, {', '.join(REQUIREMENT_COLUMNS)}
                        from int_workforce_requirements order by 1""")
    retired = dict(rows(con, """select simulation_year, count(*) from fct_yearly_events
                                where event_category = 'retirement' group by 1"""))
    assert [r[0] for r in req] == YEARS
    for year, n, g, t, h, *got in req:
        # R counted from the events, the rest recomputed from N, g, t, h and R
        exp = expected_requirements(n, g, t, h, retired.get(year, 0))
        assert dict(zip(REQUIREMENT_COLUMNS, got)) == exp, year
        assert (float(g), float(t), float(h)) == (0.03, 0.12, 0.25)
    assert sum(retired.values()) > 20


def test_active_end_equals_target_end(con):
    got = rows(con, """select r.simulation_year, r.target_end_headcount,
                              count(*) filter (where s.employment_status = 'active')
                       from int_workforce_requirements r join fct_workforce_snapshot s using (simulation_year)
                       group by all order by 1""")
    assert len(got) == len(YEARS)
    assert [(y, target) for y, target, _ in got] == [(y, active) for y, _, active in got]


def test_start_of_next_year_equals_active_end(con):
    baseline = scalar(con, "select count(*) from int_baseline_workforce")
    starts = dict(rows(con, "select simulation_year, start_headcount from int_workforce_requirements"))
    ends = dict(rows(con, """select simulation_year, count(*) from fct_workforce_snapshot
                             where employment_status = 'active' group by 1"""))
    assert starts[YEARS[0]] == baseline == scalar(con, """select count(*) from raw.census
        where employee_termination_date is null or employee_termination_date > DATE '2024-12-31'""")
    for year in YEARS[1:]:
        assert starts[year] == ends[year - 1], year
    # Same people, not only the same count: the non-hires of Y+1 are exactly the actives of Y.
    assert _violations(con, """
        select coalesce(p.employee_id, c.employee_id), p.simulation_year, c.simulation_year
        from (select employee_id, simulation_year from fct_workforce_snapshot where employment_status = 'active'
              and simulation_year < 2029) p
        full join (select employee_id, simulation_year - 1 as simulation_year from fct_workforce_snapshot
                   where detailed_status_code in ('continuous_active', 'experienced_termination')
                     and simulation_year > 2025) c using (employee_id, simulation_year)
        where p.employee_id is null or c.employee_id is null""") == (0, [])
    assert _violations(con, """
        select coalesce(b.employee_id, s.employee_id) from int_baseline_workforce b
        full join (select employee_id from fct_workforce_snapshot where simulation_year = 2025
                   and detailed_status_code in ('continuous_active', 'experienced_termination')) s using (employee_id)
        where b.employee_id is null or s.employee_id is null""") == (0, [])


def test_event_counts_match_requirements(con):
    got = rows(con, """
        select r.simulation_year,
               r.total_experienced_terminations,
               count(*) filter (where e.event_category in ('experienced_termination', 'retirement')),
               r.retirements, count(*) filter (where e.event_category = 'retirement'),
               r.total_hires, count(*) filter (where e.event_type = 'hire'),
               r.new_hire_terminations, count(*) filter (where e.event_category = 'new_hire_termination')
        from int_workforce_requirements r left join fct_yearly_events e using (simulation_year)
        group by all order by 1""")
    assert len(got) == len(YEARS)
    for year, q_exp, n_exp, r, n_r, hires, n_hires, q_nh, n_nh in got:
        assert (n_exp, n_r, n_hires, n_nh) == (q_exp, r, hires, q_nh), year
        assert q_exp > 0 and hires > 0 and q_nh > 0


def test_termination_kinds_match_who_left(con):
    # experienced terminations only for start actives, new-hire terminations only for this year's hires
    assert _violations(con, """
        select e.employee_id, e.simulation_year, e.event_category, s.detailed_status_code
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_type = 'termination'
          and replace(e.event_category, 'retirement', 'experienced_termination') <> s.detailed_status_code""") == (0, [])
    assert _violations(con, """
        select employee_id, simulation_year, count(*) from fct_yearly_events
        where event_type = 'termination' group by all having count(*) > 1""") == (0, [])


def test_retirements_are_start_actives_aged_55_or_more(con):
    """Nobody under 55 (on Dec 31 of Y-1, from the birth date) retires; retirees leave once, by retirement only."""
    found = rows(con, """
        select e.employee_id, e.simulation_year, s.employee_birth_date, s.detailed_status_code, e.event_type
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_category = 'retirement'""")
    assert len(found) > 20
    bad = [r for r in found
           if completed_years(r[2], date(r[1] - 1, 12, 31)) < 55 or r[3] != "experienced_termination"
           or r[4] != "termination"]
    assert bad == []
    # the age decides, through the rate table: retirees are exactly the int_retirements rows of the last year
    last = rows(con, "select employee_id, current_age from int_retirements order by 1")
    assert last == sorted((emp, completed_years(birth, date(2028, 12, 31)))
                          for emp, year, birth, _, _ in found if year == 2029)


# --------------------------------------------------------------------------- dates


def test_no_event_before_hire_or_after_termination(con):
    assert _violations(con, """
        select e.employee_id, e.simulation_year, e.event_type, e.effective_date, s.employee_hire_date, s.termination_date
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.effective_date < s.employee_hire_date
           or e.effective_date > coalesce(s.termination_date, DATE '9999-12-31')""") == (0, [])
    assert _violations(con, """select e.employee_id, e.simulation_year from fct_yearly_events e
                               anti join fct_workforce_snapshot s using (employee_id, simulation_year)""") == (0, [])


def test_all_dates_inside_the_year(con):
    assert _violations(con, """select employee_id, simulation_year, event_type, effective_date from fct_yearly_events
                               where year(effective_date) <> simulation_year or effective_date is null""") == (0, [])
    assert _violations(con, """select employee_id, simulation_year, termination_date from fct_workforce_snapshot
                               where termination_date is not null and year(termination_date) <> simulation_year""") == (0, [])
    # the termination event and the snapshot agree on the date
    assert _violations(con, """
        select s.employee_id, s.simulation_year, s.termination_date, e.effective_date
        from fct_workforce_snapshot s left join fct_yearly_events e
          on e.employee_id = s.employee_id and e.simulation_year = s.simulation_year and e.event_type = 'termination'
        where s.termination_date is distinct from e.effective_date""") == (0, [])


def test_nothing_for_people_terminated_in_an_earlier_year(con):
    assert _violations(con, """
        select e.employee_id, e.simulation_year, e.event_type
        from fct_yearly_events e join fct_workforce_snapshot t
          on t.employee_id = e.employee_id and t.termination_date is not null and t.simulation_year < e.simulation_year
    """) == (0, [])
    assert _violations(con, """
        select s.employee_id, s.simulation_year
        from fct_workforce_snapshot s join fct_workforce_snapshot t
          on t.employee_id = s.employee_id and t.termination_date is not null and t.simulation_year < s.simulation_year
    """) == (0, [])


def test_hire_ids(con):
    # This census's ids cannot collide with hire ids; the collision guard is tested on a census holding
    # NH_<year>_<n> ids the unguarded scheme would give (tests/test_unusual_census.py, "hire_ids").
    hires = rows(con, "select employee_id, simulation_year from fct_yearly_events where event_type = 'hire'")
    census_ids = {r[0] for r in rows(con, "select employee_id from raw.census")}
    ids = [emp for emp, _ in hires]
    assert len(ids) == len(set(ids)) > 0
    assert not set(ids) & census_ids
    per_year = defaultdict(list)
    for emp, year in hires:
        m = NEW_HIRE_ID.match(emp)
        assert m and int(m.group(1)) == year, emp
        per_year[year].append(int(m.group(2)))
    # sequences 1..H within each year
    for year, seqs in per_year.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), year
    # snapshot new hires are exactly the hire events
    assert _violations(con, """
        select coalesce(s.employee_id, e.employee_id) from
          (select employee_id, simulation_year from fct_workforce_snapshot where detailed_status_code like 'new_hire%') s
          full join (select employee_id, simulation_year from fct_yearly_events where event_type = 'hire') e
          using (employee_id, simulation_year)
        where s.employee_id is null or e.employee_id is null""") == (0, [])


def test_new_hire_termination_dates(con):
    found = rows(con, """
        select t.employee_id, h.effective_date, t.effective_date, t.simulation_year
        from fct_yearly_events t join fct_yearly_events h using (employee_id, simulation_year)
        where t.event_category = 'new_hire_termination' and h.event_type = 'hire'""")
    assert len(found) == scalar(con, "select count(*) from fct_yearly_events where event_category = 'new_hire_termination'")
    bad = []
    for emp, hired, left, year in found:
        dec31 = date(year, 12, 31)
        if hired + timedelta(days=30) <= dec31:
            ok = hired + timedelta(days=30) <= left <= dec31
        else:
            ok = (hired + timedelta(days=1) <= left or left == dec31) and hired <= left <= dec31
        if not ok:
            bad.append((emp, hired, left))
    assert bad == []
    assert any(left - hired > timedelta(days=60) for _, hired, left, _ in found)


# --------------------------------------------------------------------------- compensation


def test_promotions_one_level_on_feb_first_with_8_to_15_percent(con):
    assert _violations(con, """
        select employee_id, simulation_year, from_level, to_level, effective_date, previous_compensation,
               compensation_amount
        from fct_yearly_events where event_type = 'promotion'
          and (to_level <> from_level + 1 or to_level > 5 or from_level < 1
               or effective_date <> make_date(simulation_year, 2, 1)
               or compensation_amount < round(previous_compensation * 1.08, 2) - 0.01
               or compensation_amount > round(previous_compensation * 1.15, 2) + 0.01)""") == (0, [])
    assert scalar(con, "select count(*) from fct_yearly_events where event_type = 'promotion'") > 500
    # the drawn raises spread over the range, not a constant
    lo, hi = rows(con, """select min(compensation_amount / previous_compensation), max(compensation_amount / previous_compensation)
                          from fct_yearly_events where event_type = 'promotion'""")[0]
    assert lo < 1.09 and hi > 1.14


def test_promotion_level_is_the_level_held(con):
    # from_level is the level at the start of the year (baseline or previous snapshot)
    assert _violations(con, """
        with start_level as (
            select employee_id, 2025 as simulation_year, level_id from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, level_id from fct_workforce_snapshot where employment_status = 'active')
        select e.employee_id, e.simulation_year, e.from_level, l.level_id
        from fct_yearly_events e left join start_level l using (employee_id, simulation_year)
        where e.event_type = 'promotion' and e.from_level is distinct from l.level_id""") == (0, [])
    # the snapshot level is the level after the year's promotion
    assert _violations(con, """
        select s.employee_id, s.simulation_year, s.level_id, p.to_level
        from fct_workforce_snapshot s join fct_yearly_events p
          on p.employee_id = s.employee_id and p.simulation_year = s.simulation_year and p.event_type = 'promotion'
        where s.level_id <> p.to_level""") == (0, [])


def test_every_raise_increases_pay(con):
    assert _violations(con, """
        select employee_id, simulation_year, previous_compensation, compensation_amount from fct_yearly_events
        where event_type in ('raise', 'promotion')
          and (compensation_amount is null or previous_compensation is null
               or compensation_amount <= previous_compensation)""") == (0, [])


def test_merit_rate_is_level_merit_plus_cola(con):
    # Rate = merit(level after promotion) + COLA: 3.0/3.0/3.25/3.5/3.75 % + 0.5 %, rounded once to the cent
    found = rows(con, """
        select r.employee_id, r.simulation_year, r.previous_compensation, r.compensation_amount,
               coalesce(p.to_level, r.to_level) as level_after_promotion
        from fct_yearly_events r left join fct_yearly_events p
          on p.employee_id = r.employee_id and p.simulation_year = r.simulation_year and p.event_type = 'promotion'
        where r.event_type = 'raise'""")
    assert len(found) > 10_000
    merit = {1: Decimal("0.03"), 2: Decimal("0.03"), 3: Decimal("0.0325"), 4: Decimal("0.035"), 5: Decimal("0.0375")}
    bad = [r for r in found
           if r[3] != (r[2] * (1 + merit[r[4]] + Decimal("0.005"))).quantize(Decimal("0.01"), ROUND_HALF_UP)]
    assert bad[:5] == [] and len(bad) == 0


def test_compensation_events_are_chronologically_chained(con, start_rates):
    events = rows(con, """select employee_id, simulation_year, event_type, previous_compensation, compensation_amount
                          from fct_yearly_events where event_type in ('promotion', 'raise', 'termination')
                          order by employee_id, simulation_year, event_sequence""")
    assert events
    bad, current = [], {}
    for emp, year, kind, prev, amount in events:
        rate = current.get((emp, year), start_rates.get((emp, year)))
        if rate is None or prev != rate or (kind == "termination" and amount != rate):
            bad.append((emp, year, kind, prev, amount, rate))
        current[(emp, year)] = amount
    assert bad[:5] == [] and len(bad) == 0


def test_merit_and_promotion_only_with_one_year_of_tenure(con):
    found = rows(con, """
        select e.employee_id, e.simulation_year, e.event_type, s.employee_hire_date
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_type in ('raise', 'promotion')""")
    bad = [r for r in found if completed_years(r[3], date(r[1] - 1, 12, 31)) < 1]
    assert found and bad == []
    # cross-check with the tenure the previous snapshot / the baseline recorded
    assert _violations(con, """
        with start_tenure as (
            select employee_id, 2025 as simulation_year, current_tenure from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, current_tenure from fct_workforce_snapshot
            where employment_status = 'active')
        select e.employee_id, e.simulation_year, t.current_tenure
        from fct_yearly_events e left join start_tenure t using (employee_id, simulation_year)
        where e.event_type in ('raise', 'promotion') and coalesce(t.current_tenure, -1) < 1""") == (0, [])
    # and everyone eligible for merit who stayed employed through the year got one
    assert _violations(con, """
        select s.employee_id, s.simulation_year from fct_workforce_snapshot s
        where s.detailed_status_code = 'continuous_active'
          and date_sub('year', s.employee_hire_date, make_date(s.simulation_year - 1, 12, 31)) >= 1
          and not exists (select 1 from fct_yearly_events e where e.employee_id = s.employee_id
                          and e.simulation_year = s.simulation_year and e.event_type = 'raise')""") == (0, [])


def test_age_and_tenure_grow_by_one_for_continuing_employees(con):
    assert _violations(con, """
        select cur.employee_id, cur.simulation_year, prev.current_age, cur.current_age, prev.current_tenure, cur.current_tenure
        from fct_workforce_snapshot cur join fct_workforce_snapshot prev
          on prev.employee_id = cur.employee_id and prev.simulation_year = cur.simulation_year - 1
        where cur.current_age <> prev.current_age + 1 or cur.current_tenure <> prev.current_tenure + 1""") == (0, [])
    assert scalar(con, """select count(*) from fct_workforce_snapshot cur join fct_workforce_snapshot prev
                          on prev.employee_id = cur.employee_id and prev.simulation_year = cur.simulation_year - 1""") > 10_000
    # and both are completed years on Dec 31 of Y, day-exact
    found = rows(con, """select employee_id, simulation_year, employee_birth_date, employee_hire_date, current_age,
                                current_tenure from fct_workforce_snapshot""")
    bad = [r for r in found if (r[4], r[5]) != (completed_years(r[2], date(r[1], 12, 31)),
                                                  completed_years(r[3], date(r[1], 12, 31)))]
    assert bad[:5] == [] and len(bad) == 0


def test_bands_match_age_and_tenure(con):
    assert _violations(con, """
        select employee_id, simulation_year, current_age, age_band, current_tenure, tenure_band
        from fct_workforce_snapshot
        where age_band is distinct from case when current_age < 25 then '<25' when current_age < 35 then '25-34'
                                             when current_age < 45 then '35-44' when current_age < 55 then '45-54'
                                             when current_age < 65 then '55-64' else '65+' end
           or tenure_band is distinct from case when current_tenure < 2 then '<2' when current_tenure < 5 then '2-4'
                                                when current_tenure < 10 then '5-9' when current_tenure < 20 then '10-19'
                                                else '20+' end""") == (0, [])


# --------------------------------------------------------------------------- plan


def test_enrolled_implies_eligible_in_every_snapshot_row(con):
    assert _violations(con, """
        select employee_id, simulation_year, is_enrolled, enrollment_date, is_eligible, eligibility_date
        from fct_workforce_snapshot
        where is_enrolled and (not is_eligible or eligibility_date > enrollment_date)""") == (0, [])
    # the census participants the rule is about: under 21 or hired less than 30 days before the census date
    assert scalar(con, """select count(*) from int_baseline_workforce
                          where is_enrolled and (current_age < 21 or employee_hire_date > DATE '2024-12-01')""") > 0


def test_eligibility_date_and_events(con):
    found = rows(con, """select s.employee_id, s.simulation_year, s.employee_birth_date, s.employee_hire_date,
                                s.eligibility_date, s.is_eligible, s.termination_date, coalesce(b.is_enrolled, false)
                         from fct_workforce_snapshot s left join int_baseline_workforce b using (employee_id)""")
    bad = []
    for emp, year, birth, hired, elig, is_elig, term, census_participant in found:
        try:
            age_day = birth.replace(year=birth.year + MIN_AGE)
        except ValueError:  # Feb 29
            age_day = date(birth.year + MIN_AGE, 2, 28)
        expected = max(hired + timedelta(days=WAITING_DAYS), age_day)
        if census_participant:  # eligible from the census date at the latest (docs/domain.md step 8)
            expected = min(expected, CENSUS_DATE)
        if elig != expected and not (birth.month == 2 and birth.day == 29):
            bad.append((emp, year, elig, expected))
        if is_elig != (elig <= (term or date(year, 12, 31))):
            bad.append((emp, year, "is_eligible", is_elig, elig, term))
    assert bad[:5] == [] and len(bad) == 0
    # one eligibility event exactly when the date falls in Y while employed
    assert _violations(con, """
        select coalesce(s.employee_id, e.employee_id), coalesce(s.simulation_year, e.simulation_year),
               s.eligibility_date, e.effective_date
        from (select * from fct_workforce_snapshot
              where year(eligibility_date) = simulation_year and eligibility_date >= employee_hire_date
                and eligibility_date <= coalesce(termination_date, DATE '9999-12-31')) s
        full join (select * from fct_yearly_events where event_type = 'eligibility') e using (employee_id, simulation_year)
        where s.employee_id is null or e.employee_id is null or s.eligibility_date <> e.effective_date""") == (0, [])


def test_enrollment_only_when_eligible_employed_and_not_enrolled(con):
    assert _violations(con, """
        select e.employee_id, e.simulation_year, e.event_category, e.effective_date, s.eligibility_date
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_type = 'enrollment'
          and (e.effective_date < s.eligibility_date or e.effective_date < s.employee_hire_date
               or e.effective_date > coalesce(s.termination_date, DATE '9999-12-31'))""") == (0, [])
    # not enrolled at the start of the year (baseline / previous snapshot)
    assert _violations(con, """
        with start_state as (
            select employee_id, 2025 as simulation_year, is_enrolled from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, is_enrolled from fct_workforce_snapshot
            where employment_status = 'active')
        select e.employee_id, e.simulation_year, e.event_category
        from fct_yearly_events e join start_state s using (employee_id, simulation_year)
        where e.event_type = 'enrollment' and s.is_enrolled""") == (0, [])
    # census participants (deferral > 0) never enroll again
    assert _violations(con, """
        select e.employee_id from fct_yearly_events e join raw.census c using (employee_id)
        where e.event_type = 'enrollment' and c.employee_deferral_rate > 0""") == (0, [])
    assert scalar(con, "select count(*) from fct_yearly_events where event_type = 'enrollment'") > 1000


def test_nobody_enrolls_twice(con):
    assert _violations(con, """select employee_id, count(*), list(simulation_year) from fct_yearly_events
                               where event_type = 'enrollment' group by 1 having count(*) > 1""") == (0, [])
    assert _violations(con, """select employee_id, count(*) from fct_yearly_events
                               where event_type = 'opt_out' group by 1 having count(*) > 1""") == (0, [])


def test_auto_and_proactive_enrollment_timing(con):
    # new hires only (default scope): auto at eligibility + 45 days, at 6 %; proactive inside the window
    assert _violations(con, """
        select e.employee_id, e.simulation_year, e.event_category, e.effective_date, s.eligibility_date, e.deferral_rate
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where (e.event_category = 'auto' and (e.effective_date <> s.eligibility_date + 45 or e.deferral_rate <> 0.06
                                              or not starts_with(e.employee_id, 'NH_')))
           or (e.event_category = 'proactive' and (e.effective_date >= s.eligibility_date + 45
                                                   or not starts_with(e.employee_id, 'NH_')))
           or (e.event_category = 'voluntary' and starts_with(e.employee_id, 'NH_'))""") == (0, [])
    # and nobody in scope is missed: every hire still employed at eligibility + 45 days (inside the run)
    # is enrolled by then, automatically or by choice
    total, missing = rows(con, """
        with hires as (
            select employee_id, min(eligibility_date) as eligibility_date, max(termination_date) as termination_date
            from fct_workforce_snapshot where starts_with(employee_id, 'NH_') group by 1)
        select count(*), count(*) filter (where not exists (
            select 1 from fct_yearly_events e where e.employee_id = hires.employee_id
              and e.event_type = 'enrollment' and e.effective_date <= hires.eligibility_date + 45))
        from hires
        where eligibility_date + 45 <= DATE '2029-12-31'
          and (termination_date is null or termination_date >= eligibility_date + 45)""")[0]
    assert total > 1000 and missing == 0


def test_opt_out_only_after_an_auto_enrollment(con):
    found = rows(con, """
        select o.employee_id, o.simulation_year, o.effective_date, o.deferral_rate,
               (select max(a.effective_date) from fct_yearly_events a where a.employee_id = o.employee_id
                and a.event_category = 'auto' and a.effective_date <= o.effective_date) as auto_date
        from fct_yearly_events o where o.event_type = 'opt_out'""")
    assert len(found) > 100
    bad = [r for r in found if r[4] is None or not (0 <= (r[2] - r[4]).days <= GRACE_DAYS) or r[3] != 0]
    assert bad == []
    # after an opt-out: not enrolled, deferral 0, ever_opted_out for good
    assert _violations(con, """
        select s.employee_id, s.simulation_year, s.is_enrolled, s.deferral_rate, s.ever_opted_out
        from fct_workforce_snapshot s join fct_yearly_events o
          on o.employee_id = s.employee_id and o.event_type = 'opt_out' and o.simulation_year <= s.simulation_year
        where s.is_enrolled or s.deferral_rate <> 0 or not s.ever_opted_out""") == (0, [])


def test_deferral_rates_in_unit_interval(con):
    assert _violations(con, """select employee_id, simulation_year, deferral_rate from fct_yearly_events
                               where event_type in ('enrollment', 'opt_out')
                                 and (deferral_rate is null or deferral_rate < 0 or deferral_rate > 1)""") == (0, [])
    assert _violations(con, """select employee_id, simulation_year, deferral_rate from fct_workforce_snapshot
                               where deferral_rate is null or deferral_rate < 0 or deferral_rate > 1
                                  or (is_enrolled and deferral_rate = 0)""") == (0, [])
    rates = {r[0] for r in rows(con, """select distinct deferral_rate from fct_yearly_events
                                        where event_category in ('proactive', 'voluntary')""")}
    assert rates == {Decimal(x) for x in ("0.03", "0.06", "0.10", "0.15", "0.20")}


def test_enrollment_state_in_snapshot_follows_events(con):
    # enrolled on Dec 31 (or at termination) = enrolled at the start and no opt-out, or an enrollment this year
    assert _violations(con, """
        with start_state as (
            select employee_id, 2025 as simulation_year, is_enrolled from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, is_enrolled from fct_workforce_snapshot
            where employment_status = 'active'),
        ev as (
            select employee_id, simulation_year, max(effective_date) filter (where event_type = 'enrollment') as enrolled_on,
                   max(deferral_rate) filter (where event_type = 'enrollment') as rate,
                   bool_or(event_type = 'opt_out') as opted_out
            from fct_yearly_events group by all)
        select s.employee_id, s.simulation_year, s.is_enrolled, s.enrollment_date, ev.enrolled_on, s.deferral_rate, ev.rate
        from fct_workforce_snapshot s left join start_state st using (employee_id, simulation_year)
        left join ev using (employee_id, simulation_year)
        where s.is_enrolled <> ((coalesce(st.is_enrolled, false) or ev.enrolled_on is not null)
                                and not coalesce(ev.opted_out, false))
           or (ev.enrolled_on is not null and (s.enrollment_date <> ev.enrolled_on
                                                or (not ev.opted_out and s.deferral_rate <> ev.rate)))""") == (0, [])


# --------------------------------------------------------------------------- raise months


def test_raise_month_shares_match_distribution(con):
    shares = dict(rows(con, "select month, share from stg_raise_month_distribution"))
    assert sum(shares.values()) == pytest.approx(1, abs=1e-9)
    counts = dict(rows(con, "select month(effective_date), count(*) from fct_yearly_events "
                            "where event_type = 'raise' group by 1"))
    total = sum(counts.values())
    assert total > 10_000  # 5 years x ~2,500 raises: sd of a share < 0.5 point
    off = {m: round(counts.get(m, 0) / total - float(shares[m]), 4) for m in range(1, 13)
           if abs(counts.get(m, 0) / total - float(shares[m])) > 0.02}
    assert off == {}
    # Every month gets raises, and the counts pass a chi-square test at p = 0.001 (11 degrees of freedom):
    # a month drawn at half or double its share fails it.
    assert sorted(counts) == list(range(1, 13))
    statistic = sum((counts[m] - total * float(shares[m])) ** 2 / (total * float(shares[m])) for m in range(1, 13))
    assert statistic < 31.26, (statistic, counts)


# --------------------------------------------------------------------------- snapshot


def test_status_codes_consistent(con):
    assert _violations(con, """
        select employee_id, simulation_year, employment_status, detailed_status_code, employee_hire_date, termination_date
        from fct_workforce_snapshot
        where employment_status <> case when termination_date is null then 'active' else 'terminated' end
           or detailed_status_code <> case
                when year(employee_hire_date) = simulation_year and termination_date is null then 'new_hire_active'
                when year(employee_hire_date) = simulation_year then 'new_hire_termination'
                when termination_date is null then 'continuous_active'
                else 'experienced_termination' end""") == (0, [])


def _prorated_mismatches(con, start_rates, tolerance: Decimal):
    snap = {(r[0], r[1]): r[2:] for r in rows(con, """
        select employee_id, simulation_year, employee_hire_date, termination_date, prorated_annual_compensation,
               current_compensation from fct_workforce_snapshot""")}
    changes = defaultdict(list)
    for emp, year, day, amount in rows(con, """select employee_id, simulation_year, effective_date, compensation_amount
                                               from fct_yearly_events where event_type in ('promotion', 'raise')
                                               order by employee_id, simulation_year, event_sequence"""):
        changes[(emp, year)].append((day, amount))
    # everyone with a pay change or a termination, plus the first 500 rows of any kind
    sample = [k for k in snap if changes.get(k) or snap[k][1] is not None] + list(snap)[:500]
    assert len(sample) > 5000
    bad = []
    for key in sample:
        emp, year = key
        hired, term, prorated, current = snap[key]
        since, last = max(date(year, 1, 1), hired), term or date(year, 12, 31)
        rate, earned = start_rates[key], Decimal(0)
        for day, amount in changes.get(key, []):
            earned += rate * (day - since).days
            rate, since = amount, day
        earned += rate * ((last - since).days + 1)  # the termination day is paid
        exact = earned / days_in_year(year)
        expected = exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
        if abs(prorated - expected) > tolerance or current != rate:
            bad.append((emp, year, prorated, expected, exact, current, rate))
    return bad


def test_prorated_compensation_recomputed_from_events(con, start_rates):
    """Σ rate × days in force / days in Y (termination day included); current = last rate. Within a cent."""
    bad = _prorated_mismatches(con, start_rates, tolerance=Decimal("0.01"))
    assert bad[:5] == [] and len(bad) == 0


def test_prorated_compensation_exact_to_the_cent(con, start_rates):
    bad = _prorated_mismatches(con, start_rates, tolerance=Decimal(0))
    assert bad[:5] == [] and len(bad) == 0


def test_full_year_equivalent_carries_into_next_year(con):
    # FYE(Y) of a continuing employee is the opening rate of Y+1: the previous_compensation of the first
    # pay event of Y+1, or the Dec 31 rate of Y+1 when nothing changed
    assert _violations(con, """
        with first_change as (
            select employee_id, simulation_year, arg_min(previous_compensation, event_sequence) as opening
            from fct_yearly_events where event_type in ('promotion', 'raise', 'termination') group by all)
        select p.employee_id, p.simulation_year, p.full_year_equivalent_compensation, f.opening, c.current_compensation
        from fct_workforce_snapshot p
        join fct_workforce_snapshot c on c.employee_id = p.employee_id and c.simulation_year = p.simulation_year + 1
        left join first_change f on f.employee_id = c.employee_id and f.simulation_year = c.simulation_year
        where p.full_year_equivalent_compensation <> coalesce(f.opening, c.current_compensation)""") == (0, [])
    # for actives the FYE is the Dec 31 rate
    assert _violations(con, """select employee_id, simulation_year from fct_workforce_snapshot
                               where employment_status = 'active'
                                 and full_year_equivalent_compensation <> current_compensation""") == (0, [])


def test_snapshot_has_everyone_employed_in_the_year(con):
    # start actives + hires of Y = snapshot rows of Y
    got = rows(con, """
        select r.simulation_year, r.start_headcount + r.total_hires, count(s.employee_id)
        from int_workforce_requirements r join fct_workforce_snapshot s using (simulation_year)
        group by all order by 1""")
    assert [(y, a) for y, a, _ in got] == [(y, b) for y, _, b in got]


# --------------------------------------------------------------------------- ordering


def test_event_sequence_contiguous_and_ordered(con):
    found = rows(con, """select employee_id, simulation_year, event_type, effective_date, event_sequence
                         from fct_yearly_events order by employee_id, simulation_year, event_sequence""")
    groups = defaultdict(list)
    for emp, year, kind, day, seq in found:
        groups[(emp, year)].append((kind, day, seq))
    bad = []
    for key, events in groups.items():
        if [seq for _, _, seq in events] != list(range(1, len(events) + 1)):
            bad.append((key, "not 1..n", events))
            continue
        order = [(day, EVENT_TYPE_RANK[kind]) for kind, day, _ in events]
        if order != sorted(order):
            bad.append((key, "order", events))
    assert bad[:5] == [] and len(bad) == 0
    assert any(len(v) >= 4 for v in groups.values())


# --------------------------------------------------------------------------- hires


def test_hire_level_mix_is_largest_remainder(con):
    req = dict(rows(con, "select simulation_year, total_hires from int_workforce_requirements"))
    got = defaultdict(dict)
    for year, level, n in rows(con, """select simulation_year, to_level, count(*) from fct_yearly_events
                                       where event_type = 'hire' group by all"""):
        got[year][level] = n
    for year in YEARS:
        expected = {k: v for k, v in largest_remainder(req[year]).items() if v}
        assert got[year] == expected, year


def test_hire_salaries_inside_hiring_ranges(con):
    found = rows(con, """select to_level, min(compensation_amount), max(compensation_amount), count(*)
                         from fct_yearly_events where event_type = 'hire' group by 1 order by 1""")
    assert [r[0] for r in found] == [1, 2, 3, 4, 5]
    for level, lo, hi, _n in found:
        assert HIRING_RANGES[level][0] <= lo <= hi <= HIRING_RANGES[level][1], level
    # the hire event's salary is the snapshot's opening rate, and the snapshot level is the hire level
    assert _violations(con, """
        select h.employee_id, h.to_level, s.level_id from fct_yearly_events h join fct_workforce_snapshot s
          using (employee_id, simulation_year)
        where h.event_type = 'hire' and (h.to_level <> s.level_id or h.previous_compensation is not null
                                         or h.effective_date <> s.employee_hire_date)""") == (0, [])


def test_new_hire_ages_from_distribution(con):
    ages = rows(con, """select distinct date_sub('year', s.employee_birth_date, s.employee_hire_date)
                        from fct_workforce_snapshot s where detailed_status_code like 'new_hire%'""")
    assert {a for (a,) in ages} <= {22, 25, 28, 32, 35, 40, 45, 50}


# --------------------------------------------------------------------------- hazards


def test_hazards_shape_who_leaves_and_who_is_promoted(con):
    """Weighted selections follow the multipliers: short tenure leaves most, mid tenure is promoted most."""
    by_band = {r[0]: r[1:] for r in rows(con, """
        with start as (
            select employee_id, 2025 as simulation_year, current_tenure, current_age from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, current_tenure, current_age from fct_workforce_snapshot
            where employment_status = 'active' and simulation_year < 2029),
        outcome as (
            select start.*, 
                   exists (select 1 from fct_yearly_events e where e.employee_id = start.employee_id
                           and e.simulation_year = start.simulation_year
                           and e.event_category = 'experienced_termination') as left_,
                   exists (select 1 from fct_yearly_events e where e.employee_id = start.employee_id
                           and e.simulation_year = start.simulation_year and e.event_type = 'promotion') as promoted
            from start)
        select case when current_tenure < 2 then 'T<2' when current_tenure < 5 then 'T2-4'
                    when current_tenure < 10 then 'T5-9' when current_tenure < 20 then 'T10-19' else 'T20+' end,
               count(*), avg(left_::int), avg(promoted::int)
        from outcome group by 1
        union all
        select case when current_age < 35 then 'A<35' when current_age >= 55 then 'A55+' else 'Amid' end,
               count(*), avg(left_::int), avg(promoted::int)
        from outcome where current_tenure >= 1 group by 1""")}
    assert min(n for n, _, _ in by_band.values()) > 30
    term = {k: v[1] for k, v in by_band.items()}
    promo = {k: v[2] for k, v in by_band.items()}
    # termination tenure multipliers 1.8 / 0.6 / 0.5 / 0.4 / 0.3
    assert term["T<2"] > 2 * term["T2-4"] and term["T2-4"] > term["T10-19"] > term["T20+"]
    # promotion tenure multipliers 0.5 / 1.5 / 1.8 / 0.8 / 0.2 and age 1.6 / 1.4 ... 0.3
    assert promo["T5-9"] > promo["T10-19"] > promo["T20+"] and promo["T2-4"] > 2 * promo["T<2"]
    assert promo["A<35"] > 3 * promo["A55+"]


def test_the_shared_invariant_set(con):
    """The set every run of the suite must keep (helpers/invariants.py; the registry applies it to each run)."""
    assert invariant_problems(con, YEARS, SPEC.config()) == {}
