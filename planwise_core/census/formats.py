"""How a census writes its dates and rates, and the formats it must be told about rather than have guessed.

ISO dates (YYYY-MM-DD) and fractions (0.06) are read as such. Dates written another way are read only under
``census.date_format`` (e.g. ``%m/%d/%Y``), percentages (``6%``) only under ``census.percent_strings``;
otherwise the file is refused with the exact conversion (docs/census.md, Formats).
"""

from __future__ import annotations

import re

import attrs

ISO_DATE = "%Y-%m-%d"
# The directives a census date format may use, each exactly once, and what they read.
_DIRECTIVES = {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%d": r"\d{1,2}"}
_SEPARATORS = set("-/. ")
PERCENT = r"^[+-]?(\d+(\.\d*)?|\.\d+)\s*%$"
# Dates in a form other than the configured one that HR systems commonly write: (pattern, groups as (first,
# second) parts that could be a month or a day, year group).
SLASH_DATE = r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$"


@attrs.frozen
class Reading:
    """How to read a census file: ``columns`` ((census column, file header) pairs, from census.columns and
    --column), ``date_format`` (strptime, %Y %m %d) and ``percent_strings`` (``6%`` read as 0.06)."""

    columns: tuple[tuple[str, str], ...] = ()
    date_format: str = ISO_DATE
    percent_strings: bool = False

    @classmethod
    def of(cls, census_config) -> "Reading":
        return cls(tuple(census_config.columns), census_config.date_format, census_config.percent_strings)


def date_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot be a census date format, or None."""
    parts = re.findall(r"%.|[^%]", fmt)
    directives = [p for p in parts if p.startswith("%")]
    if sorted(directives) != sorted(_DIRECTIVES) or any(p not in _SEPARATORS for p in parts if p not in directives):
        return (f"must use %Y, %m and %d once each, separated by - / . or a space (got {fmt!r}; "
                "e.g. '%m/%d/%Y' for 03/15/2019, '%d.%m.%Y' for 15.03.2019)")
    return None


def date_pattern(fmt: str) -> str:
    """The regular expression a value written in ``fmt`` matches in full (a 2-digit year never passes)."""
    if fmt == ISO_DATE:
        return r"\d{4}-\d{2}-\d{2}"
    return "".join(_DIRECTIVES.get(p, re.escape(p)) for p in re.findall(r"%.|[^%]", fmt))


def readable(fmt: str) -> str:
    """``%m/%d/%Y`` -> ``MM/DD/YYYY``."""
    return fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")


def date_sql(expr: str, fmt: str) -> str:
    """The DATE of text ``expr`` written in ``fmt``, NULL when it is not such a date."""
    pattern = date_pattern(fmt).replace("'", "''")
    parse = f"try_cast({expr} AS DATE)" if fmt == ISO_DATE else f"CAST(try_strptime({expr}, '{fmt}') AS DATE)"
    return f"CASE WHEN regexp_full_match({expr}, '{pattern}') THEN {parse} END"


def rate_sql(expr: str, percent_strings: bool) -> str:
    """A rate as a DOUBLE: a number, or with ``percent_strings`` a percentage such as 6% (0.06)."""
    if not percent_strings:
        return f"try_cast({expr} AS DOUBLE)"
    return (f"CASE WHEN regexp_full_match({expr}, '{PERCENT[1:-1]}') "
            f"THEN try_cast(trim(replace({expr}, '%', '')) AS DOUBLE) / 100 ELSE try_cast({expr} AS DOUBLE) END")


def rate_decimal_sql(expr: str, percent_strings: bool) -> str:
    """The exact DECIMAL(9, 6) of a rate (as the loader stores it); percentages divided by 100 exactly."""
    if not percent_strings:
        return f"try_cast({expr} AS DECIMAL(9, 6))"
    return (f"CASE WHEN regexp_full_match({expr}, '{PERCENT[1:-1]}') "
            f"THEN try_cast(try_cast(trim(replace({expr}, '%', '')) AS DECIMAL(18, 6)) / 100 AS DECIMAL(9, 6)) "
            f"ELSE try_cast({expr} AS DECIMAL(9, 6)) END")


@attrs.frozen
class FormatCheck:
    """Values of one text column (s_*) written in a form the reading was not told about."""

    column: str
    alias: str
    kind: str  # "percent" or "date"


def format_checks(reading: Reading) -> list[FormatCheck]:
    checks = [] if reading.percent_strings else [FormatCheck("employee_deferral_rate", "def", "percent")]
    if reading.date_format == ISO_DATE:
        checks += [FormatCheck(column, alias, "date") for column, alias in (
            ("employee_birth_date", "birth"), ("employee_hire_date", "hire"), ("employee_termination_date", "term"))]
    return checks


def check_sql(check: FormatCheck) -> str:
    """(count, first rids, first value, largest first part, largest second part) of the offending values."""
    value = f"s_{check.alias}"
    pattern = PERCENT if check.kind == "percent" else SLASH_DATE
    parts = ("NULL, NULL" if check.kind == "percent" else
             f"max(regexp_extract({value}, '{SLASH_DATE}', 1)::INTEGER), "
             f"max(regexp_extract({value}, '{SLASH_DATE}', 2)::INTEGER)")
    return (f"SELECT count(*), list(_rid ORDER BY _rid)[1:5], arg_min({value}, _rid), {parts} "
            f"FROM census_parsed WHERE regexp_matches({value}, '{pattern}')")


def format_fix(check: FormatCheck, example: str, first_max: int | None, second_max: int | None) -> str:
    """What the values are, and the exact conversion (or the option that reads them)."""
    if check.kind == "percent":
        number = example.replace("%", "").strip()
        try:
            fraction = f"{float(number) / 100:g}"
        except ValueError:
            fraction = "the number divided by 100"
        return (f"percentages such as {example!r}: write the rate as a fraction ({example} -> {fraction}), or "
                "read percentages with --percent-strings (census.percent_strings: true)")
    a, b, year = re.match(SLASH_DATE, example).groups()
    sep = example[len(a)]
    orders = [f"%m{sep}%d{sep}%Y", f"%d{sep}%m{sep}%Y"]
    if (first_max or 0) > 12:
        orders = orders[1:]
    elif (second_max or 0) > 12:
        orders = orders[:1]
    iso = [_iso(a, b, year, order) for order in orders]
    if len(orders) == 1:
        how = (f"they are {readable(orders[0])}: write them as YYYY-MM-DD ({example} -> {iso[0]}), or read them "
               f"with --date-format '{orders[0]}' (census.date_format: \"{orders[0]}\")")
    else:
        how = (f"month and day cannot be told apart: write them as YYYY-MM-DD ({example} -> {iso[0]} if "
               f"{readable(orders[0])}, {iso[1]} if {readable(orders[1])}), or read them with --date-format "
               f"'{orders[0]}' or '{orders[1]}' (census.date_format)")
    return f"dates written as {example!r}, not YYYY-MM-DD; {how}"


def _iso(a: str, b: str, year: str, order: str) -> str:
    month, day = (a, b) if order.startswith("%m") else (b, a)
    return f"{year}-{month.zfill(2)}-{day.zfill(2)}"
