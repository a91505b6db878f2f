"""The invariants of docs/ndt.md on generated 5-year runs in three plan designs: a non-safe-harbor match that fails
the ADP (design A: the money plan of test_money_invariants, so its NDT-off run is the comparison for invariant 2),
a basic safe-harbor match (B), and a QACA match with a graded core (C)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from helpers.sims import CensusSpec, SimSpec
from helpers.sql import rows
from test_money_invariants import MONEY_PLAN, SPEC as MONEY_SPEC

pytestmark = pytest.mark.slow
YEARS = list(range(2025, 2030))
NDT = {"plan.ndt.enabled": True}
# Prior-year method with a configured 0 % NHCE average: the first year's limit is 0 bp, so the ADP fails then.
DESIGN_A = SimSpec.make(CensusSpec.generated(600, 23), end_year=2029, **MONEY_PLAN, **NDT,
                        **{"plan.ndt.testing_method": "prior_year", "plan.ndt.prior_year_nhce.adp": 0.0,
                           "plan.ndt.prior_year_nhce.acp": 0.0})
# Same census as A, so that test_ndt_outputs can diff a failing non-safe-harbor design against a safe harbor.
DESIGN_B = SimSpec.make(CensusSpec.generated(600, 23), end_year=2029, **NDT, **{"plan.match.safe_harbor": True})
DESIGN_C = SimSpec.make(CensusSpec.generated(400, 41), end_year=2029, **NDT, **{
    "plan.match.tiers": [{"deferral_max": 0.01, "rate": 1.0}, {"deferral_max": 0.06, "rate": 0.5}],
    "plan.match.safe_harbor": True, "plan.match.vesting.schedule": "cliff_2",
    "plan.core.enabled": True, "plan.core.graded_by": "service",
    "plan.core.bands": [{"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": None, "rate": 0.05}]})
DESIGNS = {"A": DESIGN_A, "B": DESIGN_B, "C": DESIGN_C}


@pytest.fixture(scope="module", params=sorted(DESIGNS))
def run(request, sims):
    sims.prefetch(list(DESIGNS.values()))
    found = sims.get(DESIGNS[request.param])
    assert found.result["success"], found.result
    con = found.connect()
    yield request.param, con
    con.close()


def none_of(con, sql: str, params=None):
    found = rows(con, sql, params)
    assert found == [], f"{len(found)} violation(s), e.g. {found[:5]}"


def bp(value) -> int:
    return int(Fraction(str(value)) * 10000)


def div_half_up(n: int, d: int) -> int:
    return (2 * n + d) // (2 * d)


def cents(value) -> int:
    return int(Fraction(str(value)) * 100)


def test_1_one_row_per_snapshot_row_and_the_configured_summary_rows(run):
    design, con = run
    none_of(con, "select s.employee_id, s.simulation_year from fct_workforce_snapshot s "
                 "full join fct_ndt_employee e using (employee_id, simulation_year) where s.employee_id is null "
                 "or e.employee_id is null")
    expected = {("adp", "main"), ("acp", "main"), ("nondiscrimination_core", "main"), ("top_heavy", "main")} | {
        (f"coverage_{c}", g) for c in ("deferral", "match", "core") for g in ("main", "excludable")}
    for year in YEARS:
        found = rows(con, "select test, test_group from fct_ndt_summary where simulation_year = ?", [year])
        assert sorted(found) == sorted(expected), year


def test_3_hce_and_lookback_pay_agree_with_the_money_layer(run):
    _, con = run
    none_of(con, "select e.employee_id, e.simulation_year from fct_ndt_employee e join fct_dc_contributions c "
                 "using (employee_id, simulation_year) where e.is_hce <> coalesce(c.is_hce, false)")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_dc_contributions p "
                 "on p.employee_id = e.employee_id and p.simulation_year = e.simulation_year - 1 "
                 "where e.lookback_comp <> p.plan_comp")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_workforce_snapshot s "
                 "using (employee_id, simulation_year) where year(s.employee_hire_date) = s.simulation_year "
                 "and s.simulation_year > 2025 and (e.lookback_comp is not null or e.is_hce)")


def test_4_key_flags(run):
    _, con = run
    none_of(con, "select * from fct_ndt_employee where (is_key and key_reason is null) or (is_key and is_former_key)")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_ndt_employee p "
                 "on p.employee_id = e.employee_id and p.simulation_year = e.simulation_year - 1 "
                 "where e.is_key <> p.key_test_in_year")


def test_5_ratios_are_exact_and_within_their_bounds(run):
    design, con = run
    found = rows(con, "select e.adp_deferrals, c.employee_deferral, e.adp_testing_comp, c.comp_limit_401a17, e.adr, "
                      "e.acp_match, e.acp_testing_comp, e.acr from fct_ndt_employee e join fct_dc_contributions c "
                      "using (employee_id, simulation_year) where e.adp_eligible")
    assert found
    for d, total, comp, l17, adr, m, acomp, acr in found:
        assert 0 <= d <= total and comp <= l17
        assert bp(adr) == (div_half_up(10000 * cents(d), cents(comp)) if comp > 0 else 0)
        if acr is not None:
            assert acomp <= l17 and bp(acr) == (div_half_up(10000 * cents(m), cents(acomp)) if acomp > 0 else 0)
    none_of(con, "select employee_id from fct_ndt_employee where adp_eligible and not is_hce and "
                 "is_otherwise_excludable and adp_test_group is not null")
    none_of(con, "select s.simulation_year from fct_ndt_summary s join fct_ndt_employee e "
                 "on e.simulation_year = s.simulation_year where s.test in ('adp', 'acp') and s.status = 'exempt' "
                 "and (e.adp_excess > 0 or e.acp_excess > 0)")


def test_6_summary_averages_and_the_two_prong_limit(run):
    _, con = run
    for test, ratio in (("adp", "adr"), ("acp", "acr")):
        for year, group, hce_avg, nhce_cy, limit, prong, margin, status, a in rows(con, f"""
                select simulation_year, test_group, hce_avg, nhce_avg_current_year, limit_pct, applied_prong, margin,
                       status, nhce_avg from fct_ndt_summary where test = '{test}' and status <> 'not_applicable'"""):
            members = rows(con, f"select is_hce, {ratio} from fct_ndt_employee where simulation_year = ? "
                                f"and {test}_test_group = ?", [year, group])
            h = [bp(r) for is_hce, r in members if is_hce]
            n = [bp(r) for is_hce, r in members if not is_hce]
            assert (bp(hce_avg) if hce_avg is not None else None) == (div_half_up(sum(h), len(h)) if h else None)
            assert (bp(nhce_cy) if nhce_cy is not None else None) == (div_half_up(sum(n), len(n)) if n else None)
            if a is not None:
                a = bp(a)
                assert bp(limit) == max(5 * a // 4, min(2 * a, a + 200))
                assert prong == ("basic" if 5 * a // 4 >= min(2 * a, a + 200) else "alternative")
            if hce_avg is not None and limit is not None:
                assert bp(margin) == bp(limit) - bp(hce_avg)
                if status != "exempt":
                    assert (status == "pass") == (hce_avg <= limit)


def test_7_8_excess_leveling_and_apportionment(run):
    design, con = run
    failed = rows(con, "select simulation_year, test, test_group, total_excess, limit_pct, highest_permitted "
                       "from fct_ndt_summary where test in ('adp', 'acp') and status = 'fail'")
    if design == "A":
        assert any(t == "adp" for _, t, *_ in failed), "design A must fail the ADP in some year"
    for year, test, group, total, limit, level in failed:
        amount, ratio, comp = ("adp_deferrals", "adr", "adp_testing_comp") if test == "adp" else \
            ("acp_match", "acr", "acp_testing_comp")
        hces = rows(con, f"select {amount}, {test}_excess, {ratio} from fct_ndt_employee where simulation_year = ? "
                         f"and {test}_test_group = ? and is_hce", [year, group])
        assert sum(x for _, x, _ in hces) == total
        assert all(0 <= x <= a for a, x, _ in hces)
        after_leveled = [cents(a - x) for a, x, _ in hces if x > 0]
        after_other = [cents(a) for a, x, _ in hces if x == 0]
        if after_leveled:
            assert max(after_leveled) - min(after_leveled) <= 1
            assert not after_other or min(after_leveled) >= max(after_other)
        lam = Fraction(str(level)) * 10000
        leveled_sum = sum(min(Fraction(bp(r)), lam) for _, _, r in hces)
        assert abs(leveled_sum - len(hces) * bp(limit)) <= Fraction(len(hces), 200)  # λ is stored to 1/100 bp
    none_of(con, "select * from fct_ndt_employee where adp_excess <> adp_recharacterized + adp_distributed "
                 "or (not is_hce and (adp_excess > 0 or acp_excess > 0))")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_dc_contributions c "
                 "using (employee_id, simulation_year) where e.adp_recharacterized > "
                 "greatest(0, c.catch_up_limit - c.catch_up_deferral)")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_ndt_summary s "
                 "on s.simulation_year = e.simulation_year and s.test = 'adp' and s.test_group = e.adp_test_group "
                 "where s.status <> 'fail' and e.adp_excess > 0")


def test_9_10_match_forfeiture_and_the_acp_split(run):
    _, con = run
    none_of(con, """select e.employee_id from fct_ndt_employee e join fct_dc_contributions c
                    using (employee_id, simulation_year)
                    where e.match_forfeited_adp < 0 or e.match_forfeited_adp > c.employer_match
                       or e.match_after_adp <> c.employer_match - e.match_forfeited_adp
                       or (e.adp_distributed = 0 and e.adp_recharacterized = 0 and e.match_forfeited_adp > 0)
                       or e.acp_match > e.match_after_adp
                       or e.acp_distributed + e.acp_forfeited <> e.acp_excess
                       or (c.vested_pct_match = 1 and e.acp_forfeited > 0)""")


def test_11_prior_year_averages_carry(run):
    design, con = run
    if design != "A":
        pytest.skip("design A tests with the prior-year method")
    first = rows(con, "select nhce_avg, nhce_basis from fct_ndt_summary where simulation_year = 2025 and test = 'adp'")
    assert first == [(0, "configured")]
    none_of(con, "select s.simulation_year from fct_ndt_summary s join fct_ndt_summary p "
                 "on p.simulation_year = s.simulation_year - 1 and p.test = s.test and p.test_group = s.test_group "
                 "where s.test in ('adp', 'acp') and s.nhce_avg is distinct from p.nhce_avg_current_year")


def test_12_safe_harbor_designs(run):
    design, con = run
    status = {(y, t): s for y, t, s in rows(con, "select simulation_year, test, status from fct_ndt_summary "
                                                 "where test_group = 'main'")}
    for year in YEARS:
        if design == "B":
            assert status[(year, "adp")] == status[(year, "acp")] == status[(year, "top_heavy")] == "exempt"
        if design == "C":  # QACA match: ADP exempt; the graded core keeps top-heavy (and 401(a)(4)) tested
            assert status[(year, "adp")] == "exempt" and status[(year, "top_heavy")] != "exempt"
            assert status[(year, "nondiscrimination_core")] in ("pass", "fail")
        if design == "A":
            assert "exempt" not in (status[(year, "adp")], status[(year, "acp")], status[(year, "top_heavy")])


def test_13_top_heavy(run):
    _, con = run
    none_of(con, "select * from fct_ndt_summary where test = 'top_heavy' and "
                 "(is_top_heavy <> (5 * key_balance > 3 * total_balance) or minimum_rate > 0.03 "
                 "or minimum_cost <> (select sum(th_shortfall) from fct_ndt_employee e "
                 "where e.simulation_year = fct_ndt_summary.simulation_year))")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_workforce_snapshot s "
                 "using (employee_id, simulation_year) where e.th_required > 0 and "
                 "(e.is_key or s.termination_date is not null or not e.adp_eligible)")


def test_14_deferral_balances_roll(run):
    _, con = run
    none_of(con, """select e.employee_id from fct_ndt_employee e join fct_dc_contributions c using (employee_id, simulation_year)
                    join fct_workforce_snapshot s using (employee_id, simulation_year)
                    where (s.termination_date is null and (e.deferral_balance_eoy <> e.deferral_balance_boy + c.employee_deferral
                                                            or e.th_distribution <> 0))
                       or (s.termination_date is not null and (e.deferral_balance_eoy <> 0 or e.th_distribution <>
                           e.deferral_balance_boy + c.employee_deferral + c.vested_amount))""")
    none_of(con, "select e.employee_id from fct_ndt_employee e join fct_ndt_employee p "
                 "on p.employee_id = e.employee_id and p.simulation_year = e.simulation_year - 1 "
                 "where e.deferral_balance_boy <> p.deferral_balance_eoy")


def test_15_coverage(run):
    _, con = run
    none_of(con, "select * from fct_ndt_summary where test like 'coverage_%' and ratio is not null "
                 "and (status = 'pass') <> (ratio >= 0.70)")


def test_2_money_tables_are_the_same_with_ndt_on(sims):
    on, off = sims.get(DESIGN_A), sims.get(MONEY_SPEC)
    with on.connect() as a, off.connect() as b:
        for table, order in (("fct_dc_contributions", "employee_id, simulation_year"),
                             ("fct_dc_plan_summary", "simulation_year"),
                             ("fct_workforce_snapshot", "employee_id, simulation_year")):
            sql = f"select * from {table} order by {order}"
            assert rows(a, sql) == rows(b, sql), table
        assert rows(b, "select count(*) from fct_ndt_employee") == [(0,)]


def test_1_rerunning_a_year_replaces_its_ndt_rows(sims, tmp_path):
    import shutil

    import duckdb

    from planwise_core.context import RunContext
    from planwise_core.hooks import Hooks
    from planwise_core.manager import get_plugin_manager

    source = sims.get(DESIGN_A)
    database = tmp_path / "sim.duckdb"  # the registry's file name: its catalog's parse is reused
    shutil.copy(source.database, database)
    tables = {"fct_ndt_employee": "employee_id, simulation_year", "fct_ndt_summary": "simulation_year, test, test_group"}

    def dump(con):
        return {t: rows(con, f"select * from {t} order by {order}") for t, order in tables.items()}

    with duckdb.connect(str(database), read_only=True) as con:
        before = dump(con)
    assert all(before.values())
    ctx = RunContext(config=DESIGN_A.config(), database=database, run_id="rerun")
    Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2029)
    with duckdb.connect(str(database), read_only=True) as con:
        assert dump(con) == before
