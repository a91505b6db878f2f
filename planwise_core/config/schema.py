"""Run configuration (docs/domain.md section 2): typed, frozen sections with their defaults.

Each field carries its check in attrs metadata, so the schema, the defaults and
the validator are one definition and cannot drift apart.
"""

import datetime
from pathlib import Path
from typing import Any

import attrs

from planwise_core.config.checks import (
    RATE, YEAR, YearRates, as_bool, as_float, assumptions_spec, by_year, as_int, choice, column_mapping, date_format,
    distribution, nullable, optional_date, ranged,
)
from planwise_core.config.fields import (  # noqa: F401 - re-exported for the validator
    CHECK, RECORD, REQUIRED, SECTION, Records, schema_fields, section_field, value_field,
)
from planwise_core.config.plan import PlanConfig, plan_dbt_vars
from planwise_core.errors import ConfigError
from planwise_core.levels import MAX, OPTIMIZATION_LEVELS

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "simulation_config.yaml"
AUTO_ENROLLMENT_SCOPES = ("new_hires_only", "all_eligible_employees")
REFUSE, DROP = "refuse", "drop"
INVALID_ROW_POLICIES = (REFUSE, DROP)
# Upper bounds: far beyond any real plan, low enough that no value can overflow a date or exhaust the machine.
MAX_DAYS = 3650
MAX_WINDOW_DAYS = 365
MAX_WORKERS = 64
MAX_BATCH_SIZE = 10_000_000
MAX_RETRIES = 10
MAX_BACKOFF_SECONDS = 3600.0
SEED_RANGE = (-(2**63), 2**63 - 1)
# Ten times the default table already retires everyone aged 62 and over within the year.
MAX_RETIREMENT_RATE_MULTIPLIER = 10


@attrs.frozen
class SimulationConfig:
    start_year: int = value_field(2025, YEAR, required=True)
    end_year: int = value_field(2029, YEAR, required=True)
    target_growth_rate: float | YearRates = value_field(0.03, by_year(ranged(as_float, -1, 1, low_open=True)))
    census_date: datetime.date | None = value_field(None, optional_date)

    @property
    def effective_census_date(self) -> datetime.date:
        return self.census_date or datetime.date(self.start_year - 1, 12, 31)


@attrs.frozen
class RetirementConfig:
    enabled: bool = value_field(True, as_bool)
    # "X % of the table", as actuaries scale a decrement table; each age's probability is capped at 1.
    rate_multiplier: float = value_field(1.0, ranged(as_float, 0, MAX_RETIREMENT_RATE_MULTIPLIER))


@attrs.frozen
class WorkforceConfig:
    total_termination_rate: float | YearRates = value_field(0.12, by_year(RATE), required=True)
    # A new-hire termination rate of 1 leaves no hire able to fill a position.
    new_hire_termination_rate: float | YearRates = value_field(0.25, by_year(ranged(as_float, 0, 1, high_open=True)))
    retirement: RetirementConfig = section_field(RetirementConfig)


@attrs.frozen
class CompensationConfig:
    cola_rate: float | YearRates | None = value_field(0.005, nullable(by_year(RATE)))
    merit_budget: float | None = value_field(None, nullable(RATE))


@attrs.frozen
class EligibilityConfig:
    waiting_period_days: int = value_field(30, ranged(as_int, 0, MAX_DAYS))
    minimum_age: int = value_field(21, ranged(as_int, 0, 100))


@attrs.frozen
class AgeSegments:
    young: float = value_field(0.25, RATE)
    mid_career: float = value_field(0.45, RATE)
    mature: float = value_field(0.65, RATE)
    senior: float = value_field(0.75, RATE)


@attrs.frozen
class AutoEnrollmentConfig:
    enabled: bool = value_field(True, as_bool)
    window_days: int = value_field(45, ranged(as_int, 0, MAX_WINDOW_DAYS))
    default_deferral_rate: float = value_field(0.06, RATE)
    opt_out_grace_period: int = value_field(30, ranged(as_int, 0, MAX_WINDOW_DAYS))
    scope: str = value_field("new_hires_only", choice(AUTO_ENROLLMENT_SCOPES))
    hire_date_cutoff: datetime.date | None = value_field(datetime.date(2024, 1, 1), optional_date)


@attrs.frozen
class ProactiveEnrollmentConfig:
    enabled: bool = value_field(True, as_bool)
    probability_by_age: AgeSegments = section_field(AgeSegments)


@attrs.frozen
class VoluntaryEnrollmentConfig:
    enabled: bool = value_field(True, as_bool)
    annual_probability: float = value_field(0.10, RATE)


@attrs.frozen
class EnrollmentConfig:
    auto_enrollment: AutoEnrollmentConfig = section_field(AutoEnrollmentConfig)
    proactive_enrollment: ProactiveEnrollmentConfig = section_field(ProactiveEnrollmentConfig)
    voluntary_enrollment: VoluntaryEnrollmentConfig = section_field(VoluntaryEnrollmentConfig)
    opt_out_rate_by_age: AgeSegments = section_field(lambda: AgeSegments(0.35, 0.20, 0.15, 0.10))
    deferral_rate_distribution: tuple[tuple[float, float], ...] = value_field(
        ((0.03, 0.25), (0.06, 0.35), (0.10, 0.20), (0.15, 0.10), (0.20, 0.10)), distribution)


@attrs.frozen
class OrchestrationConfig:
    optimization_level: str = value_field(MAX, choice(OPTIMIZATION_LEVELS, case_sensitive=False))
    max_workers: int = value_field(2, ranged(as_int, 1, MAX_WORKERS))
    batch_size: int = value_field(10000, ranged(as_int, 1, MAX_BATCH_SIZE))
    enable_compression: bool = value_field(False, as_bool)
    fail_fast: bool = value_field(False, as_bool)
    max_retries: int = value_field(2, ranged(as_int, 0, MAX_RETRIES))
    retry_backoff_seconds: float = value_field(0.5, ranged(as_float, 0, MAX_BACKOFF_SECONDS))


@attrs.frozen
class CensusConfig:
    # refuse: a census with any invalid row is refused whole; drop: invalid rows go to a rejects file.
    on_invalid_rows: str = value_field(REFUSE, choice(INVALID_ROW_POLICIES))
    # The file's headers for census columns it names otherwise, e.g. {employee_termination_date: "Term Date"}.
    columns: tuple[tuple[str, str], ...] = value_field((), column_mapping)
    # How the file writes its dates (strptime) and whether "6%" is a deferral rate (0.06): never guessed.
    date_format: str = value_field("%Y-%m-%d", date_format)
    percent_strings: bool = value_field(False, as_bool)


@attrs.frozen
class PlanwiseConfig:
    simulation: SimulationConfig = section_field(SimulationConfig, required=True)
    workforce: WorkforceConfig = section_field(WorkforceConfig, required=True)
    compensation: CompensationConfig = section_field(CompensationConfig)
    eligibility: EligibilityConfig = section_field(EligibilityConfig)
    enrollment: EnrollmentConfig = section_field(EnrollmentConfig)
    census: CensusConfig = section_field(CensusConfig)
    orchestration: OrchestrationConfig = section_field(OrchestrationConfig)
    plan: PlanConfig = section_field(PlanConfig)
    random_seed: int = value_field(42, ranged(as_int, *SEED_RANGE), required=True)
    # Parameter tables replacing the built-in ones (planwise_core.assumptions): a folder, or tables inline.
    assumptions: str | dict | None = value_field(None, assumptions_spec)
    warnings: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (ISO dates, {rate: share}) accepted back by config_from_dict."""
        return dump(self)

    def with_overrides(self, source: str = "<overrides>", **overrides: Any) -> "PlanwiseConfig":
        """A re-validated copy with dotted-path overrides, e.g. ``**{"simulation.end_year": 2030}``."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            *parents, leaf = dotted.split(".")
            node = data
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(source, [f"{dotted}: {part} is not a section"])
            node[leaf] = value
        from planwise_core.config.validate import config_from_dict

        return config_from_dict(data, source=source)

    def _per_year(self, rate: Any) -> Any:
        """A year-varying rate as the models read it (macro for_year): every simulated year -> its rate."""
        if not isinstance(rate, YearRates):
            return rate
        sim = self.simulation
        return {str(year): rate.rate_for(year) for year in range(sim.start_year, sim.end_year + 1)}

    def to_dbt_vars(self) -> dict[str, Any]:
        """The flat variables the dbt models read (not orchestration, and not census: the loader applies it)."""
        sim, enr = self.simulation, self.enrollment
        auto, proactive = enr.auto_enrollment, enr.proactive_enrollment.probability_by_age
        cutoff = auto.hire_date_cutoff
        return {
            "random_seed": self.random_seed,
            "start_year": sim.start_year,
            "end_year": sim.end_year,
            "census_date": sim.effective_census_date.isoformat(),
            "target_growth_rate": self._per_year(sim.target_growth_rate),
            "total_termination_rate": self._per_year(self.workforce.total_termination_rate),
            "new_hire_termination_rate": self._per_year(self.workforce.new_hire_termination_rate),
            "retirement_enabled": self.workforce.retirement.enabled,
            "retirement_rate_multiplier": self.workforce.retirement.rate_multiplier,
            "cola_rate": self._per_year(self.compensation.cola_rate),
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
            **plan_dbt_vars(self.plan),
        }


def dump(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return {f.name: dump(getattr(obj, f.name)) for f in schema_fields(type(obj))}
    if isinstance(obj, Records):
        return [dump(record) for record in obj]
    if isinstance(obj, datetime.date):
        return obj.isoformat()
    if isinstance(obj, tuple):
        return dict(obj)
    return obj
