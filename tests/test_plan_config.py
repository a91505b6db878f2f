"""The plan: section (docs/plan_rules.md 2.2): defaults, one case per validation rule with its key path, dbt vars."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest
import yaml

from planwise_core.config import PlanwiseConfig, check_configuration, config_from_dict
from planwise_core.config.plan import first_irs_year, is_generous_enough, vesting_presets
from planwise_core.engine.project import DBT_PROJECT_DIR

# docs/plan_rules.md section 2.2, as written there.
DC_PLAN_DEFAULTS = yaml.safe_load("""
enabled: true
irs_limits: {cpi_growth: 0.025, wage_growth: 0.035}
hours_per_week: 40
normal_retirement_age: 65
deferrals:
  max_deferral_rate: 0.75
  catch_up: true
  super_catch_up: true
  apply_401a17: true
  eaca_refund_on_opt_out: true
  roth: {enabled: false, share: 0.0, mandatory_roth_catch_up: true}
auto_escalation:
  enabled: false
  increment: 0.01
  cap: 0.10
  effective_mmdd: "01-01"
  first_delay_years: 1
  scope: all_participants
  hire_date_cutoff: null
  opt_out_rate: 0.0
match:
  enabled: true
  tiers:
    - {deferral_max: 0.03, rate: 1.00}
    - {deferral_max: 0.05, rate: 0.50}
  cap_pct_of_comp: null
  cap_dollars: null
  graded_by: none
  bands: []
  calculation: annual_true_up
  match_catch_up: true
  eligibility: {waiting_period_days: null, minimum_age: null, entry: immediate}
  allocation: {last_day_rule: false, minimum_hours: 0, retirement_age_exemption: null}
  vesting: {schedule: immediate, custom: null, service_method: elapsed_time}
  safe_harbor: false
core:
  enabled: false
  graded_by: none
  bands: [{min: 0, max: null, rate: 0.03}]
  eligibility: {waiting_period_days: 365, minimum_age: 21, entry: immediate}
  allocation: {last_day_rule: true, minimum_hours: 1000, retirement_age_exemption: 65}
  vesting: {schedule: graded_6, custom: null, service_method: elapsed_time}
  safe_harbor: false
match_response:
  enabled: true
  upward: {enabled: true, probability: 0.40, maximize_share: 0.60, partial_factor: 0.50}
  downward: {enabled: true, probability: 0.15, maximize_share: 0.70, partial_factor: 0.50}
  new_enrollee_share: 0.0
limit_415: {correction_order: epcrs}
forfeitures: {use: reduce_employer_contributions, opening_pool: 0.0}
ndt: {enabled: false, testing_method: current_year, prior_year_nhce: {adp: null, acp: null},
      testing_compensation: eligible_period, top_paid_group_election: false, otherwise_excludable: exclude_nhce}
""")

BASE = {"simulation": {"start_year": 2025, "end_year": 2029}, "workforce": {"total_termination_rate": 0.12},
        "random_seed": 42}


def with_plan(path: str, value) -> dict:
    """BASE with one dotted key set (paths may start outside plan:)."""
    config = copy.deepcopy(BASE)
    node = config
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return config


def test_defaults_are_dc_plan_defaults():
    assert PlanwiseConfig().to_dict()["plan"] == DC_PLAN_DEFAULTS
    assert config_from_dict({**BASE, "plan": DC_PLAN_DEFAULTS}) == PlanwiseConfig()


def test_vesting_presets_come_from_the_seed_and_equal_dc_plan():
    f = Fraction
    assert vesting_presets() == {
        "immediate": ((0, f(1)),),
        "cliff_2": ((0, f(0)), (2, f(1))),
        "cliff_3": ((0, f(0)), (3, f(1))),
        "graded_3": ((0, f(0)), (1, f("0.3333")), (2, f("0.6667")), (3, f(1))),
        "graded_4": ((0, f(0)), (1, f("0.25")), (2, f("0.5")), (3, f("0.75")), (4, f(1))),
        "graded_5": ((0, f(0)), (1, f("0.2")), (2, f("0.4")), (3, f("0.6")), (4, f("0.8")), (5, f(1))),
        "graded_6": ((0, f(0)), (2, f("0.2")), (3, f("0.4")), (4, f("0.6")), (5, f("0.8")), (6, f(1))),
    }
    assert all(is_generous_enough(steps) for steps in vesting_presets().values())
    assert not is_generous_enough(((0, f(0)), (4, f(1))))  # no 4-year cliff
    assert first_irs_year() == 2024


# (key path set, value, key path expected in the error, fragment of its reason)
BAD_CASES = [
    ("plan.enabled", "yes", "plan.enabled", "true or false"),
    ("plan.colour", 1, "plan.colour", "unknown key"),
    ("plan.match.tierz", [], "plan.match.tierz", "did you mean 'tiers'?"),
    ("plan.irs_limits.cpi_growth", 1.5, "plan.irs_limits.cpi_growth", "must be in [0, 1]"),
    ("plan.hours_per_week", 0, "plan.hours_per_week", "must be in (0, 168]"),
    ("plan.normal_retirement_age", 65.5, "plan.normal_retirement_age", "must be an integer"),
    ("plan.deferrals.max_deferral_rate", 0, "plan.deferrals.max_deferral_rate", "must be in (0, 1]"),
    ("plan.deferrals.roth.share", 1.2, "plan.deferrals.roth.share", "must be in [0, 1]"),
    ("plan.auto_escalation.increment", 0, "plan.auto_escalation.increment", "must be in (0, 1]"),
    ("plan.auto_escalation.cap", 0, "plan.auto_escalation.cap", "must be in (0, 1]"),
    ("plan.auto_escalation.effective_mmdd", "02-29", "plan.auto_escalation.effective_mmdd", "MM-DD"),
    ("plan.auto_escalation.effective_mmdd", "1-1", "plan.auto_escalation.effective_mmdd", "MM-DD"),
    ("plan.auto_escalation.scope", "auto_only", "plan.auto_escalation.scope", "all_participants, auto_enrolled_only"),
    ("plan.auto_escalation.opt_out_rate", -0.1, "plan.auto_escalation.opt_out_rate", "[0, 1]"),
    ("plan.match.tiers", [], "plan.match.tiers", "at least one tier"),
    ("plan.match.tiers", {"deferral_max": 0.03}, "plan.match.tiers", "must be a list"),
    ("plan.match.tiers", [{"deferral_max": 0.03, "rate": 10.5}], "plan.match.tiers[0].rate", "must be in [0, 10]"),
    ("plan.match.tiers", [{"deferral_max": 0, "rate": 1}], "plan.match.tiers[0].deferral_max", "must be in (0, 1]"),
    ("plan.match.tiers", [{"rate": 1}], "plan.match.tiers[0].deferral_max", "required key is missing"),
    ("plan.match.tiers", [{"deferral_max": 0.05, "rate": 1}, {"deferral_max": 0.05, "rate": 0.5}],
     "plan.match.tiers[1].deferral_max", "must be greater than the previous tier's 0.05"),
    ("plan.match.tiers", [{"deferral_max": 0.03, "rate": 1, "cap": 1}], "plan.match.tiers[0].cap", "unknown key"),
    ("plan.match.graded_by", "tenure", "plan.match.graded_by", "none, service, age, points"),
    ("plan.match.graded_by", "service", "plan.match.bands", "needs at least one band"),
    ("plan.match.calculation", "monthly", "plan.match.calculation", "annual_true_up"),
    ("plan.match.eligibility.entry", "quarterly", "plan.match.eligibility.entry", "immediate, first_of_next_month"),
    ("plan.match.allocation.minimum_hours", -1, "plan.match.allocation.minimum_hours", "[0, 8784]"),
    ("plan.match.vesting.schedule", "cliff_4", "plan.match.vesting.schedule", "must be one of immediate"),
    ("plan.match.vesting", {"schedule": "custom"}, "plan.match.vesting.custom", "required when schedule is custom"),
    ("plan.match.vesting", {"schedule": "graded_6", "custom": {0: 0, 1: 1}}, "plan.match.vesting.custom",
     "only used with schedule: custom"),
    ("plan.match.vesting", {"schedule": "custom", "custom": {0: 0, 4: 1}}, "plan.match.vesting.custom",
     "less generous than both legal minimums"),
    ("plan.match.vesting", {"schedule": "custom", "custom": {0: 0, 1: 0.5, 2: 0.4, 3: 1}},
     "plan.match.vesting.custom", "must not decrease"),
    ("plan.match.vesting", {"schedule": "custom", "custom": {0: 0, 1: 0.5}}, "plan.match.vesting.custom",
     "must reach 1"),
    ("plan.match.vesting", {"schedule": "custom", "custom": {0: 1.5}}, "plan.match.vesting.custom",
     "entry 0: must be in [0, 1]"),
    ("plan.core.bands", [{"min": 0, "max": 5, "rate": 0.02}, {"min": 6, "max": None, "rate": 0.04}],
     "plan.core.bands[1].min", "must start where band 0 ends (5)"),
    ("plan.core.bands", [{"min": 1, "max": None, "rate": 0.02}], "plan.core.bands[0].min", "must start at 0"),
    ("plan.core.bands", [{"min": 0, "max": 5, "rate": 0.02}], "plan.core.bands[0].max", "must be open-ended"),
    ("plan.core.bands", [{"min": 0, "max": None, "rate": 0.02}, {"min": 5, "max": None, "rate": 0.04}],
     "plan.core.bands[0].max", "only the last band may be open-ended"),
    ("plan.core.bands", [{"min": 0, "max": 0, "rate": 0.02}, {"min": 0, "max": None, "rate": 0.04}],
     "plan.core.bands[0].max", "must be greater than min 0"),
    ("plan.core.bands", [{"min": 0, "max": None, "rate": 1.5}], "plan.core.bands[0].rate", "must be in [0, 1]"),
    ("plan.core.bands", [{"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": None, "rate": 0.04}],
     "plan.core.bands", "graded_by none takes one flat rate"),
    ("plan.limit_415.correction_order", "deferrals_first", "plan.limit_415.correction_order", "epcrs, employer_first"),
    ("plan.forfeitures.use", "keep", "plan.forfeitures.use", "reduce_employer_contributions"),
    ("plan.forfeitures.opening_pool", -5, "plan.forfeitures.opening_pool", "must be in [0, 1000000000000]"),
    ("plan.auto_escalation", {"cap": 0.8}, "plan.auto_escalation.cap", "at most deferrals.max_deferral_rate"),
    ("plan.match", {"safe_harbor": True, "vesting": {"schedule": "graded_6"}}, "plan.match.vesting.schedule",
     "vests immediately"),
    ("plan.match", {"safe_harbor": True, "allocation": {"last_day_rule": True}}, "plan.match.allocation.last_day_rule",
     "must be false for a safe-harbor"),
    ("plan.core", {"enabled": True, "safe_harbor": True, "vesting": {"schedule": "immediate"},
                   "allocation": {"last_day_rule": False, "minimum_hours": 1000}},
     "plan.core.allocation.minimum_hours", "must be 0 for a safe-harbor"),
    ("simulation.start_year", 2023, "simulation.start_year", "published ones start in 2024"),
    ("enrollment", {"auto_enrollment": {"opt_out_grace_period": 91}},
     "enrollment.auto_enrollment.opt_out_grace_period", "at most 90 days"),
]


@pytest.mark.parametrize("path, value, where, reason", BAD_CASES, ids=[f"{c[0]}={c[1]!r}"[:70] for c in BAD_CASES])
def test_each_plan_rule_rejects_with_key_path(path, value, where, reason):
    errors = check_configuration(with_plan(path, value)).errors
    assert any(e.startswith(f"{where}: ") and reason in e for e in errors), errors


@pytest.mark.parametrize("path, value, where, reason", [
    ("plan.match", {"graded_by": "none", "bands": [{"min": 0, "tiers": [{"deferral_max": 0.04, "rate": 1}]}]},
     "plan.match.bands", "ignored because graded_by is none"),
    ("plan.match", {"calculation": "per_pay_period", "allocation": {"last_day_rule": True}},
     "plan.match.allocation.last_day_rule", "no effect with calculation per_pay_period"),
    ("plan.match", {"safe_harbor": True, "tiers": [{"deferral_max": 0.06, "rate": 0.5}]}, "plan.match.tiers",
     "below the basic safe harbor"),
    ("plan.match", {"safe_harbor": True, "tiers": [{"deferral_max": 0.04, "rate": 1}], "cap_pct_of_comp": 0.03},
     "plan.match.tiers", "below the basic safe harbor"),
    ("plan.match", {"safe_harbor": True, "vesting": {"schedule": "cliff_2"},
                    "tiers": [{"deferral_max": 0.03, "rate": 0.5}]}, "plan.match.tiers", "below the QACA"),
    ("plan.core", {"enabled": True, "safe_harbor": True, "bands": [{"min": 0, "rate": 0.02}],
                   "vesting": {"schedule": "immediate"}, "allocation": {"last_day_rule": False, "minimum_hours": 0}},
     "plan.core.bands", "at least 3 %"),
])
def test_plan_warnings_do_not_invalidate(path, value, where, reason):
    problems = check_configuration(with_plan(path, value))
    assert problems.errors == ()
    assert [w for w in problems.warnings if w.startswith(f"{where}: ") and reason in w], problems.warnings


@pytest.mark.parametrize("match", [
    {"safe_harbor": True},  # the basic formula, immediate vesting
    {"safe_harbor": True, "tiers": [{"deferral_max": 0.04, "rate": 1.0}]},  # enhanced
    {"safe_harbor": True, "vesting": {"schedule": "cliff_2"},
     "tiers": [{"deferral_max": 0.01, "rate": 1.0}, {"deferral_max": 0.06, "rate": 0.5}]},  # QACA
])
def test_safe_harbor_presets_are_clean(match):
    problems = check_configuration(with_plan("plan.match", match))
    assert (problems.errors, problems.warnings) == ((), ())


def test_rules_run_when_their_own_keys_are_valid():
    """A bad key elsewhere in the section does not hide the cap rule; a bad cap hides it (no second message)."""
    config = with_plan("plan.auto_escalation", {"cap": 0.8, "scope": "bad"})
    config["plan"]["deferrals"] = {"max_deferral_rate": 0.5}
    errors = check_configuration(config).errors
    assert [e.split(":")[0] for e in errors] == ["plan.auto_escalation.scope", "plan.auto_escalation.cap"]
    config["plan"]["deferrals"] = {"max_deferral_rate": 2}
    errors = check_configuration(config).errors
    assert [e.split(":")[0] for e in errors] == ["plan.deferrals.max_deferral_rate", "plan.auto_escalation.scope"]


def test_a_disabled_plan_allows_years_before_the_irs_seed():
    config = with_plan("plan.enabled", False)
    config["simulation"]["start_year"] = 2020
    assert check_configuration(config).errors == ()


def test_records_round_trip_and_overrides():
    config = PlanwiseConfig().with_overrides(**{
        "plan.match.graded_by": "service",
        "plan.match.bands": [{"min": 0, "max": 5, "tiers": [{"deferral_max": 0.04, "rate": 0.5}]},
                             {"min": 5, "tiers": [{"deferral_max": 0.06, "rate": 1.0}], "cap_dollars": 5000}],
        "plan.core.vesting": {"schedule": "custom", "custom": {0: 0, 1: 0.5, 2: 1}},
    })
    data = config.to_dict()
    assert data["plan"]["match"]["bands"][1] == {"min": 5, "max": None, "tiers": [{"deferral_max": 0.06, "rate": 1.0}],
                                                 "cap_pct_of_comp": None, "cap_dollars": 5000.0}
    assert data["plan"]["core"]["vesting"]["custom"] == {0: 0.0, 1: 0.5, 2: 1.0}
    assert config_from_dict(data) == config
    dbt_vars = config.to_dbt_vars()
    assert dbt_vars["plan_match_bands"][0]["tiers"] == [{"deferral_max": 0.04, "rate": 0.5}]
    assert dbt_vars["plan_core_vesting_custom"] == [{"years": 0, "vested": 0.0}, {"years": 1, "vested": 0.5},
                                                    {"years": 2, "vested": 1.0}]


def _leaves(data: dict, prefix: str = "plan") -> list[str]:
    out = []
    for key, value in data.items():
        path = f"{prefix}.{key}"
        out += _leaves(value, path) if isinstance(value, dict) and key != "custom" else [path]
    return out


# A valid value different from the default for every key of plan:, to prove each one reaches a dbt var.
CHANGED = {
    "plan.enabled": False, "plan.irs_limits.cpi_growth": 0.03, "plan.irs_limits.wage_growth": 0.04,
    "plan.hours_per_week": 37.5, "plan.normal_retirement_age": 62,
    "plan.deferrals.max_deferral_rate": 0.5, "plan.deferrals.catch_up": False, "plan.deferrals.super_catch_up": False,
    "plan.deferrals.apply_401a17": False, "plan.deferrals.eaca_refund_on_opt_out": False,
    "plan.deferrals.roth.enabled": True, "plan.deferrals.roth.share": 0.5,
    "plan.deferrals.roth.mandatory_roth_catch_up": False,
    "plan.auto_escalation.enabled": True, "plan.auto_escalation.increment": 0.02, "plan.auto_escalation.cap": 0.15,
    "plan.auto_escalation.effective_mmdd": "07-01", "plan.auto_escalation.first_delay_years": 0,
    "plan.auto_escalation.scope": "auto_enrolled_only", "plan.auto_escalation.hire_date_cutoff": "2020-01-01",
    "plan.auto_escalation.opt_out_rate": 0.2,
    "plan.match.enabled": False, "plan.match.tiers": [{"deferral_max": 0.06, "rate": 0.5}],
    "plan.match.cap_pct_of_comp": 0.03, "plan.match.cap_dollars": 5000, "plan.match.graded_by": "age",
    "plan.match.bands": [{"min": 0, "tiers": [{"deferral_max": 0.04, "rate": 1}]}],
    "plan.match.calculation": "per_pay_period", "plan.match.match_catch_up": False,
    "plan.match.eligibility.waiting_period_days": 90, "plan.match.eligibility.minimum_age": 18,
    "plan.match.eligibility.entry": "first_of_next_month", "plan.match.allocation.last_day_rule": True,
    "plan.match.allocation.minimum_hours": 500, "plan.match.allocation.retirement_age_exemption": 60,
    "plan.match.vesting.schedule": "custom", "plan.match.vesting.custom": {0: 0, 2: 1},
    "plan.match.vesting.service_method": "hours", "plan.match.safe_harbor": True,
    "plan.core.enabled": True, "plan.core.graded_by": "points",
    "plan.core.bands": [{"min": 0, "max": 50, "rate": 0.02}, {"min": 50, "rate": 0.05}],
    "plan.core.eligibility.waiting_period_days": 0, "plan.core.eligibility.minimum_age": None,
    "plan.core.eligibility.entry": "first_of_next_month", "plan.core.allocation.last_day_rule": False,
    "plan.core.allocation.minimum_hours": 0, "plan.core.allocation.retirement_age_exemption": None,
    "plan.core.vesting.schedule": "cliff_3", "plan.core.vesting.custom": {0: 0, 2: 1},
    "plan.core.vesting.service_method": "hours", "plan.core.safe_harbor": True,
    "plan.limit_415.correction_order": "employer_first", "plan.forfeitures.use": "pay_expenses",
    "plan.forfeitures.opening_pool": 1000.0,
    "plan.match_response.enabled": False, "plan.match_response.new_enrollee_share": 0.5,
    **{f"plan.match_response.{side}.{key}": value for side in ("upward", "downward")
       for key, value in (("enabled", False), ("probability", 0.9), ("maximize_share", 0.1), ("partial_factor", 0.9))},
    "plan.ndt.enabled": True, "plan.ndt.testing_method": "prior_year", "plan.ndt.prior_year_nhce.adp": 0.04,
    "plan.ndt.prior_year_nhce.acp": 0.02, "plan.ndt.testing_compensation": "plan_year",
    "plan.ndt.top_paid_group_election": True, "plan.ndt.otherwise_excludable": "none",
}


# Keys whose changed value needs companion keys to be valid: (companions, companions of the reference run).
COMPANIONS = {
    "plan.match.vesting.schedule": ({"plan.match.vesting.custom": {0: 0, 2: 1}}, {}),
    "plan.match.graded_by": ({"plan.match.bands": [{"min": 0, "tiers": [{"deferral_max": 0.03, "rate": 1}]}]},) * 2,
    "plan.match.bands": ({"plan.match.graded_by": "age"},
                         {"plan.match.graded_by": "age",
                          "plan.match.bands": [{"min": 0, "tiers": [{"deferral_max": 0.05, "rate": 1}]}]}),
    "plan.match.vesting.custom": ({"plan.match.vesting.schedule": "custom"},
                                  {"plan.match.vesting.schedule": "custom", "plan.match.vesting.custom": {0: 0, 1: 1}}),
    "plan.core.bands": ({"plan.core.graded_by": "points"}, {"plan.core.graded_by": "points"}),
    "plan.core.vesting.custom": ({"plan.core.vesting.schedule": "custom"},
                                 {"plan.core.vesting.schedule": "custom", "plan.core.vesting.custom": {0: 0, 1: 1}}),
    "plan.core.safe_harbor": ({"plan.core.vesting.schedule": "immediate", "plan.core.allocation.last_day_rule": False,
                               "plan.core.allocation.minimum_hours": 0},) * 2,
}


def test_every_plan_key_reaches_a_dbt_var():
    leaves = _leaves(PlanwiseConfig().to_dict()["plan"])
    assert sorted(leaves) == sorted(CHANGED), "give every plan key a changed value here"
    for path, value in CHANGED.items():
        companions, reference = COMPANIONS.get(path, ({}, {}))
        before = PlanwiseConfig().with_overrides(**reference).to_dbt_vars()
        after = PlanwiseConfig().with_overrides(**companions, **{path: value}).to_dbt_vars()
        assert after != before, f"{path} does not reach any dbt var"


def test_dbt_project_vars_hold_the_plan_defaults():
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    plan_vars = {k: v for k, v in PlanwiseConfig().to_dbt_vars().items() if k.startswith("plan_")}
    assert {k: v for k, v in project.items() if k.startswith("plan_")} == plan_vars
    assert plan_vars["plan_match_tiers"] == [{"deferral_max": 0.03, "rate": 1.0}, {"deferral_max": 0.05, "rate": 0.5}]
    assert plan_vars["plan_match_safe_harbor"] is False and plan_vars["plan_core_safe_harbor"] is False


def test_cli_refuses_a_bad_plan_with_key_paths_and_no_traceback(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    config = with_plan("plan.match.tiers", [{"deferral_max": 0.05, "rate": 12}])
    config["plan"]["auto_escalation"] = {"cap": 0.9, "effective_mmdd": "13-01"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    planwise = Path(sys.executable).parent / "planwise"
    proc = subprocess.run([str(planwise), "--config", str(path), "run", "--database", str(tmp_path / "x.duckdb")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"Error: Invalid configuration in {path}")
    for line in ("plan.match.tiers[0].rate: must be in [0, 10] (got 12)", "plan.auto_escalation.effective_mmdd: must be",
                 "plan.auto_escalation.cap: must be at most deferrals.max_deferral_rate 0.75 (got 0.9)"):
        assert line in proc.stderr, proc.stderr
    assert not (tmp_path / "x.duckdb").exists()
