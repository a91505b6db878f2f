"""Value checks of the configuration schema: raw YAML value -> normalized value, or raise Invalid."""

import datetime
import reprlib
from typing import Any, Callable

from planwise_core.census.columns import mapping_problems
from planwise_core.census.formats import date_format_problem

DISTRIBUTION_TOLERANCE = 0.001


class Invalid(Exception):
    """A value failed its check; each arg is one reason."""


SCHEMA_INFO = "schema_info"  # a check's attribute: what it accepts, as data (read by config/describe.py)


def described_as(check: Callable[[Any], Any], lazy: Callable[[], dict] | None = None,
                 **info: Any) -> Callable[[Any], Any]:
    """``check`` with ``info`` (type, min, max, choices, nullable, ...), or ``lazy()`` computing it, attached for
    :func:`check_info`."""
    setattr(check, SCHEMA_INFO, lazy or info)
    return check


def check_info(check: Callable[[Any], Any]) -> dict[str, Any]:
    """What a check accepts as data (a callable info is computed now, e.g. choices read from a table)."""
    info = getattr(check, SCHEMA_INFO, {})
    return dict(info()) if callable(info) else dict(info)


def _limited_repr(width: int) -> reprlib.Repr:
    limited = reprlib.Repr()
    limited.maxlevel, limited.maxlist, limited.maxtuple, limited.maxdict, limited.maxset = 3, 6, 6, 6, 6
    limited.maxstring = limited.maxother = limited.maxlong = width
    return limited


def short_repr(value: Any, width: int = 60) -> str:
    """repr() cut to ``width``, built in bounded work (reprlib: a few items, a few levels): a message names a
    value, it never copies a whole file's contents nor walks a huge (alias-expanded) structure."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits>"
    try:
        text = _limited_repr(width).repr(value)
    except ValueError:  # an integer beyond Python's printing limit inside a container
        text = f"<a {type(value).__name__} holding a number too long to print>"
    return text if len(text) <= width else text[: width - 3] + "..."


def described(value: Any) -> str:
    return f"(got {type(value).__name__} {short_repr(value)})"


def as_int(value: Any) -> int:
    # bool is a subclass of int; `start_year: yes` must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be an integer {described(value)}")
    return value


described_as(as_int, type="integer")


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"must be a number {described(value)}")
    return float(value)


described_as(as_float, type="number")


def as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false {described(value)}")
    return value


described_as(as_bool, type="boolean")


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

    return described_as(check, **check_info(convert), min=low, max=high, min_exclusive=low_open,
                        max_exclusive=high_open)


RATE = ranged(as_float, 0, 1)
NON_NEGATIVE_INT = ranged(as_int, 0)
POSITIVE_INT = ranged(as_int, 1)


def nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return described_as(lambda value: None if value is None else check(value), **check_info(check), nullable=True)


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


described_as(optional_date, type="date", nullable=True)


def choice(options: tuple[str, ...], case_sensitive: bool = True) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        key = value if case_sensitive or not isinstance(value, str) else value.lower()
        if key not in options:
            raise Invalid(f"must be one of {', '.join(options)} (got {short_repr(value)})")
        return key

    return described_as(check, type="string", choices=tuple(options))


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


described_as(distribution, type="distribution")  # a mapping rate -> share


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


described_as(assumptions_spec, type="assumptions", nullable=True)  # a folder, or a mapping table -> rows


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
        reasons, pairs, spelled = [], [], {}
        for key, rate in value.items():
            try:
                year = YEAR(int(key) if isinstance(key, str) and key.strip().isdigit() else key)
            except Invalid as exc:
                reasons.append((f".{short_repr(key, 20)}", f"the key must be a year: {exc.args[0]}"))
                continue
            if year in spelled:
                reasons.append((f".{year}", f"the year {year} is given twice (as {short_repr(spelled[year], 20)} and "
                                            f"{short_repr(key, 20)}); keep one"))
                continue
            spelled[year] = key
            try:
                pairs.append((year, check(rate)))
            except Invalid as exc:
                reasons += [(f".{year}", reason) for reason in exc.args]
        if reasons:
            raise Invalid(*reasons)
        return YearRates(sorted(pairs))

    return described_as(parse, **check_info(check), by_year=True)


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
