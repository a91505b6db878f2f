"""Value checks of the configuration schema: raw YAML value -> normalized value, or raise Invalid."""

import datetime
from typing import Any, Callable

from planwise_core.census.columns import mapping_problems
from planwise_core.census.formats import date_format_problem

DISTRIBUTION_TOLERANCE = 0.001


class Invalid(Exception):
    """A value failed its check; each arg is one reason."""


def short_repr(value: Any, width: int = 60) -> str:
    """repr() cut to ``width``: a message names a value, it never copies a whole file's contents."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def described(value: Any) -> str:
    return f"(got {type(value).__name__} {short_repr(value)})"


def as_int(value: Any) -> int:
    # bool is a subclass of int; `start_year: yes` must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be an integer {described(value)}")
    return value


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"must be a number {described(value)}")
    return float(value)


def as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false {described(value)}")
    return value


def _interval(low: float, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def ranged(convert: Callable[[Any], float], low: float, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        number = convert(value)
        too_low = number <= low if low_open else number < low
        too_high = high is not None and (number >= high if high_open else number > high)
        # NaN compares false to every bound, hence the explicit self-comparison.
        if too_low or too_high or number != number:
            # A fraction typed as a percentage (3 for 0.03) is the likeliest mistake with a rate.
            hint = f"; did you mean {number / 100:g}?" if high == 1 and 1 < number <= 100 else ""
            raise Invalid(f"must be {_interval(low, high, low_open, high_open)} (got {short_repr(value)}{hint})")
        return number

    return check


RATE = ranged(as_float, 0, 1)
NON_NEGATIVE_INT = ranged(as_int, 0)
POSITIVE_INT = ranged(as_int, 1)


def nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


# Calendar years the simulation accepts: wide enough for any real plan, narrow enough that every date
# computed from them (census date, hire dates, ages) stays an ordinary date.
FIRST_YEAR, LAST_YEAR = 1900, 2200
YEAR = ranged(as_int, FIRST_YEAR, LAST_YEAR)


def optional_date(value: Any) -> datetime.date | None:
    if value is None:
        return value
    try:
        day = value if type(value) is datetime.date else datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(f"must be an ISO date YYYY-MM-DD or null {described(value)}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid(f"must be a date in the years {FIRST_YEAR}-{LAST_YEAR} (got {day.isoformat()})")
    return day


def choice(options: tuple[str, ...], case_sensitive: bool = True) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        key = value if case_sensitive or not isinstance(value, str) else value.lower()
        if key not in options:
            raise Invalid(f"must be one of {', '.join(options)} (got {short_repr(value)})")
        return key

    return check


def _rate_key(key: Any) -> float:
    # YAML gives `0.03:` as a float key and `"0.03":` as a string key; accept both.
    if isinstance(key, str):
        try:
            key = float(key)
        except ValueError:
            raise Invalid(f"must be a number {described(key)}") from None
    return RATE(key)


def distribution(value: Any) -> tuple[tuple[float, float], ...]:
    """A mapping rate -> share whose shares sum to 1; returned sorted by rate."""
    if not isinstance(value, dict):
        raise Invalid(f"must be a mapping of rate to share {described(value)}")
    reasons, pairs = [], []
    for key, share in value.items():
        entry = []
        for label, check, raw in (("rate", _rate_key, key), ("share", RATE, share)):
            try:
                entry.append(check(raw))
            except Invalid as exc:
                reasons.append(f"{label} of entry {short_repr(key)}: {exc}")
        if len(entry) == 2:
            pairs.append((entry[0], entry[1]))
    total = sum(share for _, share in pairs)
    # The sum is only meaningful when every entry is valid.
    if not reasons and abs(total - 1) > DISTRIBUTION_TOLERANCE:
        reasons.append(f"shares must sum to 1 ± {DISTRIBUTION_TOLERANCE} (got {total:.6g})")
    if reasons:
        raise Invalid(*reasons)
    return tuple(sorted(pairs))


def assumptions_spec(value: Any) -> Any:
    """``assumptions:``: null, a folder path, or a mapping of table name -> inline rows (and ``folder:``).
    Only the shape is checked here; the tables themselves are validated by planwise_core.assumptions."""
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        folder = value.get("folder")
        if folder is not None and not (isinstance(folder, str) and folder.strip()):
            raise Invalid(f"folder must be a folder path {described(folder)}")
        return value
    raise Invalid("must be a folder of parameter-table CSV files, or a mapping of table name to rows "
                  f"{described(value)}")


class YearRates(tuple):
    """A rate given per year: sorted (year, rate) pairs; a year without its own rate uses the last given before it."""

    def rate_for(self, year: int) -> float | None:
        given = [rate for y, rate in self if y <= year]
        return given[-1] if given else None


def by_year(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One number for every year, or a mapping year -> number (YAML int or string keys), each value ``check``ed."""
    def parse(value: Any) -> Any:
        if not isinstance(value, dict):
            return check(value)
        if not value:
            raise Invalid("must be a number or a mapping of year to rate (got an empty mapping)")
        reasons, pairs = [], []
        for key, rate in value.items():
            try:
                year = YEAR(int(key) if isinstance(key, str) and key.strip().isdigit() else key)
            except Invalid as exc:
                reasons.append((f".{short_repr(key, 20)}", f"the key must be a year: {exc.args[0]}"))
                continue
            try:
                pairs.append((year, check(rate)))
            except Invalid as exc:
                reasons += [(f".{year}", reason) for reason in exc.args]
        if reasons:
            raise Invalid(*reasons)
        return YearRates(sorted(pairs))

    return parse


def column_mapping(value: Any) -> tuple[tuple[str, str], ...]:
    """``census.columns``: {census column: header of the file}; dumped back as a mapping."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise Invalid(f"must be a mapping of census column to the file's header, e.g. "
                      f"{{employee_termination_date: \"Termination Date\"}} {described(value)}")
    problems = mapping_problems(value)
    if problems:
        raise Invalid(*problems)
    return tuple(sorted((str(k), v) for k, v in value.items()))


def date_format(value: Any) -> str:
    """``census.date_format``: a strptime format of %Y, %m and %d (ISO ``%Y-%m-%d`` by default)."""
    if not isinstance(value, str):
        raise Invalid(f"must be a date format such as '%m/%d/%Y' {described(value)}")
    problem = date_format_problem(value)
    if problem:
        raise Invalid(problem)
    return value
