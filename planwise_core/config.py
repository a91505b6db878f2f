"""Run configuration (domain.md section 2): typed, frozen, validated.

Each field carries its check in attrs metadata, so the schema, the defaults and
the validator are one definition and cannot drift apart.
"""

import datetime
import difflib
import logging
from pathlib import Path
from typing import Any, Callable

import attrs
import yaml

from planwise_core.errors import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "simulation_config.yaml"
OPTIMIZATION_LEVELS = ("high", "medium", "low", "fallback")
AUTO_ENROLLMENT_SCOPES = ("new_hires_only", "all_eligible_employees")
DISTRIBUTION_TOLERANCE = 0.001
MAX_YEARS_WITHOUT_WARNING = 10
GROWTH_WARNING_THRESHOLD = 0.5

_log = logging.getLogger("planwise.config")
_CHECK, _SECTION, _REQUIRED = "check", "section", "required"
_TOP_LEVEL = "(top level)"


class _Invalid(Exception):
    """A value failed its check; each arg is one reason."""


# --- value checks: raw YAML value -> normalized value, or raise _Invalid ---------


def _described(value: Any) -> str:
    return f"(got {type(value).__name__} {value!r})"


def _as_int(value: Any) -> int:
    # bool is a subclass of int; `start_year: yes` must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"must be an integer {_described(value)}")
    return value


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"must be a number {_described(value)}")
    return float(value)


def _as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false {_described(value)}")
    return value


def _interval(low: float, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def _ranged(convert: Callable[[Any], float], low: float, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        number = convert(value)
        too_low = number <= low if low_open else number < low
        too_high = high is not None and (number >= high if high_open else number > high)
        # NaN compares false to every bound, hence the explicit self-comparison.
        if too_low or too_high or number != number:
            raise _Invalid(f"must be {_interval(low, high, low_open, high_open)} (got {value!r})")
        return number

    return check


_RATE = _ranged(_as_float, 0, 1)
_NON_NEGATIVE_INT = _ranged(_as_int, 0)
_POSITIVE_INT = _ranged(_as_int, 1)


def _nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _optional_date(value: Any) -> datetime.date | None:
    if value is None or type(value) is datetime.date:
        return value
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Invalid(f"must be an ISO date YYYY-MM-DD or null {_described(value)}") from None


def _choice(options: tuple[str, ...], case_sensitive: bool = True) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        key = value if case_sensitive or not isinstance(value, str) else value.lower()
        if key not in options:
            raise _Invalid(f"must be one of {', '.join(options)} (got {value!r})")
        return key

    return check


def _rate_key(key: Any) -> float:
    # YAML gives `0.03:` as a float key and `"0.03":` as a string key; accept both.
    if isinstance(key, str):
        try:
            key = float(key)
        except ValueError:
            raise _Invalid(f"must be a number {_described(key)}") from None
    return _RATE(key)


def _distribution(value: Any) -> tuple[tuple[float, float], ...]:
    """A mapping rate -> share whose shares sum to 1; returned sorted by rate."""
    if not isinstance(value, dict):
        raise _Invalid(f"must be a mapping of rate to share {_described(value)}")
    reasons, pairs = [], []
    for key, share in value.items():
        entry = []
        for label, check, raw in (("rate", _rate_key, key), ("share", _RATE, share)):
            try:
                entry.append(check(raw))
            except _Invalid as exc:
                reasons.append(f"{label} of entry {key!r}: {exc}")
        if len(entry) == 2:
            pairs.append((entry[0], entry[1]))
    total = sum(share for _, share in pairs)
    # The sum is only meaningful when every entry is valid.
    if not reasons and abs(total - 1) > DISTRIBUTION_TOLERANCE:
        reasons.append(f"shares must sum to 1 ± {DISTRIBUTION_TOLERANCE} (got {total:.6g})")
    if reasons:
        raise _Invalid(*reasons)
    return tuple(sorted(pairs))


# --- schema ---------------------------------------------------------------------


def _value(default: Any, check: Callable[[Any], Any], required: bool = False) -> Any:
    return attrs.field(default=default, metadata={_CHECK: check, _REQUIRED: required})


def _section(factory: Callable[[], Any], required: bool = False) -> Any:
    return attrs.field(factory=factory, metadata={_SECTION: True, _REQUIRED: required})


def _schema_fields(cls: type) -> list[attrs.Attribute]:
    return [f for f in attrs.fields(cls) if f.metadata]


@attrs.frozen
class SimulationConfig:
    start_year: int = _value(2025, _as_int, required=True)
    end_year: int = _value(2029, _as_int, required=True)
    target_growth_rate: float = _value(0.03, _ranged(_as_float, -1, 1, low_open=True))
    census_date: datetime.date | None = _value(None, _optional_date)

    @property
    def effective_census_date(self) -> datetime.date:
        return self.census_date or datetime.date(self.start_year - 1, 12, 31)


@attrs.frozen
class WorkforceConfig:
    total_termination_rate: float = _value(0.12, _RATE, required=True)
    # A new-hire termination rate of 1 leaves no hire able to fill a position.
    new_hire_termination_rate: float = _value(0.25, _ranged(_as_float, 0, 1, high_open=True))


@attrs.frozen
class CompensationConfig:
    cola_rate: float | None = _value(0.025, _nullable(_RATE))
    merit_budget: float | None = _value(None, _nullable(_RATE))


@attrs.frozen
class EligibilityConfig:
    waiting_period_days: int = _value(30, _NON_NEGATIVE_INT)
    minimum_age: int = _value(21, _ranged(_as_int, 0, 100))


@attrs.frozen
class AgeSegments:
    young: float = _value(0.25, _RATE)
    mid_career: float = _value(0.45, _RATE)
    mature: float = _value(0.65, _RATE)
    senior: float = _value(0.75, _RATE)


@attrs.frozen
class AutoEnrollmentConfig:
    enabled: bool = _value(True, _as_bool)
    window_days: int = _value(45, _NON_NEGATIVE_INT)
    default_deferral_rate: float = _value(0.06, _RATE)
    opt_out_grace_period: int = _value(30, _NON_NEGATIVE_INT)
    scope: str = _value("new_hires_only", _choice(AUTO_ENROLLMENT_SCOPES))
    hire_date_cutoff: datetime.date | None = _value(datetime.date(2024, 1, 1), _optional_date)


@attrs.frozen
class ProactiveEnrollmentConfig:
    enabled: bool = _value(True, _as_bool)
    probability_by_age: AgeSegments = _section(AgeSegments)


@attrs.frozen
class VoluntaryEnrollmentConfig:
    enabled: bool = _value(True, _as_bool)
    annual_probability: float = _value(0.10, _RATE)


@attrs.frozen
class EnrollmentConfig:
    auto_enrollment: AutoEnrollmentConfig = _section(AutoEnrollmentConfig)
    proactive_enrollment: ProactiveEnrollmentConfig = _section(ProactiveEnrollmentConfig)
    voluntary_enrollment: VoluntaryEnrollmentConfig = _section(VoluntaryEnrollmentConfig)
    opt_out_rate_by_age: AgeSegments = _section(lambda: AgeSegments(0.35, 0.20, 0.15, 0.10))
    deferral_rate_distribution: tuple[tuple[float, float], ...] = _value(
        ((0.03, 0.25), (0.06, 0.35), (0.10, 0.20), (0.15, 0.10), (0.20, 0.10)), _distribution)


@attrs.frozen
class OrchestrationConfig:
    optimization_level: str = _value("high", _choice(OPTIMIZATION_LEVELS, case_sensitive=False))
    max_workers: int = _value(2, _POSITIVE_INT)
    batch_size: int = _value(10000, _POSITIVE_INT)
    enable_compression: bool = _value(False, _as_bool)
    fail_fast: bool = _value(False, _as_bool)
    max_retries: int = _value(2, _NON_NEGATIVE_INT)
    retry_backoff_seconds: float = _value(0.5, _ranged(_as_float, 0))


@attrs.frozen
class PlanwiseConfig:
    simulation: SimulationConfig = _section(SimulationConfig, required=True)
    workforce: WorkforceConfig = _section(WorkforceConfig, required=True)
    compensation: CompensationConfig = _section(CompensationConfig)
    eligibility: EligibilityConfig = _section(EligibilityConfig)
    enrollment: EnrollmentConfig = _section(EnrollmentConfig)
    orchestration: OrchestrationConfig = _section(OrchestrationConfig)
    random_seed: int = _value(42, _as_int, required=True)
    warnings: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (ISO dates, {rate: share}) accepted back by config_from_dict."""
        return _dump(self)

    def with_overrides(self, **overrides: Any) -> "PlanwiseConfig":
        """A re-validated copy with dotted-path overrides, e.g. ``**{"simulation.end_year": 2030}``."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            *parents, leaf = dotted.split(".")
            node = data
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError("<overrides>", [f"{dotted}: {part} is not a section"])
            node[leaf] = value
        return config_from_dict(data, source="<overrides>")

    def to_dbt_vars(self) -> dict[str, Any]:
        """The flat variables the dbt models read (orchestration is not one of them)."""
        sim, enr = self.simulation, self.enrollment
        auto, proactive = enr.auto_enrollment, enr.proactive_enrollment.probability_by_age
        cutoff = auto.hire_date_cutoff
        return {
            "random_seed": self.random_seed,
            "start_year": sim.start_year,
            "end_year": sim.end_year,
            "census_date": sim.effective_census_date.isoformat(),
            "target_growth_rate": sim.target_growth_rate,
            "total_termination_rate": self.workforce.total_termination_rate,
            "new_hire_termination_rate": self.workforce.new_hire_termination_rate,
            "cola_rate": self.compensation.cola_rate,
            "merit_budget": self.compensation.merit_budget,
            "waiting_period_days": self.eligibility.waiting_period_days,
            "minimum_age": self.eligibility.minimum_age,
            "auto_enrollment_enabled": auto.enabled,
            "auto_enrollment_window_days": auto.window_days,
            "auto_enrollment_default_deferral_rate": auto.default_deferral_rate,
            "opt_out_grace_period_days": auto.opt_out_grace_period,
            "auto_enrollment_scope": auto.scope,
            "auto_enrollment_hire_date_cutoff": cutoff.isoformat() if cutoff else None,
            "proactive_enrollment_enabled": enr.proactive_enrollment.enabled,
            "proactive_probability_young": proactive.young,
            "proactive_probability_mid_career": proactive.mid_career,
            "proactive_probability_mature": proactive.mature,
            "proactive_probability_senior": proactive.senior,
            "voluntary_enrollment_enabled": enr.voluntary_enrollment.enabled,
            "voluntary_enrollment_probability": enr.voluntary_enrollment.annual_probability,
            "opt_out_rate_young": enr.opt_out_rate_by_age.young,
            "opt_out_rate_mid_career": enr.opt_out_rate_by_age.mid_career,
            "opt_out_rate_mature": enr.opt_out_rate_by_age.mature,
            "opt_out_rate_senior": enr.opt_out_rate_by_age.senior,
            "deferral_rate_distribution": [
                {"rate": rate, "share": share} for rate, share in enr.deferral_rate_distribution
            ],
        }


def _dump(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return {f.name: _dump(getattr(obj, f.name)) for f in _schema_fields(type(obj))}
    if isinstance(obj, datetime.date):
        return obj.isoformat()
    if isinstance(obj, tuple):
        return dict(obj)
    return obj


# --- validation -----------------------------------------------------------------


@attrs.frozen
class Problems:
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@attrs.define
class _Report:
    errors: list[str] = attrs.Factory(list)
    warnings: list[str] = attrs.Factory(list)

    def error(self, path: str, reason: str) -> None:
        self.errors.append(f"{path}: {reason}")

    def warn(self, path: str, reason: str) -> None:
        self.warnings.append(f"{path}: {reason}")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _unknown_key(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(known)}"
    return f"unknown key ({hint})"


def _missing(field: attrs.Attribute) -> str:
    if field.metadata.get(_SECTION):
        return f"required section is missing (add a '{field.name}:' mapping)"
    return f"required key is missing (add e.g. '{field.name}: {_dump(field.default)}')"


def _simulation_rules(sim: SimulationConfig, path: str, report: _Report) -> None:
    years = sim.end_year - sim.start_year + 1
    if years < 1:
        report.error(_join(path, "end_year"),
                     f"must be >= start_year {sim.start_year} (got {sim.end_year})")
    elif years > MAX_YEARS_WITHOUT_WARNING:
        report.warn(_join(path, "end_year"),
                    f"{years} simulated years (more than {MAX_YEARS_WITHOUT_WARNING}); runs get long")
    if abs(sim.target_growth_rate) > GROWTH_WARNING_THRESHOLD:
        report.warn(_join(path, "target_growth_rate"),
                    f"{sim.target_growth_rate} is beyond ±{GROWTH_WARNING_THRESHOLD} a year; "
                    "check it is a fraction, not a percentage")
    if sim.census_date and sim.census_date.year >= sim.start_year:
        report.error(_join(path, "census_date"),
                     f"must be before start_year {sim.start_year} (got {sim.census_date}; "
                     f"the default is {sim.start_year - 1}-12-31)")


# Rules spanning several keys of one section; they run only when every key of the
# section is valid, so a bad value cannot cause a second, misleading message.
_SECTION_RULES: dict[type, Callable[[Any, str, _Report], None]] = {
    SimulationConfig: _simulation_rules,
}


def _parse_section(default: Any, data: dict, path: str, report: _Report) -> Any:
    """Build a ``type(default)`` from ``data``; absent keys keep ``default``'s values."""
    fields = {f.name: f for f in _schema_fields(type(default))}
    errors_before = len(report.errors)
    for key in data:
        if key not in fields:
            report.error(_join(path, key), _unknown_key(key, list(fields)))
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _parse_field(field, getattr(default, name), data[name], _join(path, name), report)
        elif field.metadata[_REQUIRED]:
            report.error(_join(path, name), _missing(field))
    parsed = attrs.evolve(default, **values)
    rule = _SECTION_RULES.get(type(default))
    if rule and len(report.errors) == errors_before:
        rule(parsed, path, report)
    return parsed


def _parse_field(field: attrs.Attribute, default: Any, value: Any, path: str, report: _Report) -> Any:
    if field.metadata.get(_SECTION):
        if isinstance(value, dict):
            return _parse_section(default, value, path, report)
        report.error(path, f"must be a mapping {_described(value)}")
        return default
    try:
        return field.metadata[_CHECK](value)
    except _Invalid as exc:
        for reason in exc.args:
            report.error(path, reason)
        return default


def _parse(config: Any) -> tuple[PlanwiseConfig, Problems]:
    report = _Report()
    if isinstance(config, dict):
        parsed = _parse_section(PlanwiseConfig(), config, "", report)
    else:
        report.error(_TOP_LEVEL, f"must be a mapping of sections {_described(config)}")
        parsed = PlanwiseConfig()
    return parsed, Problems(tuple(report.errors), tuple(report.warnings))


def check_configuration(config: dict) -> Problems:
    """Every error and warning of ``config`` at once, each prefixed by its key path."""
    return _parse(config)[1]


def validate_configuration(config: dict) -> tuple[bool, list[str]]:
    """(is_valid, errors); warnings do not make a configuration invalid."""
    errors = check_configuration(config).errors
    return not errors, list(errors)


def config_from_dict(d: dict, source: str = "<config>") -> PlanwiseConfig:
    """Validate ``d`` and build the config, defaults filling absent optional keys."""
    config, problems = _parse(d)
    if problems.errors:
        raise ConfigError(source, list(problems.errors))
    for warning in problems.warnings:
        _log.warning("%s: %s", source, warning)
    return attrs.evolve(config, warnings=problems.warnings)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"YAML syntax error: {exc}"
    return f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax error: {exc.problem}"


def load_config(path: str | Path) -> PlanwiseConfig:
    """Read and validate a YAML run configuration; every failure is a ConfigError naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"cannot read file: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_yaml_problem(exc)]) from None
    # An empty file loads as None; treat it as an empty mapping so the missing
    # required sections are what gets reported.
    return config_from_dict({} if data is None else data, source)


def load_and_validate_config(config_path: str | None = None) -> dict[str, Any]:
    """Load, validate and return the normalized dict (every default filled in)."""
    return load_config(config_path or DEFAULT_CONFIG_PATH).to_dict()
