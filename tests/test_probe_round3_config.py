"""Issue 28: configuration values from files and the command line (docs/configuration.md). Nothing simulates.

N6: an alias bomb in a ``--set`` value is refused in milliseconds. N9: a number of thousands of digits is one
message, never a traceback (file, ``--set``, Python API). N10: a year given twice in a rate mapping, in any
spelling, and a key repeated inside a ``--set`` value, are errors. N11: two command-line settings of one key
with different values are a usage error.
"""

from __future__ import annotations

import time

from planwise_core import validate_configuration
from planwise_core.config.checks import short_repr
from helpers.cli import clean_failure, planwise

BASE = "simulation: {start_year: 2025, end_year: 2026}\nworkforce: {total_termination_rate: 0.12}\nrandom_seed: 1\n"


def _bomb() -> str:
    text = "[&a0 [x,x,x,x,x,x,x,x,x,x]"
    for i in range(1, 9):
        text += f", &a{i} [{','.join([f'*a{i - 1}'] * 10)}]"
    return text + "]"


def _run(tmp_path, *args):
    return planwise("run", "--census", tmp_path / "missing.csv", "--database", tmp_path / "t.duckdb", *args,
                    cwd=tmp_path)


def test_an_alias_bomb_in_a_set_value_is_refused_at_once(tmp_path):
    started = time.monotonic()
    proc = _run(tmp_path, "--set", f"random_seed={_bomb()}")
    clean_failure(proc, 2, "Error:", "random_seed: line 1", "aliases expand to more than 100,000 values")
    assert time.monotonic() - started < 20
    assert not (tmp_path / "t.duckdb").exists()


def test_a_huge_value_is_never_walked_to_build_a_message():
    started = time.monotonic()
    shared = ["x"] * 10
    for _ in range(8):
        shared = [shared] * 10  # 10^9 leaves, a few kB of objects: repr() would never end
    assert len(short_repr(shared)) <= 60 and time.monotonic() - started < 1
    assert short_repr(10 ** 5000) == "<an integer of about 5,001 digits>"


def test_numbers_of_thousands_of_digits_are_one_message(tmp_path):
    (tmp_path / "big.yaml").write_text(BASE.replace("random_seed: 1", "random_seed: " + "9" * 5000))
    # Read exactly and refused at its key, quoted to its size (docs/configuration.md), from a file or from --set.
    proc = planwise("validate-config", tmp_path / "big.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "random_seed: must be in [" in proc.stdout and "(got <an integer of about 5,001 digits>)" in proc.stdout
    proc = _run(tmp_path, "--set", "random_seed=" + "9" * 100_000)
    clean_failure(proc, 1, "random_seed: must be in [", "(got <an integer of about 100,001 digits>)")
    valid, errors = validate_configuration({"simulation": {"start_year": 2025, "end_year": 2025},
                                            "workforce": {"total_termination_rate": 0.12}, "random_seed": 10 ** 5000})
    assert not valid and "random_seed" in errors[0] and "5,001 digits" in errors[0]


def test_a_year_given_twice_is_an_error_in_files_and_on_the_command_line(tmp_path):
    (tmp_path / "dup.yaml").write_text(BASE.replace("end_year: 2026}", "end_year: 2026, target_growth_rate: "
                                                    "{2025: 0.03, \"2025\": 0.04}}"))
    proc = planwise("validate-config", tmp_path / "dup.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "the year 2025 is given twice (as 2025 and '2025'); keep one" in proc.stdout + proc.stderr
    proc = _run(tmp_path, "--set", "simulation.target_growth_rate={2025: 0.03, '2025': 0.04}")
    clean_failure(proc, 1, "the year 2025 is given twice")
    proc = _run(tmp_path, "--set", "simulation.target_growth_rate={ 2025: 0.03, 2025: 0.04 }")
    clean_failure(proc, 2, "duplicate key 2025")


def test_two_command_line_settings_of_one_key_are_a_usage_error(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cases = [(("--years", "2025", "--set", "simulation.end_year=2027"), "--years and --set simulation.end_year"),
             (("--assumptions", "a", "--set", "assumptions=b"), "--assumptions and --set assumptions"),
             (("--set", "assumptions=b", "--assumptions", "a"), "--assumptions and --set assumptions"),
             (("--seed", "3", "--set", "random_seed=4"), "--seed and --set random_seed"),
             (("--set", "random_seed=3", "--set", "random_seed=4"), "is given twice")]
    for args, fragment in cases:
        clean_failure(_run(tmp_path, *args), 2, fragment)
    # The same value twice is no contradiction: the run goes on (and stops at the missing census).
    clean_failure(_run(tmp_path, "--seed", "3", "--set", "random_seed=3"), 1, "missing.csv")


def _validate(**plan) -> list[str]:
    valid, errors = validate_configuration({"simulation": {"start_year": 2025, "end_year": plan.pop("end", 2025)},
                                            "workforce": {"total_termination_rate": 0.12}, "random_seed": 1,
                                            "plan": plan})
    return errors


def test_plan_money_keys_and_growth_have_the_bounds_the_models_carry():
    # N8: validate-config and the run refuse these before anything runs (they used to fail inside SQL).
    assert _validate(match={"cap_dollars": 1e300}) == [
        "plan.match.cap_dollars: must be in [0, 1000000000] (got 1e+300)"]
    assert "plan.forfeitures.opening_pool: must be in [0, 1000000000000]" in _validate(
        forfeitures={"opening_pool": 1e300})[0]
    errors = _validate(irs_limits={"cpi_growth": 1}, end=2200)
    assert errors and errors[0].startswith("plan.irs_limits.cpi_growth: growing 1 a year from 2026 to 2200")
    assert _validate(irs_limits={"cpi_growth": 0.025}, end=2200) == []  # the default growth carries to 2200


def test_a_rate_that_rounds_to_zero_is_refused_where_zero_is():
    # N22: rates are whole basis points; 0.00005 is the smallest that is not 0.
    errors = _validate(deferrals={"max_deferral_rate": 1e-9})
    assert errors == ["plan.deferrals.max_deferral_rate: must be at least 0.00005 (half a basis point: rates are "
                      "kept in whole basis points, so 1e-09 would be 0)"]
    assert _validate(deferrals={"max_deferral_rate": 0.00005},
                     auto_escalation={"cap": 0.00005, "increment": 0.00005}) == []


def test_the_profile_census_date_has_the_configurations_range(tmp_path):
    # N23
    (tmp_path / "c.csv").write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation\n"
                                    "E1,1980-01-01,2015-01-01,50000\n")
    proc = planwise("census", "profile", tmp_path / "c.csv", "--census-date", "9999-12-31", cwd=tmp_path)
    clean_failure(proc, 2, "must be a date in the years 1900-2200, like simulation.census_date")


def test_a_rate_that_rounds_to_zero_is_warned_where_zero_is_allowed():
    from planwise_core.config import check_configuration

    found = check_configuration({"simulation": {"start_year": 2025, "end_year": 2025},
                                 "workforce": {"total_termination_rate": 0.12}, "random_seed": 1,
                                 "plan": {"core": {"enabled": True, "bands": [{"min": 0, "max": None, "rate": 1e-9}]},
                                          "match": {"tiers": [{"deferral_max": 0.03, "rate": 1e-9}]}}})
    assert found.errors == ()
    assert [w.split(":")[0] for w in found.warnings if "half a basis point" in w] == ["plan.match.tiers",
                                                                                       "plan.core.bands"]


def test_a_graded_match_bands_tier_rate_that_rounds_to_zero_is_warned_at_its_band():
    from planwise_core.config import check_configuration

    bands = [{"min": 0, "max": 5, "tiers": [{"deferral_max": 0.03, "rate": 1.0}]},
             {"min": 5, "max": None, "tiers": [{"deferral_max": 0.03, "rate": 1.0}, {"deferral_max": 0.05, "rate": 1e-9}]}]
    found = check_configuration({"simulation": {"start_year": 2025, "end_year": 2025},
                                 "workforce": {"total_termination_rate": 0.12}, "random_seed": 1,
                                 "plan": {"match": {"graded_by": "service", "bands": bands}}})
    assert found.errors == ()
    assert [w.split(":")[0] for w in found.warnings if "half a basis point" in w] == ["plan.match.bands[1].tiers"]
