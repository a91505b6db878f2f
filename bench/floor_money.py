"""The plain-DuckDB workforce + money floor: the yearly work of a run, written straight in SQL without dbt.

For the bench's plan (run_bench.PLAN_CASES["on"]: tiered match 100 % of 3 % + 50 % of the next 2 %, core 2 % /
4 % graded by service with the last-day and 1,000-hour rules, auto-escalation +1 point a year to 10 %) on the
bench's censuses. Each year: retirements and terminations to the year's quota, hires and new-hire leavers to
the growth target, promotions and merit + COLA raises, the deferral-rate events (auto-enrollment of new hires
with opt-outs, proactive and voluntary enrollment, escalation), then the money in integer cents and basis
points: the salary and rate timelines day by day (one window and one GROUP BY over the year's change rows),
401(a)(17), 402(g) with the age-50 and 60-63 catch-up, the match, the core, 415(c) (unmatched deferrals
refunded first, then core, then match), employer balances with graded-6 vesting of core, forfeitures and a
yearly summary. Results are written to a DuckDB file, like the product's. The rules are the product's in
kind (docs/plan_rules.md), not to the cent: the figure is the cost of the work, and the head counts per year
are compared with the product's (they follow the same quota and target arithmetic).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb

# Job levels (assumptions/defaults/job_levels.csv): merit rate (bp), hire share, hire pay range, dollars.
LEVELS = {1: (300, 0.40, 45_000, 80_000), 2: (300, 0.30, 80_000, 120_000), 3: (325, 0.20, 120_000, 160_000),
          4: (350, 0.08, 160_000, 275_000), 5: (375, 0.02, 275_000, 400_000)}
RETIREMENT = "case when age >= 70 then .35 when age >= 66 then .20 when age = 65 then .30 when age >= 63 then .10 " \
             "when age = 62 then .15 when age >= 60 then .05 when age >= 55 then .02 else 0 end"
# Published limits (dollars) by year; later years grow by 2.5 % rounded to 500 (the product projects them).
LIMITS = {2025: (23_500, 7_500, 11_250, 350_000, 70_000), 2026: (24_500, 8_000, 11_250, 360_000, 72_000)}


def limits(year: int) -> tuple[int, ...]:
    last = max(LIMITS)
    if year in LIMITS:
        return LIMITS[year]
    return tuple(int(round(v * 1.025 ** (year - last) / 500) * 500) for v in LIMITS[last])


def draw(purpose: str, year: int, key: str = "employee_id") -> str:
    """A uniform draw in [0, 1) per person, year and purpose (a hash: same seed, same draws)."""
    return f"((hash({key}, {year}, '{purpose}', 42) % 1000003) / 1000003.0)"


def money_floor(census: Path, years: list[int], work: Path, threads: int | None = None) -> dict:
    """Run the years; seconds per year split into workforce and money, and the end head count of each year."""
    work.mkdir(parents=True, exist_ok=True)
    database = work / "floor_money.duckdb"
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    if threads:
        con.execute(f"set threads = {threads}")
    started, cpu = time.perf_counter(), time.process_time()
    load_state(con, census, years[0])
    out = {"years": {}, "load_s": time.perf_counter() - started}
    for year in years:
        tick = time.perf_counter()
        workforce_year(con, year)
        mid = time.perf_counter()
        money_year(con, year)
        con.execute("checkpoint")
        end = time.perf_counter()
        headcount = con.execute("select end_headcount from summary where simulation_year = ?", [year]).fetchone()[0]
        out["years"][year] = {"workforce_s": mid - tick, "money_s": end - mid, "end_headcount": headcount}
    out["total_s"], out["cpu_s"] = time.perf_counter() - started, time.process_time() - cpu
    out["money_rows"] = con.execute("select count(*) from dc_money").fetchone()[0]
    con.close()
    database.unlink(missing_ok=True)
    return out


def load_state(con, census: Path, first_year: int) -> None:
    """The census's actives at the start of the first year, pay in cents and rates in basis points."""
    con.execute(f"""create table state as select employee_id, employee_birth_date as birth_date,
        employee_hire_date as hire_date, coalesce(level_id, 1) as level_id,
        cast(round(employee_gross_compensation * 100) as bigint) as salary_cents,
        cast(round(coalesce(employee_deferral_rate, 0) * 10000) as integer) as deferral_bp,
        coalesce(employee_deferral_rate, 0) > 0 as is_enrolled, {first_year - 2} as enrollment_year,
        false as ever_opted_out, 0::bigint as match_balance, 0::bigint as core_balance
        from read_parquet('{census}')
        where employee_termination_date is null or employee_termination_date >= make_date({first_year}, 1, 1)""")
    con.execute("create table pool as select 0::bigint as forfeitures")
    for table, columns in (("events", "simulation_year integer, employee_id varchar, event_type varchar, "
                                      "effective_date date, amount bigint"),
                           ("snapshot", "simulation_year integer, employee_id varchar, birth_date date, hire_date "
                                        "date, level_id integer, salary_cents bigint, deferral_bp integer, is_enrolled "
                                        "boolean, enrollment_year integer, ever_opted_out boolean, employment_status "
                                        "varchar, termination_date date, match_balance bigint, core_balance bigint"),
                           ("dc_money", "simulation_year integer, employee_id varchar, comp_cents bigint, "
                                        "deferral_cents bigint, catch_up_cents bigint, match_cents bigint, "
                                        "core_cents bigint, refund_cents bigint, forfeited_cents bigint, "
                                        "match_balance bigint, core_balance bigint, vested_bp integer"),
                           ("summary", "simulation_year integer, start_headcount bigint, end_headcount bigint, "
                                       "hires bigint, terminations bigint, comp_cents hugeint, deferral_cents hugeint, "
                                       "match_cents hugeint, core_cents hugeint, forfeited_cents hugeint, "
                                       "employer_cost_cents hugeint, participants bigint")):
        con.execute(f"create table {table} ({columns})")


def workforce_year(con, year: int) -> None:
    """Start population, exits, hires, pay changes and deferral-rate events of ``year`` (scratch tables)."""
    jan1, dec31 = f"make_date({year}, 1, 1)", f"make_date({year}, 12, 31)"
    days = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    con.execute(f"""create or replace table start_pop as select *, {year - 1} - year(birth_date) as age,
        {year - 1} - year(hire_date) as tenure from state""")
    n = con.execute("select count(*) from start_pop").fetchone()[0]
    quota = round(n * 0.12)
    con.execute(f"""create or replace table exits as
        with d as (select employee_id, level_id, {RETIREMENT} as retire_p, {draw('retire', year)} as u_ret,
                          {draw('term', year)} as u_term, {draw('term_day', year)} as u_day from start_pop),
        retired as (select *, 'retirement' as category from d where u_ret < retire_p),
        others as (select *, 'termination' as category from d where u_ret >= retire_p
                   order by u_term * (1 + 0.1 * level_id), employee_id
                   limit greatest({quota} - (select count(*) from retired), 0))
        select employee_id, category, {jan1} + cast(floor(u_day * {days}) as integer) as termination_date
        from (select * from retired union all select * from others)""")
    exits = con.execute("select count(*) from exits").fetchone()[0]
    need = max(round(n * 1.03) - (n - exits), 0)
    hires = -(-need * 4 // 3)  # ceil(need / (1 - 0.25))
    hire_level = " ".join(f"when u_level < {sum(v[1] for k, v in LEVELS.items() if k <= lvl):.2f} then {lvl}"
                          for lvl in LEVELS)
    pay_low = " ".join(f"when {lvl} then {v[2]}" for lvl, v in LEVELS.items())
    pay_high = " ".join(f"when {lvl} then {v[3]}" for lvl, v in LEVELS.items())
    con.execute(f"""create or replace table hires as
        with h as (select 'NH_{year}_' || lpad(cast(i as varchar), 7, '0') as employee_id from range({hires}) t(i)),
        d as (select employee_id, {draw('hire_day', year)} as u_day, {draw('level', year)} as u_level,
                     {draw('pay', year)} as u_pay, {draw('age', year)} as u_age, {draw('nh_term', year)} as u_term,
                     {draw('nh_day', year)} as u_tday from h),
        l as (select *, case {hire_level} else 5 end as level_id,
                     {jan1} + cast(floor(u_day * {days}) as integer) as hire_date from d)
        select employee_id, level_id, hire_date, cast(hire_date - to_years(25 + cast(floor(u_age * 20) as integer))
               as date) as birth_date, cast(round((case level_id {pay_low} end + u_pay * (case level_id {pay_high} end -
               case level_id {pay_low} end)) * 100) as bigint) as salary_cents,
               row_number() over (order by u_term, employee_id) <= {hires - need} as leaves,
               hire_date + cast(floor(u_tday * (date_diff('day', hire_date, {dec31}) + 1)) as integer) as leave_date
        from l""")
    con.execute(f"""create or replace table emp_year as
        select s.employee_id, s.birth_date, s.hire_date, s.level_id, s.salary_cents, s.deferral_bp, s.is_enrolled,
               s.enrollment_year, s.ever_opted_out, s.match_balance, s.core_balance, false as is_new_hire,
               {jan1} as start_date, x.termination_date, x.category
        from start_pop s left join exits x using (employee_id)
        union all
        select employee_id, birth_date, hire_date, level_id, salary_cents, 0, false, null, false, 0, 0, true,
               hire_date, case when leaves then leave_date end, case when leaves then 'new_hire_termination' end
        from hires""")
    pay_changes(con, year, jan1, dec31, days)
    rate_events(con, year, jan1, dec31, days)


def pay_changes(con, year: int, jan1: str, dec31: str, days: int) -> None:
    """Promotions (+15 %, a level up) and merit + COLA raises on a drawn day, each while employed."""
    merit = " ".join(f"when {lvl} then {v[0] + 50}" for lvl, v in LEVELS.items())
    con.execute(f"""create or replace table pay_changes as
        with d as (select employee_id, level_id, salary_cents, coalesce(termination_date, {dec31}) as last_day,
                          {draw('promo', year)} as u_promo, {draw('promo_day', year)} as u_pday,
                          {draw('raise_day', year)} as u_rday
                   from emp_year where not is_new_hire),
        dated as (select *, case when level_id < 5 and u_promo < 0.08 then {jan1} +
                                 cast(floor(u_pday * {days}) as integer) end as promo_date,
                         make_date({year}, 1 + cast(floor(u_rday * 12) as integer), 1) as raise_date from d),
        paid as (select *, promo_date <= last_day as promoted, raise_date <= last_day as raised,
                        case level_id {merit} end as raise_bp from dated),
        amounts as (select *,
            case when promoted and promo_date <= raise_date then (salary_cents * 115 + 50) // 100 end as promo_first,
            case when raised then ((case when promoted and promo_date <= raise_date
                 then (salary_cents * 115 + 50) // 100 else salary_cents end) * (10000 + raise_bp) + 5000) // 10000
                 end as raised_to from paid)
        select employee_id, promo_date as effective_date, 'promotion' as kind, level_id + 1 as level_id,
               coalesce(promo_first, (coalesce(raised_to, salary_cents) * 115 + 50) // 100) as salary_cents
        from amounts where promoted
        union all
        select employee_id, raise_date, 'raise', null, raised_to from amounts where raised""")


def rate_events(con, year: int, jan1: str, dec31: str, days: int) -> None:
    """Auto-enrollment of new hires (6 %, opt-outs by age), proactive and voluntary enrollment, escalation."""
    by_age = lambda y, m, ma, s: f"case when age < 31 then {y} when age <= 45 then {m} when age <= 55 then {ma} else {s} end"  # noqa: E731
    choice = ("case when {u} < .25 then 300 when {u} < .60 then 600 when {u} < .80 then 1000 "
              "when {u} < .90 then 1500 else 2000 end")
    con.execute(f"""create or replace table rate_events as
        with p as (select employee_id, hire_date, is_enrolled, deferral_bp, enrollment_year, ever_opted_out,
                          coalesce(termination_date, {dec31}) as last_day, {year} - year(birth_date) as age,
                          greatest(hire_date + 30, cast(birth_date + to_years(21) as date)) as eligible_on,
                          {draw('pro', year)} as u_pro, {draw('pro_day', year)} as u_pday,
                          {draw('rate', year)} as u_rate, {draw('opt', year)} as u_opt,
                          {draw('opt_day', year)} as u_oday, {draw('vol', year)} as u_vol,
                          {draw('vol_day', year)} as u_vday from emp_year),
        auto as (select *, eligible_on + 45 as auto_on, {by_age(.25, .45, .65, .75)} as pro_p,
                        {by_age(.35, .20, .15, .10)} as opt_p
                 from p where not is_enrolled and hire_date >= date '2024-01-01' and not ever_opted_out
                   and eligible_on + 45 <= last_day and year(eligible_on + 45) = {year}),
        voluntary as (select * from p where not is_enrolled and (hire_date < date '2024-01-01' or ever_opted_out)
                        and eligible_on <= {dec31} and u_vol < 0.10)
        select employee_id, eligible_on + cast(floor(u_pday * 45) as integer) as effective_date, 'proactive' as kind,
               {choice.format(u='u_rate')} as deferral_bp from auto where u_pro < pro_p
        union all
        select employee_id, auto_on, 'auto', 600 from auto where u_pro >= pro_p
        union all
        select employee_id, auto_on + 1 + cast(floor(u_oday * 30) as integer), 'opt_out', 0 from auto
        where u_pro >= pro_p and u_opt < opt_p and auto_on + 1 + cast(floor(u_oday * 30) as integer) <= last_day
        union all
        select employee_id, greatest(eligible_on, {jan1}) + cast(floor(u_vday * greatest(date_diff('day',
               greatest(eligible_on, {jan1}), last_day), 0)) as integer), 'voluntary', {choice.format(u='u_rate')}
        from voluntary
        union all
        select employee_id, {jan1}, 'escalation', least(deferral_bp + 100, 1000) from p
        where is_enrolled and deferral_bp > 0 and deferral_bp < 1000 and enrollment_year < {year}
          and hire_date < {jan1}""")


def money_year(con, year: int) -> None:
    """Timelines, limits, match, core, 415(c), balances and vesting, forfeitures, snapshot, events, summary."""
    dec31 = f"make_date({year}, 12, 31)"
    days = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    g402, cu50, cu60, a17, c415 = (v * 100 for v in limits(year))
    con.execute(f"""create or replace table timeline as
        with changes as (
            select employee_id, start_date as d, 0 as seq, salary_cents as s,
                   case when is_enrolled then deferral_bp else 0 end as r from emp_year
            union all select employee_id, effective_date, 1, salary_cents, null from pay_changes
            union all select employee_id, effective_date, 2, null, deferral_bp from rate_events),
        filled as (select employee_id, d, last_value(s ignore nulls) over w as s, last_value(r ignore nulls) over w as r,
                          lead(d) over w as next_d from changes
                   window w as (partition by employee_id order by d, seq rows between unbounded preceding and current row))
        select f.employee_id, f.d, f.s, f.r, greatest(date_diff('day', f.d, least(coalesce(f.next_d, {dec31} + 1),
               coalesce(e.termination_date, {dec31}) + 1)), 0) as days
        from filled f join emp_year e using (employee_id)""")
    con.execute(f"""create or replace table money as
        with t as (select employee_id, sum(s * days) as pay_days, sum(s * days * r) as deferral_days,
                          sum(days) as days_employed from timeline group by employee_id),
        m as (select e.*, (t.pay_days * 2 + {days}) // ({2 * days}) as comp, t.days_employed,
                     (t.deferral_days * 2 + {days * 10000}) // ({2 * days * 10000}) as requested,
                     {year} - year(e.birth_date) as age_eoy, {year} - year(e.hire_date) as service
              from emp_year e join t using (employee_id)),
        capped as (select *, least(comp, {a17}) as plan_comp,
                          case when comp > {a17} then requested * {a17} // comp else requested end as req,
                          case when age_eoy between 60 and 63 then {cu60} when age_eoy >= 50 then {cu50} else 0 end
                          as catch_up_room from m),
        deferred as (select *, least(req, {g402} + catch_up_room) as deferral, (plan_comp * 300 + 5000) // 10000 as c3,
                            (plan_comp * 200 + 5000) // 10000 as c2 from capped),
        employer as (select *, greatest(deferral - {g402}, 0) as catch_up,
                            least(deferral, c3) + (least(greatest(deferral - c3, 0), c2) + 1) // 2 as match,
                            case when hire_date + 365 <= {dec31} and age_eoy >= 21
                                  and (termination_date is null or age_eoy >= 65) and days_employed * 40 >= 7000
                                 then (plan_comp * case when service < 5 then 200 else 400 end + 5000) // 10000
                                 else 0 end as core from deferred),
        excess as (select *, least(deferral, {g402}) as regular,
                          greatest(least(deferral, {g402}) + match + core - least({c415}, comp), 0) as over from employer)
        select *, case when over = 0 then 0 else least(over, greatest(regular - c3 - c2, 0)) end as refund,
               case when over = 0 then core else core - least(greatest(over - greatest(regular - c3 - c2, 0), 0), core)
               end as core_final,
               case when over = 0 then match else match - least(greatest(over - greatest(regular - c3 - c2, 0) - core,
               0), match) end as match_final from excess""")
    balances(con, year)


def balances(con, year: int) -> None:
    """Employer balances, graded-6 vesting of core (match vests at once), forfeitures, snapshot, summary."""
    con.execute("""create or replace table vested as
        select *, case when service >= 6 or age_eoy >= 65 then 10000 when service >= 2 then (service - 1) * 2000
                       else 0 end as vested_bp,
               match_balance + match_final as match_eoy, core_balance + core_final as core_total from money""")
    con.execute(f"""insert into dc_money select {year}, employee_id, comp, deferral - refund, catch_up, match_final,
        core_final, refund, case when termination_date is null then 0 else core_total - core_total * vested_bp // 10000
        end, match_eoy, case when termination_date is null then core_total else core_total * vested_bp // 10000 end,
        vested_bp from vested""")
    con.execute(f"""insert into snapshot select {year}, e.employee_id, e.birth_date, e.hire_date,
        coalesce(p.level_id, e.level_id), coalesce(fin.s, e.salary_cents), coalesce(fin.r, 0),
        e.is_enrolled or coalesce(fin.r, 0) > 0 or ev.employee_id is not null,
        coalesce(e.enrollment_year, case when ev.employee_id is not null then {year} end),
        e.ever_opted_out or coalesce(ev.opted_out, false),
        case when e.termination_date is null then 'active' else 'terminated' end, e.termination_date,
        d.match_balance, d.core_balance
        from emp_year e
        left join (select employee_id, max(level_id) as level_id from pay_changes group by all) p using (employee_id)
        left join (select employee_id, bool_or(kind = 'opt_out') as opted_out from rate_events group by all) ev
             using (employee_id)
        left join (select employee_id, arg_max(s, d) as s, arg_max(r, d) as r from timeline group by all) fin
             using (employee_id)
        left join (select * from dc_money where simulation_year = {year}) d using (employee_id)""")
    con.execute(f"""insert into events
        select {year}, employee_id, category, termination_date, null from emp_year where termination_date is not null
        union all select {year}, employee_id, 'hire', hire_date, salary_cents from emp_year where is_new_hire
        union all select {year}, employee_id, kind, effective_date, salary_cents from pay_changes
        union all select {year}, employee_id, kind, effective_date, deferral_bp from rate_events""")
    con.execute(f"""insert into summary select {year}, count(*) filter (where not is_new_hire),
        count(*) filter (where employment_status = 'active'), count(*) filter (where is_new_hire),
        count(*) filter (where employment_status = 'terminated'), sum(comp_cents), sum(deferral_cents),
        sum(match_cents), sum(core_cents), sum(forfeited_cents),
        sum(match_cents + core_cents) - least((select forfeitures from pool), sum(match_cents + core_cents)),
        count(*) filter (where deferral_cents > 0)
        from (select s.*, d.comp_cents, d.deferral_cents, d.match_cents, d.core_cents, d.forfeited_cents,
                     e.is_new_hire from snapshot s join dc_money d using (simulation_year, employee_id)
              join emp_year e using (employee_id) where s.simulation_year = {year})""")
    con.execute(f"update pool set forfeitures = (select sum(forfeited_cents) from dc_money where simulation_year = {year})")
    con.execute(f"""create or replace table state as select employee_id, birth_date, hire_date, level_id, salary_cents,
        deferral_bp, is_enrolled, enrollment_year, ever_opted_out, match_balance, core_balance from snapshot
        where simulation_year = {year} and employment_status = 'active'""")


if __name__ == "__main__":
    import json
    import sys

    result = money_floor(Path(sys.argv[1]), list(range(2025, 2025 + int(sys.argv[2]))), Path(sys.argv[3]),
                         int(sys.argv[4]) if len(sys.argv) > 4 else None)
    print(json.dumps(result, indent=1, default=str))
