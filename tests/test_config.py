"""Run configuration: one case per validation rule, loading, round-trips, dbt vars."""

import datetime
import logging

import pytest

from planwise_core.config import (
    DEFAULT_CONFIG_PATH,
    PlanwiseConfig,
    check_configuration,
    config_from_dict,
    load_and_validate_config,
    load_config,
    validate_configuration,
)
from planwise_core.errors import ConfigError

class _Delete:
    """Sentinel: remove the key. A stable repr keeps test ids identical across xdist workers."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()


def domain_config() -> dict:
    """The configuration of docs/domain.md section 2, written out in full."""
    return {
        "simulation": {"start_year": 2025, "end_year": 2029, "target_growth_rate": 0.03},
        "workforce": {"total_termination_rate": 0.12, "new_hire_termination_rate": 0.25,
                      "retirement": {"enabled": True, "rate_multiplier": 1.0}},
        "compensation": {"cola_rate": 0.005, "merit_budget": None},
        "eligibility": {"waiting_period_days": 30, "minimum_age": 21},
        "enrollment": {
            "auto_enrollment": {
                "enabled": True, "window_days": 45, "default_deferral_rate": 0.06,
                "opt_out_grace_period": 30, "scope": "new_hires_only",
                "hire_date_cutoff": "2024-01-01",
            },
            "proactive_enrollment": {
                "enabled": True,
                "probability_by_age": {"young": 0.25, "mid_career": 0.45, "mature": 0.65, "senior": 0.75},
            },
            "voluntary_enrollment": {"enabled": True, "annual_probability": 0.10},
            "opt_out_rate_by_age": {"young": 0.35, "mid_career": 0.20, "mature": 0.15, "senior": 0.10},
            "deferral_rate_distribution": {0.03: 0.25, 0.06: 0.35, 0.10: 0.20, 0.15: 0.10, 0.20: 0.10},
        },
        "random_seed": 42,
    }


def with_change(path: str, value) -> dict:
    config = domain_config()
    *parents, leaf = path.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    if value is DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return config


# (changed key, new value, key path expected in the error, fragment of its reason)
BAD_CASES = [
    ("simulation", DELETE, "simulation", "required section is missing"),
    ("workforce", DELETE, "workforce", "required section is missing"),
    ("random_seed", DELETE, "random_seed", "required key is missing"),
    ("simulation.start_year", DELETE, "simulation.start_year", "required key is missing"),
    ("simulation.end_year", DELETE, "simulation.end_year", "required key is missing"),
    ("workforce.total_termination_rate", DELETE, "workforce.total_termination_rate", "required key"),
    ("simulation.start_year", True, "simulation.start_year", "must be an integer (got bool True)"),
    ("simulation.start_year", "2025", "simulation.start_year", "must be an integer (got str '2025')"),
    ("simulation.end_year", 2024.0, "simulation.end_year", "must be an integer"),
    ("simulation.end_year", 2024, "simulation.end_year", "must be >= start_year 2025 (got 2024)"),
    ("simulation.target_growth_rate", -1, "simulation.target_growth_rate", "must be in (-1, 1]"),
    ("simulation.target_growth_rate", 1.01, "simulation.target_growth_rate", "must be in (-1, 1]"),
    ("simulation.target_growth_rate", "3%", "simulation.target_growth_rate", "must be a number"),
    ("simulation.census_date", "31/12/2024", "simulation.census_date", "ISO date"),
    ("simulation.census_date", "2025-03-31", "simulation.census_date", "must be before start_year 2025"),
    ("workforce.total_termination_rate", 1.2, "workforce.total_termination_rate", "must be in [0, 1]"),
    ("workforce.total_termination_rate", -0.1, "workforce.total_termination_rate", "must be in [0, 1]"),
    ("workforce.total_termination_rate", float("nan"), "workforce.total_termination_rate", "[0, 1]"),
    ("workforce.new_hire_termination_rate", 1, "workforce.new_hire_termination_rate", "must be in [0, 1)"),
    ("workforce.retirement.enabled", "yes", "workforce.retirement.enabled", "true or false"),
    ("workforce.retirement.rate_multiplier", 11, "workforce.retirement.rate_multiplier", "must be in [0, 10] (got 11)"),
    ("workforce.retirement.rate_multiplier", -0.5, "workforce.retirement.rate_multiplier", "must be in [0, 10]"),
    ("workforce.retirement.rate", 0.02, "workforce.retirement.rate", "unknown key (allowed: enabled, rate_multiplier)"),
    ("workforce.retirement", True, "workforce.retirement", "must be a mapping"),
    ("compensation.cola_rate", 2.5, "compensation.cola_rate", "must be in [0, 1] (got 2.5; did you mean 0.025?)"),
    ("compensation.merit_budget", -0.01, "compensation.merit_budget", "must be in [0, 1]"),
    ("eligibility.waiting_period_days", -1, "eligibility.waiting_period_days", "must be in [0, 3650]"),
    ("eligibility.waiting_period_days", 100_000_000_000, "eligibility.waiting_period_days",
     "must be in [0, 3650] (got 100000000000)"),
    ("eligibility.waiting_period_days", 30.5, "eligibility.waiting_period_days", "must be an integer"),
    ("eligibility.minimum_age", 101, "eligibility.minimum_age", "must be in [0, 100] (got 101)"),
    ("enrollment.auto_enrollment.enabled", "yes", "enrollment.auto_enrollment.enabled", "true or false"),
    ("enrollment.auto_enrollment.window_days", -5, "enrollment.auto_enrollment.window_days", "in [0, 365]"),
    ("enrollment.auto_enrollment.window_days", 10**6, "enrollment.auto_enrollment.window_days", "in [0, 365]"),
    ("enrollment.auto_enrollment.opt_out_grace_period", 366, "enrollment.auto_enrollment.opt_out_grace_period",
     "in [0, 365]"),
    ("enrollment.auto_enrollment.default_deferral_rate", 6, "enrollment.auto_enrollment.default_deferral_rate",
     "must be in [0, 1]"),
    ("enrollment.auto_enrollment.opt_out_grace_period", "30", "enrollment.auto_enrollment.opt_out_grace_period",
     "must be an integer"),
    ("enrollment.auto_enrollment.scope", "new_hire_only", "enrollment.auto_enrollment.scope",
     "must be one of new_hires_only, all_eligible_employees (got 'new_hire_only')"),
    ("enrollment.auto_enrollment.hire_date_cutoff", "2024-13-01", "enrollment.auto_enrollment.hire_date_cutoff",
     "ISO date"),
    ("enrollment.auto_enrollment.hire_date_cutoff", 20240101, "enrollment.auto_enrollment.hire_date_cutoff",
     "ISO date"),
    ("enrollment.proactive_enrollment.probability_by_age.young", 1.1,
     "enrollment.proactive_enrollment.probability_by_age.young", "must be in [0, 1]"),
    ("enrollment.voluntary_enrollment.annual_probability", "high",
     "enrollment.voluntary_enrollment.annual_probability", "must be a number"),
    ("enrollment.opt_out_rate_by_age.senior", -0.2, "enrollment.opt_out_rate_by_age.senior", "[0, 1]"),
    ("enrollment.deferral_rate_distribution", {0.03: 0.5, 0.06: 0.4}, "enrollment.deferral_rate_distribution",
     "shares must sum to 1"),
    ("enrollment.deferral_rate_distribution", {0.03: 0.5, 1.5: 0.5}, "enrollment.deferral_rate_distribution",
     "rate of entry 1.5: must be in [0, 1]"),
    ("enrollment.deferral_rate_distribution", {0.03: 1.2, 0.06: -0.2}, "enrollment.deferral_rate_distribution",
     "share of entry 0.03: must be in [0, 1]"),
    ("enrollment.deferral_rate_distribution", {"three": 1.0}, "enrollment.deferral_rate_distribution",
     "rate of entry 'three': must be a number"),
    ("enrollment.deferral_rate_distribution", [0.03, 0.06], "enrollment.deferral_rate_distribution",
     "must be a mapping"),
    ("random_seed", True, "random_seed", "must be an integer (got bool True)"),
    ("random_seed", "42", "random_seed", "must be an integer"),
    ("workforce", [0.12], "workforce", "must be a mapping of keys (got a list)"),
    ("enrollment.auto_enrollment", "on", "enrollment.auto_enrollment", "must be a mapping"),
    ("simulaton", {}, "simulaton", "unknown key (did you mean 'simulation'?)"),
    ("enrollment.auto_enrollment.windw_days", 45, "enrollment.auto_enrollment.windw_days",
     "did you mean 'window_days'?"),
    ("eligibility.colour", 1, "eligibility.colour", "unknown key (allowed: waiting_period_days, minimum_age)"),
    ("orchestration.optimization_level", "turbo", "orchestration.optimization_level",
     "must be one of max, high, medium, low, fallback"),
    ("orchestration.max_workers", 0, "orchestration.max_workers", "must be in [1, 64] (got 0)"),
    ("orchestration.max_workers", 100_000, "orchestration.max_workers", "must be in [1, 64] (got 100000)"),
    ("orchestration.batch_size", 0, "orchestration.batch_size", "must be in [1, 10000000]"),
    ("orchestration.batch_size", 10**12, "orchestration.batch_size", "must be in [1, 10000000]"),
    ("orchestration.max_retries", -1, "orchestration.max_retries", "must be in [0, 10]"),
    ("orchestration.max_retries", 10**9, "orchestration.max_retries", "must be in [0, 10]"),
    ("orchestration.retry_backoff_seconds", -0.5, "orchestration.retry_backoff_seconds", "must be in [0, 3600"),
    ("orchestration.retry_backoff_seconds", 1e12, "orchestration.retry_backoff_seconds", "must be in [0, 3600"),
    ("simulation.start_year", 0, "simulation.start_year", "must be in [1900, 2200] (got 0)"),
    ("simulation.start_year", -2025, "simulation.start_year", "must be in [1900, 2200] (got -2025)"),
    ("simulation.end_year", 99999, "simulation.end_year", "must be in [1900, 2200] (got 99999)"),
    ("simulation.census_date", "0001-01-01", "simulation.census_date", "must be a date in the years 1900-2200"),
    ("enrollment.auto_enrollment.hire_date_cutoff", "9999-12-31", "enrollment.auto_enrollment.hire_date_cutoff",
     "must be a date in the years 1900-2200"),
    ("random_seed", 2**70, "random_seed", "must be in [-9223372036854775808, 9223372036854775807]"),
    ("census.on_invalid_rows", "skip", "census.on_invalid_rows", "must be one of refuse, drop (got 'skip')"),
    ("census", "drop", "census", "must be a mapping"),
    ("orchestration.fail_fast", "no", "orchestration.fail_fast", "true or false"),
    ("orchestration.enable_compression", 1, "orchestration.enable_compression", "true or false"),
]


@pytest.mark.parametrize(
    "changed, value, path, reason", BAD_CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in BAD_CASES]
)
def test_each_rule_rejects_with_key_path(changed, value, path, reason):
    is_valid, errors = validate_configuration(with_change(changed, value))
    assert is_valid is False
    assert any(e.startswith(f"{path}: ") and reason in e for e in errors), errors


# Accepted spellings: each must validate and normalize to the given value.
GOOD_CASES = [
    ("enrollment.deferral_rate_distribution", {"0.03": 0.5, "0.06": 0.5}, ((0.03, 0.5), (0.06, 0.5))),
    ("enrollment.deferral_rate_distribution", {0.06: 0.4995, 0.03: 0.5}, ((0.03, 0.5), (0.06, 0.4995))),
    ("enrollment.auto_enrollment.hire_date_cutoff", datetime.date(2023, 6, 1), datetime.date(2023, 6, 1)),
    ("enrollment.auto_enrollment.hire_date_cutoff", None, None),
    ("enrollment.auto_enrollment.scope", "all_eligible_employees", "all_eligible_employees"),
    ("simulation.census_date", "2024-06-30", datetime.date(2024, 6, 30)),
    ("simulation.target_growth_rate", -0.2, -0.2),
    ("simulation.target_growth_rate", 1, 1.0),
    ("compensation.cola_rate", None, None),
    ("workforce.retirement.rate_multiplier", 2, 2.0),
    ("workforce.retirement.enabled", False, False),
    ("orchestration.optimization_level", "FallBack", "fallback"),
]


@pytest.mark.parametrize("changed, value, expected", GOOD_CASES, ids=[c[0] for c in GOOD_CASES])
def test_accepted_values_are_normalized(changed, value, expected):
    config = config_from_dict(with_change(changed, value))
    node = config
    for part in changed.split("."):
        node = getattr(node, part)
    assert node == expected


def test_shipped_config_file_is_valid_and_equals_domain_defaults():
    config = load_config(DEFAULT_CONFIG_PATH)
    assert config.warnings == ()
    assert config == PlanwiseConfig()
    assert config == config_from_dict(domain_config())


def test_all_problems_are_reported_at_once():
    config = with_change("simulation.end_year", 2020)
    config["workforce"]["total_termination_rate"] = 1.5
    config["enrollment"]["auto_enrollment"]["scope"] = "everyone"
    problems = check_configuration(config)
    assert [e.split(":")[0] for e in problems.errors] == [
        "simulation.end_year", "workforce.total_termination_rate", "enrollment.auto_enrollment.scope"
    ]
    with pytest.raises(ConfigError) as raised:
        config_from_dict(config, source="run.yaml")
    assert raised.value.source == "run.yaml"
    assert len(raised.value.problems) == 3


def test_problems_as_data_carry_the_key_path_the_message_and_the_severity():
    """Problems.items: every text line once, as a Problem whose path is a tuple of keys and list indices."""
    config = with_change("simulation.end_year", 2040)  # a warning: 16 years
    config["workforce"]["total_termination_rate"] = 1.5
    config["plan"] = {"match": {"tiers": [{"deferral_max": 0.03, "rate": 1.0}, {"deferral_max": 3, "rate": 0.5}]}}
    problems = check_configuration(config)
    assert [str(p) for p in problems.items] == [*problems.errors, *problems.warnings]
    by_key = {p.key: p for p in problems.items}
    tier = by_key["plan.match.tiers[1].deferral_max"]
    assert tier.path == ("plan", "match", "tiers", 1, "deferral_max") and tier.severity == "error"
    assert tier.message == "must be in (0, 1] (got 3; did you mean 0.03?)"
    assert by_key["workforce.total_termination_rate"].to_dict() == {
        "key": "workforce.total_termination_rate", "path": ["workforce", "total_termination_rate"],
        "severity": "error", "message": "must be in [0, 1] (got 1.5; did you mean 0.015?)"}
    assert by_key["simulation.end_year"].severity == "warning"
    assert by_key["simulation.end_year"].message == "16 simulated years (more than 10); runs get long"
    with pytest.raises(ConfigError) as raised:
        config_from_dict(config)
    assert [str(p) for p in raised.value.items] == raised.value.problems
    top = check_configuration(["simulation"]).items[0]
    assert (top.path, top.key) == ((), "(top level)")


def test_empty_config_lists_every_required_section():
    assert check_configuration({}).errors == (
        "simulation: required section is missing (add a 'simulation:' mapping)",
        "workforce: required section is missing (add a 'workforce:' mapping)",
        "random_seed: required key is missing (add e.g. 'random_seed: 42')",
    )


def test_non_mapping_config_is_an_error():
    is_valid, errors = validate_configuration(["simulation"])
    assert is_valid is False
    assert errors == ["(top level): must be a mapping of sections (the file holds a list, not 'simulation:', "
                      "'workforce:', ... keys)"]


@pytest.mark.parametrize(
    "changed, value, path",
    [
        ("simulation.end_year", 2035, "simulation.end_year"),  # 11 years
        ("simulation.target_growth_rate", 0.6, "simulation.target_growth_rate"),
        ("simulation.target_growth_rate", -0.51, "simulation.target_growth_rate"),
    ],
)
def test_warnings_are_not_errors(changed, value, path, caplog):
    config = with_change(changed, value)
    assert validate_configuration(config) == (True, [])
    problems = check_configuration(config)
    assert [w.split(":")[0] for w in problems.warnings] == [path]
    with caplog.at_level(logging.WARNING, logger="planwise.config"):
        parsed = config_from_dict(config)
    assert parsed.warnings == problems.warnings
    assert path in caplog.text


def test_ten_years_and_half_growth_do_not_warn():
    config = with_change("simulation.end_year", 2034)
    config["simulation"]["target_growth_rate"] = 0.5
    assert check_configuration(config).warnings == ()


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("simulation:\n  start_year: 2025\n  end_year: [2029\nrandom_seed: 1\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.source == str(path)
    assert str(path) in str(raised.value)
    assert raised.value.problems[0].startswith("line 4,")


def test_missing_file_is_a_config_error(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.source == str(path)
    assert "No such file" in raised.value.problems[0]


def test_empty_file_lists_missing_sections(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert [p.split(":")[0] for p in raised.value.problems] == ["simulation", "workforce", "random_seed"]


def test_top_level_list_file_is_a_config_error(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- simulation\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.source == str(path)
    assert raised.value.problems[0].startswith("(top level): must be a mapping")


def test_minimal_config_gets_every_default():
    minimal = {
        "simulation": {"start_year": 2026, "end_year": 2027},
        "workforce": {"total_termination_rate": 0.1},
        "random_seed": 7,
    }
    expected = PlanwiseConfig().to_dict()
    expected["simulation"].update(start_year=2026, end_year=2027)
    expected["workforce"]["total_termination_rate"] = 0.1
    expected["random_seed"] = 7
    config = config_from_dict(minimal)
    assert config.to_dict() == expected
    assert config.simulation.effective_census_date == datetime.date(2025, 12, 31)


def test_partial_age_segments_keep_their_own_section_defaults():
    config = config_from_dict(with_change("enrollment.opt_out_rate_by_age", {"young": 0.5}))
    segments = config.enrollment.opt_out_rate_by_age
    assert (segments.young, segments.mid_career, segments.mature, segments.senior) == (0.5, 0.20, 0.15, 0.10)


def test_to_dict_round_trips():
    config = config_from_dict(with_change("simulation.census_date", "2024-06-30"))
    data = config.to_dict()
    assert data["simulation"]["census_date"] == "2024-06-30"
    assert data["enrollment"]["auto_enrollment"]["hire_date_cutoff"] == "2024-01-01"
    assert data["enrollment"]["deferral_rate_distribution"] == {0.03: 0.25, 0.06: 0.35, 0.1: 0.2, 0.15: 0.1, 0.2: 0.1}
    assert data["orchestration"]["optimization_level"] == "max"  # the default level: the compiled engine
    assert config_from_dict(data) == config
    assert config_from_dict(data).to_dict() == data


def test_with_overrides_applies_dotted_paths():
    base = PlanwiseConfig()
    changed = base.with_overrides(**{
        "simulation.start_year": 2026,
        "simulation.end_year": 2030,
        "enrollment.auto_enrollment.scope": "all_eligible_employees",
        "random_seed": 7,
    })
    assert (changed.simulation.start_year, changed.simulation.end_year) == (2026, 2030)
    assert changed.enrollment.auto_enrollment.scope == "all_eligible_employees"
    assert changed.random_seed == 7
    assert changed.workforce == base.workforce
    assert base.random_seed == 42  # the original is untouched


@pytest.mark.parametrize(
    "overrides, path",
    [
        ({"simulation.end_year": 2020}, "simulation.end_year"),
        ({"workforce.total_termination_rate": 2}, "workforce.total_termination_rate"),
        ({"simulation.strat_year": 2026}, "simulation.strat_year"),
        ({"random_seed.value": 1}, "random_seed.value"),
    ],
)
def test_with_overrides_revalidates(overrides, path):
    with pytest.raises(ConfigError) as raised:
        PlanwiseConfig().with_overrides(**overrides)
    assert raised.value.source == "<overrides>"
    assert [p.split(":")[0] for p in raised.value.problems] == [path]


def test_to_dbt_vars_of_default_config():
    # The plan_* vars have their own tests (tests/test_plan_config.py).
    dbt_vars = {k: v for k, v in PlanwiseConfig().to_dbt_vars().items() if not k.startswith("plan_")}
    assert dbt_vars == {
        "random_seed": 42,
        "start_year": 2025,
        "end_year": 2029,
        "census_date": "2024-12-31",
        "target_growth_rate": 0.03,
        "total_termination_rate": 0.12,
        "new_hire_termination_rate": 0.25,
        "retirement_enabled": True,
        "retirement_rate_multiplier": 1.0,
        "cola_rate": 0.005,
        "merit_budget": None,
        "waiting_period_days": 30,
        "minimum_age": 21,
        "auto_enrollment_enabled": True,
        "auto_enrollment_window_days": 45,
        "auto_enrollment_default_deferral_rate": 0.06,
        "opt_out_grace_period_days": 30,
        "auto_enrollment_scope": "new_hires_only",
        "auto_enrollment_hire_date_cutoff": "2024-01-01",
        "proactive_enrollment_enabled": True,
        "proactive_probability_young": 0.25,
        "proactive_probability_mid_career": 0.45,
        "proactive_probability_mature": 0.65,
        "proactive_probability_senior": 0.75,
        "voluntary_enrollment_enabled": True,
        "voluntary_enrollment_probability": 0.10,
        "opt_out_rate_young": 0.35,
        "opt_out_rate_mid_career": 0.20,
        "opt_out_rate_mature": 0.15,
        "opt_out_rate_senior": 0.10,
        "deferral_rate_distribution": [
            {"rate": 0.03, "share": 0.25},
            {"rate": 0.06, "share": 0.35},
            {"rate": 0.10, "share": 0.20},
            {"rate": 0.15, "share": 0.10},
            {"rate": 0.20, "share": 0.10},
        ],
    }


def test_to_dbt_vars_follow_the_config():
    config = PlanwiseConfig().with_overrides(**{
        "simulation.census_date": "2024-09-30",
        "compensation.cola_rate": None,
        "compensation.merit_budget": 0.04,
        "enrollment.auto_enrollment.hire_date_cutoff": None,
        "enrollment.deferral_rate_distribution": {"0.1": 0.6, "0.05": 0.4},
    })
    dbt_vars = config.to_dbt_vars()
    assert dbt_vars["census_date"] == "2024-09-30"
    assert (dbt_vars["cola_rate"], dbt_vars["merit_budget"]) == (None, 0.04)
    assert dbt_vars["auto_enrollment_hire_date_cutoff"] is None
    assert dbt_vars["deferral_rate_distribution"] == [{"rate": 0.05, "share": 0.4}, {"rate": 0.1, "share": 0.6}]


def test_load_and_validate_config_default_path_returns_normalized_dict():
    data = load_and_validate_config()
    assert data == PlanwiseConfig().to_dict()
    assert data["orchestration"]["max_workers"] == 2
    assert data["simulation"]["census_date"] is None


def test_load_and_validate_config_rejects_invalid_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("simulation: {start_year: 2025, end_year: 2029}\nworkforce: {total_termination_rate: 3}\n"
                    "random_seed: 1\n")
    with pytest.raises(ConfigError) as raised:
        load_and_validate_config(str(path))
    assert raised.value.problems == ["workforce.total_termination_rate: must be in [0, 1] (got 3; did you mean 0.03?)"]


# --------------------------------------------------------------------------- rules over several keys


@pytest.mark.parametrize("bad_key, bad_value", [
    ("simulation.target_growth_rate", 5),
    ("simulation.census_date", "not a date"),
])
def test_year_order_is_reported_although_another_key_of_the_section_is_invalid(bad_key, bad_value):
    config = with_change("simulation.end_year", 2020)
    *_, leaf = bad_key.split(".")
    config["simulation"][leaf] = bad_value
    errors = check_configuration(config).errors
    assert [e.split(":")[0] for e in errors] == [bad_key, "simulation.end_year"], errors


def test_a_rule_is_skipped_only_when_a_key_it_reads_is_invalid():
    config = with_change("simulation.end_year", "2029")  # invalid: the year order cannot be judged
    config["simulation"]["census_date"] = "2025-06-30"   # but the census date rule reads start_year only
    errors = check_configuration(config).errors
    assert [e.split(":")[0] for e in errors] == ["simulation.end_year", "simulation.census_date"], errors
    assert not any("must be >= start_year" in e for e in errors)


# --------------------------------------------------------------------------- hostile and careless files


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\nsimulation: *a9\n")
    assert path.stat().st_size < 1100
    started = datetime.datetime.now()
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert (datetime.datetime.now() - started).total_seconds() < 2
    assert raised.value.source == str(path)
    assert "aliases expand to more than 100,000 values" in raised.value.problems[0]


def test_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("simulation: &s {start_year: 2025, again: *s}\n")
    with pytest.raises(ConfigError, match="recursive alias"):
        load_config(path)


def test_ordinary_aliases_still_work(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("workforce: {total_termination_rate: &rate 0.12, new_hire_termination_rate: *rate}\n"
                    "simulation: {start_year: 2025, end_year: 2026}\nrandom_seed: 1\n")
    assert load_config(path).workforce.new_hire_termination_rate == 0.12


def test_oversized_config_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * 200_000)
    with pytest.raises(ConfigError, match="larger than 1,000,000 bytes"):
        load_config(path)


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    path = tmp_path / "dupes.yaml"
    path.write_text("simulation:\n  start_year: 2025\n  end_year: 2029\n  start_year: 2026\n"
                    "workforce: {total_termination_rate: 0.1}\nrandom_seed: 1\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.problems == ["line 4, column 3: YAML syntax error: duplicate key 'start_year' (first on "
                                     "line 2; keep one, a later value would silently replace the earlier)"]


def test_merge_keys_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &base {start_year: 2025, end_year: 2029}\n")
    with pytest.raises(ConfigError, match="base: unknown key"):  # parsed fine; only the unknown key is refused
        load_config(path)
    path.write_text("simulation: {<<: {start_year: 2025, end_year: 2029}, end_year: 2026}\n"
                    "workforce: {total_termination_rate: 0.1}\nrandom_seed: 1\n")
    assert load_config(path).simulation.end_year == 2026


def test_non_utf8_config_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("simulation:\n  # Pr\xe9vision\n  start_year: 2025\n".encode("latin-1"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.problems == ["line 2: the configuration file is not UTF-8 text (byte 0xe9); save it as UTF-8"]


def test_a_file_that_is_not_a_configuration_is_not_echoed(tmp_path):
    secret = "root:x:0:0:secret-token-1234567890:/root:/bin/bash\n" * 5
    path = tmp_path / "passwd"
    path.write_text(secret)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "secret-token" not in str(raised.value)
    assert "must be a mapping of sections (the file holds a str" in raised.value.problems[0]
    long_key = "k" * 500
    errors = check_configuration({long_key: 1, "simulation": {"start_year": "y" * 500}}).errors
    assert all(len(e) < 200 for e in errors), errors
