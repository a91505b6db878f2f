"""Validation: every problem of a configuration at once, each with its key path."""

import difflib
import logging
from typing import Any, Callable

import attrs

from planwise_core.config.checks import Invalid, YearRates, described
from planwise_core.config.plan_rules import KEY_RULES, cross_section_rules
from planwise_core.config.schema import (
    RECORD, REQUIRED, SECTION, CHECK, PlanwiseConfig, Records, SimulationConfig, dump, schema_fields,
)
from planwise_core.errors import ConfigError
from planwise_core.problems import ERROR, TOP_LEVEL, WARNING, Problem

MAX_YEARS_WITHOUT_WARNING = 10
GROWTH_WARNING_THRESHOLD = 0.5

_log = logging.getLogger("planwise.config")
_TOP_LEVEL = TOP_LEVEL


@attrs.frozen
class Problems:
    """The text lines (``"key.path: message"``, as the CLI prints them) and the same problems as data (``items``:
    :class:`~planwise_core.problems.Problem`, errors first, each with its key path and severity)."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    items: tuple[Problem, ...] = attrs.field(default=(), eq=False, repr=False)


@attrs.define
class _Report:
    errors: list[str] = attrs.Factory(list)
    warnings: list[str] = attrs.Factory(list)
    problems: list[Problem] = attrs.Factory(list)

    def error(self, path: str, reason: str) -> None:
        self.errors.append(f"{path}: {reason}")
        self.problems.append(Problem.at(path, reason, ERROR))

    def warn(self, path: str, reason: str) -> None:
        self.warnings.append(f"{path}: {reason}")
        self.problems.append(Problem.at(path, reason, WARNING))

    def result(self) -> "Problems":
        ordered = sorted(self.problems, key=lambda p: p.severity != ERROR)  # stable: errors, then warnings
        return Problems(tuple(self.errors), tuple(self.warnings), tuple(ordered))

    def valid(self, *paths: str) -> bool:
        """No error so far at any of ``paths`` or below them (a rule reading those keys may run)."""
        return not any(e.startswith(f"{p}:") or e.startswith(f"{p}.") or e.startswith(f"{p}[")
                       for e in self.errors for p in paths)


def _join(path: str, key: Any) -> str:
    # A key path names keys; a pasted paragraph as a key is shown only by its start.
    key = str(key) if len(str(key)) <= 40 else str(key)[:37] + "..."
    return f"{path}.{key}" if path else key


def unknown_key_message(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(known)}"
    return f"unknown key ({hint})"


def _missing(field: attrs.Attribute) -> str:
    if field.metadata.get(SECTION):
        return f"required section is missing (add a '{field.name}:' mapping)"
    return f"required key is missing (add e.g. '{field.name}: {dump(field.default)}')"


def _year_order(sim: SimulationConfig, path: str, report: _Report) -> None:
    years = sim.end_year - sim.start_year + 1
    if years < 1:
        report.error(_join(path, "end_year"),
                     f"must be >= start_year {sim.start_year} (got {sim.end_year})")
    elif years > MAX_YEARS_WITHOUT_WARNING:
        report.warn(_join(path, "end_year"),
                    f"{years} simulated years (more than {MAX_YEARS_WITHOUT_WARNING}); runs get long")


def _growth_warning(sim: SimulationConfig, path: str, report: _Report) -> None:
    rates = sim.target_growth_rate
    for year, rate in rates if isinstance(rates, YearRates) else ((None, rates),):
        if abs(rate) > GROWTH_WARNING_THRESHOLD:
            report.warn(_join(path, "target_growth_rate") + (f".{year}" if year else ""),
                        f"{rate} is beyond ±{GROWTH_WARNING_THRESHOLD} a year; check it is a fraction, not a percentage")


YEAR_RATES = ("simulation.target_growth_rate", "workforce.total_termination_rate",
              "workforce.new_hire_termination_rate", "compensation.cola_rate")


def _year_rate_rules(config: PlanwiseConfig, report: _Report) -> None:
    """A rate given by year must give the first simulated year; years outside the simulation are ignored (warned)."""
    if not report.valid("simulation.start_year", "simulation.end_year"):
        return
    start, end = config.simulation.start_year, config.simulation.end_year
    for path in YEAR_RATES:
        section, key = path.split(".")
        rates = getattr(getattr(config, section), key)
        if not isinstance(rates, YearRates) or not report.valid(path):
            continue
        years = [y for y, _ in rates]
        if years[0] > start:
            report.error(path, f"no rate for {start}-{years[0] - 1}: a mapping must give the first simulated year "
                               f"{start} (later years without a rate use the last one given)")
        outside = [y for y in years if not start <= y <= end]
        if outside:
            report.warn(path, f"year(s) {', '.join(map(str, outside))} outside the simulation ({start}-{end}) "
                              "are ignored")


def _census_date_before_start(sim: SimulationConfig, path: str, report: _Report) -> None:
    if sim.census_date and sim.census_date.year >= sim.start_year:
        report.error(_join(path, "census_date"),
                     f"must be before start_year {sim.start_year} (got {sim.census_date}; "
                     f"the default is {sim.start_year - 1}-12-31)")


@attrs.frozen
class _Rule:
    """A rule over several keys of one section: it runs when every key it reads is valid."""

    reads: tuple[str, ...]
    check: Callable[[Any, str, _Report], None]


_SECTION_RULES: dict[type, tuple[_Rule, ...]] = {
    SimulationConfig: (
        _Rule(("start_year", "end_year"), _year_order),
        _Rule(("target_growth_rate",), _growth_warning),
        _Rule(("start_year", "census_date"), _census_date_before_start),
    ),
}


def _parse_section(default: Any, data: dict, path: str, report: _Report) -> Any:
    """Build a ``type(default)`` from ``data``; absent keys keep ``default``'s values."""
    fields = {f.name: f for f in schema_fields(type(default))}
    for key in data:
        if key not in fields:
            report.error(_join(path, key), unknown_key_message(key, list(fields)))
    values, invalid = {}, set()
    for name, field in fields.items():
        errors_before = len(report.errors)
        if name in data:
            values[name] = _parse_field(field, getattr(default, name), data[name], _join(path, name), report)
        elif field.metadata[REQUIRED]:
            report.error(_join(path, name), _missing(field))
        if len(report.errors) > errors_before:
            invalid.add(name)
    parsed = attrs.evolve(default, **values)
    for rule in _SECTION_RULES.get(type(default), ()):
        if invalid.isdisjoint(rule.reads):
            rule.check(parsed, path, report)
    for key_rule in KEY_RULES.get(type(default), ()):
        key_rule(parsed, path, report)
    return parsed


def _parse_records(field: attrs.Attribute, value: Any, path: str, report: _Report) -> Records:
    """A list of sections of one record type; the list rule runs when every record is valid."""
    if not isinstance(value, list):
        report.error(path, f"must be a list of mappings {described(value)}")
        return field.default
    errors_before, records = len(report.errors), []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            records.append(_parse_section(field.metadata[RECORD](), item, f"{path}[{i}]", report))
        else:
            report.error(f"{path}[{i}]", f"must be a mapping {described(item)}")
    if len(report.errors) > errors_before:
        return field.default
    return _checked(field, Records(records), path, report, field.default)


def _parse_field(field: attrs.Attribute, default: Any, value: Any, path: str, report: _Report) -> Any:
    if field.metadata.get(SECTION):
        if isinstance(value, dict):
            return _parse_section(default, value, path, report)
        # The type only, as at the top level: a section given as text is not echoed.
        report.error(path, f"must be a mapping of keys (got a {type(value).__name__})")
        return default
    if field.metadata.get(RECORD):
        return _parse_records(field, value, path, report)
    return _checked(field, value, path, report, default)


def _checked(field: attrs.Attribute, value: Any, path: str, report: _Report, default: Any) -> Any:
    try:
        return field.metadata[CHECK](value)
    except Invalid as exc:
        # A reason is a string, or (sub-path, reason) for a problem inside the value, e.g. ("[1].rate", ...).
        for reason in exc.args:
            sub, reason = reason if isinstance(reason, tuple) else ("", reason)
            report.error(path + sub, reason)
        return default


def _parse(config: Any) -> tuple[PlanwiseConfig, Problems]:
    report = _Report()
    if isinstance(config, dict):
        parsed = _parse_section(PlanwiseConfig(), config, "", report)
        cross_section_rules(parsed, report)
        _year_rate_rules(parsed, report)
    else:
        # The type only: when the file is not a configuration at all, its text is not echoed anywhere.
        report.error(_TOP_LEVEL, f"must be a mapping of sections (the file holds a {type(config).__name__}, "
                                 "not 'simulation:', 'workforce:', ... keys)")
        parsed = PlanwiseConfig()
    return parsed, report.result()


def check_configuration(config: dict) -> Problems:
    """Every error and warning of ``config`` at once, each prefixed by its key path (``.items``: as Problem data)."""
    return _parse(config)[1]


def validate_configuration(config: dict) -> tuple[bool, list[str]]:
    """(is_valid, errors); warnings do not make a configuration invalid."""
    errors = check_configuration(config).errors
    return not errors, list(errors)


def config_from_dict(d: dict, source: str = "<config>") -> PlanwiseConfig:
    """Validate ``d`` and build the config, defaults filling absent optional keys."""
    config, problems = _parse(d)
    if problems.errors:
        raise ConfigError(source, list(problems.errors), [p for p in problems.items if p.severity == ERROR])
    for warning in problems.warnings:
        _log.warning("%s: %s", source, warning)
    return attrs.evolve(config, warnings=problems.warnings)
