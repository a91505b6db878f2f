"""Employee census: deterministic synthetic generator, validator and loader.

The behaviour contract is docs/census.md (and section 2 of the domain model).
Everything row-wise runs in DuckDB SQL so a 1M-row census stays fast.
"""

from __future__ import annotations

import csv
import difflib
import os
from datetime import date
from pathlib import Path

import attrs
import duckdb

from planwise_core.errors import CensusError

REQUIRED = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_gross_compensation")
OPTIONAL = ("employee_termination_date", "employee_deferral_rate", "level_id")
KNOWN = REQUIRED + OPTIONAL
DEFAULT_CENSUS_DATE = date(2024, 12, 31)
MAX_LISTED = 5
MAX_DUPLICATE_LINES = 10

# Level bands [min, max): the generator draws inside them, level_id is the band holding the salary.
SALARY_BANDS = ((1, 45_000, 80_000), (2, 80_000, 120_000), (3, 120_000, 160_000),
                (4, 160_000, 275_000), (5, 275_000, 400_000))
LEVEL_MIX = (0.55, 0.25, 0.12, 0.06, 0.02)
DEFERRAL_MIX = ((0.03, 0.10), (0.04, 0.10), (0.05, 0.15), (0.06, 0.30),
                (0.08, 0.15), (0.10, 0.12), (0.15, 0.08))
ENROLLED_SHARE = 0.60
TERMINATED_SHARE = 0.03

# Short names of the per-column SQL expressions (s_* = trimmed text, p_* = parsed value).
_ALIAS = {"employee_id": "id", "employee_birth_date": "birth", "employee_hire_date": "hire",
          "employee_termination_date": "term", "employee_gross_compensation": "comp",
          "employee_deferral_rate": "def", "level_id": "level"}


@attrs.frozen
class CensusSummary:
    path: Path
    rows: int
    actives: int
    terminated: int
    enrolled: int
    has_level_id: bool


# --------------------------------------------------------------------------- generator


def generate_census(employees: int, seed: int, out: str | Path,
                    census_date: date = DEFAULT_CENSUS_DATE) -> Path:
    """Write a deterministic synthetic census (.csv or .parquet); same (n, seed) -> same bytes."""
    if isinstance(employees, bool) or not isinstance(employees, int) or employees < 1:
        raise CensusError(f"Cannot generate a census of {employees!r} employees: need an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CensusError(f"Cannot generate a census with seed {seed!r}: the seed must be an integer")
    out = Path(out)
    fmt = {".csv": "FORMAT csv, HEADER true", ".parquet": "FORMAT parquet"}.get(out.suffix.lower())
    if fmt is None:
        raise CensusError(f"Cannot write census {out}: the file name must end in .csv or .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({_generator_sql(employees, seed, census_date)}) TO {_lit(out)} ({fmt})")
    finally:
        con.close()
    return out


def _generator_sql(n: int, seed: int, census_date: date) -> str:
    def u(stream: str) -> str:
        # One independent uniform [0, 1) per (seed, row, attribute), stable across machines/versions.
        return (f"('0x' || left(sha256('{seed}|' || i || '|{stream}'), 16))::UBIGINT"
                " / 18446744073709551616.0")

    cd = f"DATE '{census_date.isoformat()}'"
    year_start = f"DATE '{census_date.year}-01-01'"
    lows = ", ".join(str(lo) for _, lo, _ in SALARY_BANDS) + f", {SALARY_BANDS[-1][2]}"
    level_case = _threshold_case("u_level", [(lvl, share) for (lvl, _, _), share in zip(SALARY_BANDS, LEVEL_MIX)])
    deferral_case = _threshold_case(f"u_deferral / {ENROLLED_SHARE}", DEFERRAL_MIX)
    level_of_salary = " ".join(f"WHEN salary < {hi} THEN {lvl}" for lvl, _, hi in SALARY_BANDS[:-1])
    return f"""
    WITH draws AS (
        SELECT i, {u('age')} AS u_age, {u('tenure')} AS u_tenure, {u('level')} AS u_level,
               {u('salary')} AS u_salary, {u('deferral')} AS u_deferral, {u('termination')} AS u_term
        FROM range({n}) t(i)
    ), aged AS (
        -- triangular(22, 38, 65): the bulk in the 30s and 40s, a tail to 64
        SELECT *, least(CASE WHEN u_age < 16 / 43 THEN 22 + sqrt(u_age * 43 * 16)
                             ELSE 65 - sqrt((1 - u_age) * 43 * 27) END, 64.999) AS age
        FROM draws
    ), born AS (
        SELECT *, ({cd} - to_years(floor(age)::INTEGER)
                        - to_days(floor((age - floor(age)) * 365)::INTEGER))::DATE AS birth
        FROM aged
    ), capped AS (
        -- tenure cap: 35 years, and never hired before age 18
        SELECT *, least(35 * 365, date_diff('day', (birth + INTERVAL 18 YEAR)::DATE, {cd})) AS max_days
        FROM born
    ), hired AS (
        -- exponential tenure (mean 6 years) truncated at the cap: many short, a long tail
        SELECT *, ({cd} - least(max_days, floor(-2190 * ln(1 - u_tenure * (1 - exp(-max_days / 2190)))))
                              ::INTEGER)::DATE AS hire,
               [{lows}][{level_case}] AS band_lo, [{lows}][{level_case} + 1] AS band_hi
        FROM capped
    ), paid AS (
        SELECT *, least(floor((band_lo + (band_hi - band_lo) * pow(u_salary, 1.5)) * 100) / 100,
                        band_hi - 0.01) AS salary,
               greatest(hire, {year_start}) AS term_from
        FROM hired
    )
    SELECT printf('EMP_%06d', i + 1) AS employee_id,
           birth AS employee_birth_date,
           hire AS employee_hire_date,
           CASE WHEN u_term < {TERMINATED_SHARE} THEN (term_from + least(date_diff('day', term_from, {cd}),
                floor(u_term / {TERMINATED_SHARE} * (date_diff('day', term_from, {cd}) + 1)))::INTEGER)::DATE
           END AS employee_termination_date,
           salary::DECIMAL(18, 2) AS employee_gross_compensation,
           (CASE WHEN u_deferral < {ENROLLED_SHARE} THEN {deferral_case} ELSE 0 END)::DECIMAL(4, 2)
               AS employee_deferral_rate,
           (CASE {level_of_salary} ELSE {SALARY_BANDS[-1][0]} END)::INTEGER AS level_id
    FROM paid
    ORDER BY i
    """


def _threshold_case(draw: str, weighted: list | tuple) -> str:
    """CASE picking a value by cumulative weight; the last value takes the rounding remainder."""
    parts, cumulative = [], 0.0
    for value, weight in weighted[:-1]:
        cumulative += weight
        parts.append(f"WHEN {draw} < {cumulative!r} THEN {value}")
    return f"(CASE {' '.join(parts)} ELSE {weighted[-1][0]} END)"


def builtin_census(cache_dir: Path, employees: int = 10000, seed: int = 42) -> Path:
    """The built-in synthetic census, generated once into cache_dir and reused."""
    cache_dir = Path(cache_dir)
    target = cache_dir / f"synthetic_census_{employees}_{seed}.parquet"
    if target.is_file():
        return target
    # Write aside then rename, so a concurrent or interrupted run never sees half a file.
    partial = cache_dir / f".{target.name}.{os.getpid()}.parquet"
    generate_census(employees, seed, partial)
    os.replace(partial, target)
    return target


# --------------------------------------------------------------------------- validation


def validate_census(path: str | Path, census_date: date) -> CensusSummary:
    """Check the whole census; raise one CensusError listing every problem, else summarise it."""
    path = Path(path)
    con = duckdb.connect()
    try:
        return _Inspection(con, path, census_date).run()
    finally:
        con.close()


class _Inspection:
    """One validation pass: the census in a TEMP table, every check as SQL over it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, census_date: date):
        self.con, self.path, self.census_date = con, path, census_date
        self.kind = _kind(path)
        self.problems: list[str] = []
        self.columns: list[str] = []
        self._line_map: dict[int, int] | None = None
        self._numbered = False

    def run(self) -> CensusSummary:
        self._stage()
        rows = self.con.execute("SELECT count(*) FROM census_raw").fetchone()[0]
        self._check_columns()
        if rows == 0:
            self.problems.append("the file has no data rows (add at least one employee below the header)")
        present = set(self.columns) & set(KNOWN)
        self.con.execute("CREATE TEMP VIEW census_parsed AS "
                         + _parsed_sql("SELECT rowid AS _rid, * FROM census_raw", present, with_rid=True))
        summary = self._check_rows(present, rows) if rows else None
        if "employee_id" in present and rows:
            self._check_duplicates()
        if self.problems:
            self._fail()
        return summary

    def _stage(self) -> None:
        if not self.path.is_file():
            raise CensusError(f"Census file {self.path} not found (give the path of a .csv or .parquet file)")
        if self.kind is None:
            self._fail(f"unsupported file type {self.path.suffix or '(no suffix)'!r} "
                       "(save the census as .csv or .parquet)")
        if self.path.stat().st_size == 0:
            self._fail("the file is empty (it needs a header row and at least one employee)")
        try:
            self.con.execute(f"CREATE TEMP TABLE census_raw AS {_source_sql(self.con, self.path, self.kind)}")
        except duckdb.Error as exc:
            self._fail(self._ragged_problem() or
                       f"cannot be read as {self.kind.upper()}: {_first_line(exc)} ("
                       + ("save it as UTF-8 comma-separated text with a header row" if self.kind == "csv"
                          else "export it again as Parquet") + ")")
        self.columns = [r[0] for r in self.con.execute("DESCRIBE census_raw").fetchall()]
        if len(self.columns) == 1 and (ragged := self._ragged_problem()):
            self._fail(ragged)

    def _ragged_problem(self) -> str | None:
        """Why the CSV reader could not split the file into columns, with line numbers, if we can tell."""
        if self.kind != "csv":
            return None
        width, ragged = _ragged_lines(self.path)
        if not ragged:
            return None
        self._numbered = True
        return (f"the file cannot be split into columns: the header has {width} fields but "
                f"{_listing(ragged[:MAX_LISTED], 'line', len(ragged))} "
                f"{'has' if len(ragged) == 1 else 'have'} a different number of fields "
                "(quote values that contain the delimiter, or fix the row)")

    def _check_columns(self) -> None:
        missing = [c for c in REQUIRED if c not in self.columns]
        if missing:
            self.problems.append(
                f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}: required but missing; "
                f"columns found: {', '.join(_short(c) for c in self.columns) or '(none)'}"
                " (name the columns in the header exactly as in docs/census.md)")
        for column in self.columns:
            if column in KNOWN:
                continue
            match = difflib.get_close_matches(column.strip().lower(), KNOWN, n=1, cutoff=0.8)
            if match and match[0] not in self.columns:
                self.problems.append(f"column {_short(column)}: unknown column that looks like a misspelling "
                                     f"of {match[0]} (rename it to {match[0]})")

    def _check_rows(self, present: set[str], rows: int) -> CensusSummary:
        checks = [c for c in _row_checks(self.census_date) if c[0] in present and all(d in present for d in c[4])]
        selects = ["count(*) FILTER (WHERE p_term <= $cd)",
                   "count(*) FILTER (WHERE (p_term IS NULL OR p_term > $cd) AND coalesce(p_def, 0) > 0)"]
        for _, _, cond, _, _ in checks:
            selects += [f"count(*) FILTER (WHERE {cond})", f"min(_rid, {MAX_LISTED}) FILTER (WHERE {cond})"]
        result = self.con.execute(f"SELECT {', '.join(selects)} FROM census_parsed",
                                  {"cd": self.census_date}).fetchone()
        terminated, enrolled = result[0], result[1]
        for i, (column, reason, _, fix, _) in enumerate(checks):
            count, first = result[2 + 2 * i], result[3 + 2 * i]
            if count:
                self.problems.append(f"column {column}: {reason} at {self._where(first, count)} ({fix})")
        if rows - terminated == 0:
            self.problems.append(f"column employee_termination_date: no active employee, every row is terminated "
                                 f"on or before {self.census_date} (the census needs at least one active employee)")
        return CensusSummary(path=self.path, rows=rows, actives=rows - terminated, terminated=terminated,
                             enrolled=enrolled, has_level_id="level_id" in present)

    def _check_duplicates(self) -> None:
        dupes = self.con.execute(f"""
            SELECT s_id, count(*), min(_rid, {MAX_DUPLICATE_LINES}), count(*) OVER ()
            FROM census_parsed WHERE s_id IS NOT NULL
            GROUP BY s_id HAVING count(*) > 1 ORDER BY min(_rid) LIMIT {MAX_LISTED}""").fetchall()
        for employee_id, count, first, _ in dupes:
            self.problems.append(f"column employee_id: duplicate id {employee_id!r} at "
                                 f"{self._where(first, count, limit=MAX_DUPLICATE_LINES)} "
                                 "(keep one row per employee)")
        if dupes and dupes[0][3] > MAX_LISTED:
            self.problems.append(f"column employee_id: and {dupes[0][3] - MAX_LISTED} more duplicated ids "
                                 "(keep one row per employee)")

    def _where(self, rids: list[int], count: int, limit: int = MAX_LISTED) -> str:
        self._numbered = True
        numbers = [self._row_number(r) for r in sorted(rids)[:limit]]
        return _listing(numbers, "line" if self.kind == "csv" else "row", count)

    def _row_number(self, rid: int) -> int:
        if self.kind == "parquet":
            return rid + 1
        if self._line_map is None:
            self._line_map = _csv_line_map(self.con, self.path)
        return self._line_map.get(rid, rid + 2)

    def _fail(self, *extra: str) -> None:
        problems = self.problems + list(extra)
        counting = ""
        if self._numbered:
            counting = ("; line numbers are lines of the file, the header is line 1" if self.kind == "csv"
                        else "; row numbers count the Parquet rows from 1")
        body = "\n".join(f"  - {p}" for p in problems)
        error = CensusError(f"Census {self.path} is invalid (nothing was loaded{counting}):\n{body}")
        error.problems = problems
        raise error


def _row_checks(cd: date) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """(column, reason, SQL condition over census_parsed, fix, other columns the check needs)."""
    date_fix = "write dates as YYYY-MM-DD"
    return [
        ("employee_id", "must not be empty", "s_id IS NULL", "give every row an employee id or remove it", ()),
        ("employee_birth_date", "must be a date YYYY-MM-DD", "p_birth IS NULL", date_fix, ()),
        ("employee_hire_date", "must be a date YYYY-MM-DD", "p_hire IS NULL", date_fix, ()),
        ("employee_termination_date", "must be empty or a date YYYY-MM-DD",
         "s_term IS NOT NULL AND p_term IS NULL", date_fix + ", or leave it empty for actives", ()),
        ("employee_gross_compensation", "must be a number > 0",
         "NOT coalesce(p_comp > 0 AND p_comp < 1e15, false)",
         "fix the salary or remove the row; it is the annual salary rate, e.g. 65000.00", ()),
        ("employee_deferral_rate", "must be empty or a number from 0 to 1",
         "s_def IS NOT NULL AND NOT coalesce(p_def >= 0 AND p_def <= 1, false)",
         "write the rate as a fraction, e.g. 0.06 for 6 %", ()),
        ("level_id", "must be empty or an integer from 1 to 5",
         "s_level IS NOT NULL AND NOT coalesce(p_level IN (1, 2, 3, 4, 5), false)",
         "use levels 1-5 or leave it empty to derive the level from the salary", ()),
        ("employee_hire_date", f"hire date is after the census date {cd}", "p_hire > $cd",
         "correct the hire date; future hires do not belong in the census", ()),
        ("employee_hire_date", "hire date is before the employee's 14th birthday",
         "p_hire < p_birth + INTERVAL 14 YEAR", "check the birth and hire dates", ("employee_birth_date",)),
        ("employee_termination_date", "termination date is before the hire date", "p_term < p_hire",
         "check the hire and termination dates", ("employee_hire_date",)),
    ]


def _listing(numbers: list[int], noun: str, count: int | None = None) -> str:
    count = len(numbers) if count is None else count
    text = f"{noun}{'s' if count > 1 else ''} {', '.join(str(n) for n in numbers)}"
    return text + (f" and {count - len(numbers)} more" if count > len(numbers) else "")


# --------------------------------------------------------------------------- shared SQL


def _kind(path: Path) -> str | None:
    return {".csv": "csv", ".parquet": "parquet"}.get(path.suffix.lower())


def _source_sql(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> str:
    """SELECT of the file with every column as text (Parquet dates as ISO text)."""
    if kind == "csv":
        # skip = 0: the header is line 1, never a row the sniffer guessed
        return f"SELECT * FROM read_csv({_lit(path)}, all_varchar = true, header = true, skip = 0)"
    source = f"read_parquet({_lit(path)})"
    casts = []
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
        # A Parquet TIMESTAMP would print its time of day; the census wants the calendar date.
        inner = f"CAST({_q(name)} AS DATE)" if type_ == "DATE" or type_.startswith("TIMESTAMP") else _q(name)
        casts.append(f"CAST({inner} AS VARCHAR) AS {_q(name)}")
    return f"SELECT {', '.join(casts)} FROM {source}"


def _parsed_sql(source: str, present: set[str], with_rid: bool) -> str:
    """Trimmed text (s_*) and parsed values (p_*) of every known column; absent columns are NULL."""
    texts = [f"nullif(trim({_q(c)}), '') AS s_{a}" if c in present else f"NULL::VARCHAR AS s_{a}"
             for c, a in _ALIAS.items()]
    return f"""
    SELECT *,
        {_iso_date('s_birth')} AS p_birth, {_iso_date('s_hire')} AS p_hire, {_iso_date('s_term')} AS p_term,
        try_cast(s_comp AS DOUBLE) AS p_comp, try_cast(s_def AS DOUBLE) AS p_def,
        try_cast(s_level AS DOUBLE) AS p_level
    FROM (SELECT {'_rid, ' if with_rid else ''}{', '.join(texts)} FROM ({source}) src)
    """


def _iso_date(expr: str) -> str:
    return f"CASE WHEN regexp_full_match({expr}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN try_cast({expr} AS DATE) END"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _short(name: str, width: int = 40) -> str:
    name = repr(name)
    return name if len(name) <= width else name[: width - 3] + "..."


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --------------------------------------------------------------------------- CSV line numbers


def _csv_line_map(con: duckdb.DuckDBPyConnection, path: Path) -> dict[int, int]:
    """Data row index -> file line; empty when each row is exactly one line after the header."""
    rows = con.execute("SELECT count(*) FROM census_raw").fetchone()[0]
    if _physical_lines(path) == rows + 1:
        return {}
    # Irregular file (blank lines, quoted line breaks): replay the parse in Python to count lines.
    delimiter, quote = con.execute(
        f"SELECT Delimiter, Quote FROM sniff_csv({_lit(path)}, header = true, skip = 0)").fetchone()
    quoting = {"quoting": csv.QUOTE_NONE} if quote in ("", "(empty)") else {"quotechar": quote}
    mapping, rid = {}, 0
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, **quoting)
        next(reader, None)
        previous = reader.line_num
        for record in reader:
            if record:
                mapping[rid] = previous + 1
                rid += 1
            previous = reader.line_num
    return mapping


def _physical_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _ragged_lines(path: Path) -> tuple[int, list[int]]:
    """Header width and the lines whose field count differs from it (none for a non-text file)."""
    ragged = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
            delimiter = max(",;|\t", key=header.count)
            width = len(next(csv.reader([header], delimiter=delimiter), []))
            reader, previous = csv.reader(handle, delimiter=delimiter), 0
            for record in reader:
                if record and len(record) != width:
                    ragged.append(previous + 2)  # +1 for the header line, +1 to count from 1
                previous = reader.line_num
    except (UnicodeDecodeError, csv.Error):
        return 0, []
    return width, ragged


# --------------------------------------------------------------------------- loading


def load_census(con: duckdb.DuckDBPyConnection, path: str | Path, census_date: date) -> CensusSummary:
    """Validate, then replace raw.census with the typed census in one transaction (all rows kept)."""
    path = Path(path)
    summary = validate_census(path, census_date)
    source = _source_sql(con, path, _kind(path))
    present = set(KNOWN) & {r[0] for r in con.execute(f"DESCRIBE {source}").fetchall()}
    parsed = _parsed_sql(source, present, with_rid=False)
    con.begin()
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(f"""CREATE OR REPLACE TABLE raw.census AS SELECT
            s_id AS employee_id, p_birth AS employee_birth_date, p_hire AS employee_hire_date,
            p_term AS employee_termination_date,
            coalesce(try_cast(s_comp AS DECIMAL(18, 2)), p_comp::DECIMAL(18, 2)) AS employee_gross_compensation,
            coalesce(try_cast(s_def AS DECIMAL(9, 6)), p_def::DECIMAL(9, 6), 0)::DECIMAL(9, 6)
                AS employee_deferral_rate,
            p_level::INTEGER AS level_id
            FROM ({parsed})""")
        loaded = con.execute("SELECT count(*) FROM raw.census").fetchone()[0]
        if loaded != summary.rows:
            raise CensusError(f"Census {path} changed while it was being loaded (nothing was loaded); run again")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return summary
