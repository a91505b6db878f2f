"""Census validation: every problem of a file at once, with its column and line, before anything is loaded.

The behaviour contract is docs/census.md (and section 2 of the domain model): file problems refuse the file;
row errors refuse it too (``refuse``) or leave those rows out (``drop``); warnings never refuse anything.
Everything row-wise runs in DuckDB SQL so a 1M-row census stays fast.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import attrs
import duckdb

from planwise_core.census.capacity import RATE_CEILING
from planwise_core.census.checks import RowRule, duplicate_ids_sql, error_rules, findings_sql, warning_rules
from planwise_core.census.columns import probable_column
from planwise_core.census.formats import Reading, check_sql, format_checks, format_fix, readable
from planwise_core.census.sql import (
    KNOWN, REQUIRED, csv_line_map, file_kind, first_line, header_names, leading_comment_lines, parsed_sql,
    ragged_lines, short_name, source_sql,
)
from planwise_core.database.sql import inline
from planwise_core.errors import CensusError, option

MAX_LISTED = 5
MAX_DUPLICATE_LINES = 10
REFUSE, DROP = "refuse", "drop"


@attrs.frozen
class CensusSummary:
    """What a census holds; ``rows`` counts the file's rows, the others the rows kept (all but ``dropped``)."""

    path: Path
    rows: int
    actives: int
    terminated: int
    enrolled: int
    has_level_id: bool
    dropped: int = 0
    warning_rows: int = 0
    warnings: tuple[str, ...] = ()
    dropped_problems: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    on_invalid_rows: str = REFUSE
    mapped_columns: tuple[tuple[str, str], ...] = ()  # (census column, the file's header) read under another name

    @property
    def loaded(self) -> int:
        return self.rows - self.dropped

    def to_dict(self) -> dict:
        return {"path": str(self.path), "rows": self.rows, "loaded": self.loaded, "dropped": self.dropped,
                "actives": self.actives, "terminated": self.terminated, "enrolled": self.enrolled,
                "warning_rows": self.warning_rows, "warnings": list(self.warnings),
                "dropped_problems": list(self.dropped_problems), "extra_columns": list(self.extra_columns),
                "mapped_columns": dict(self.mapped_columns), "on_invalid_rows": self.on_invalid_rows}


def validate_census(path: str | Path, census_date: date, on_invalid_rows: str = REFUSE,
                    capacity=None, reading: Reading | None = None) -> CensusSummary:
    """Check the whole census; raise one CensusError listing every problem, else summarise it.

    ``capacity`` (census.capacity.Capacity): the largest salaries the run's configuration can carry;
    ``reading`` (census.formats.Reading): the column mapping, date format and percentages of census.*.
    """
    con = duckdb.connect()
    try:
        return Inspection(con, Path(path), census_date, on_invalid_rows, capacity, reading).run()
    finally:
        con.close()


class Inspection:
    """One validation pass: the census in TEMP tables of ``con``, every rule as SQL over them.

    After ``run()``, ``census_parsed`` holds every row and ``census_errors`` the rows to leave out.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, census_date: date,
                 on_invalid_rows: str = REFUSE, capacity=None, reading: Reading | None = None):
        self.con, self.path, self.census_date = con, path, census_date
        self.policy, self.capacity, self.reading = on_invalid_rows, capacity, reading or Reading()
        self.sources: dict[str, str] = {}  # census column -> the file's header that holds it
        self.kind = file_kind(path)
        self.problems: list[str] = []
        self.columns: list[str] = []
        self.skip = 0
        self._line_map: dict[int, int] | None = None
        self._numbered = False

    # -- the pass -----------------------------------------------------------------------------

    def run(self) -> CensusSummary:
        self._stage()
        rows = self.con.execute("SELECT count(*) FROM census_raw").fetchone()[0]
        extra = self._check_columns()
        if rows == 0:
            self.problems.append("the file has no data rows (add at least one employee below the header)")
        if self.problems:
            self._fail()
        present = set(self.sources)
        self.con.execute("CREATE OR REPLACE TEMP TABLE census_parsed AS "
                         + parsed_sql("SELECT rowid AS _rid, * FROM census_raw", self.sources, True, self.reading))
        self._check_formats(present)
        errors = self._row_errors(present)
        refused = bool(errors) and self.policy != DROP
        if refused:
            self.problems += errors
        summary = self._kept_rows(rows, present, "census_parsed" if refused else "census_kept")
        if self.problems:
            self._fail(hint=refused)
        warning_rows, warnings = self._warnings(present)
        return attrs.evolve(summary, dropped=self._dropped(), warning_rows=warning_rows, warnings=tuple(warnings),
                            dropped_problems=tuple(errors), extra_columns=tuple(extra), on_invalid_rows=self.policy,
                            mapped_columns=tuple((c, h) for c, h in self.sources.items() if c != h))

    def _stage(self) -> None:
        try:
            found = self.path.is_file()
        except OSError as exc:  # e.g. a name longer than the system allows
            raise CensusError(f"Census file {short_name(str(self.path), 120)} cannot be opened: {exc.strerror}") \
                from None
        if not found:
            raise CensusError(f"Census file {self.path} not found (give the path of a .csv or .parquet file)")
        if self.kind is None:
            self._fail(f"unsupported file type {self.path.suffix or '(no suffix)'!r} "
                       "(save the census as .csv or .parquet)")
        if self.path.stat().st_size == 0:
            self._fail("the file is empty (it needs a header row and at least one employee)")
        self.skip = leading_comment_lines(self.path) if self.kind == "csv" else 0
        try:
            self.con.execute("CREATE OR REPLACE TEMP TABLE census_raw AS "
                             + source_sql(self.con, self.path, self.kind, self.skip))
            names = header_names(self.con, self.path, self.kind, self.skip)
        except duckdb.Error as exc:
            self._fail(self._ragged_problem() or
                       f"cannot be read as {self.kind.upper()}: {first_line(exc)} ("
                       + ("save it as UTF-8 comma-separated text with a header row" if self.kind == "csv"
                          else "export it again as Parquet") + ")")
        self.columns = [r[0] for r in self.con.execute("DESCRIBE census_raw").fetchall()]
        if len(self.columns) == 1 and (ragged := self._ragged_problem()):
            self._fail(ragged)
        repeated = [name for name, count in Counter(names).items() if count > 1]
        if repeated:
            self._fail(*[f"column {short_name(name)}: appears {names.count(name)} times in the header (keep one; "
                         "which one holds the data cannot be guessed)" for name in repeated])

    def _ragged_problem(self) -> str | None:
        """Why the CSV reader could not split the file into columns, with line numbers, if we can tell."""
        if self.kind != "csv":
            return None
        width, ragged = ragged_lines(self.path, self.skip)
        if not ragged:
            return None
        self._numbered = True
        return (f"the file cannot be split into columns: the header has {width} fields but "
                f"{_listing(ragged[:MAX_LISTED], 'line', len(ragged))} "
                f"{'has' if len(ragged) == 1 else 'have'} a different number of fields "
                "(quote values that contain the delimiter, or fix the row)")

    def _check_columns(self) -> list[str]:
        """Map the file's headers to census columns; every problem of the header; the columns ignored."""
        self.sources = {c: c for c in KNOWN if c in self.columns}
        for target, header in self.reading.columns:
            if header not in self.columns:
                self.problems.append(f"column {short_name(header)}: census.columns (or --column) maps {target} to "
                                     f"it, but the file has no such column; columns found: "
                                     f"{', '.join(short_name(c) for c in self.columns)} (give the header exactly)")
            elif target in self.columns and target != header:
                self.problems.append(f"column {target}: the file has it and census.columns (or --column) maps it "
                                     f"to {short_name(header)} too (remove the mapping or one of the columns)")
            else:
                self.sources[target] = header
        missing = [c for c in REQUIRED if c not in self.sources]
        if missing:
            self.problems.append(
                f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}: required but missing; "
                f"columns found: {', '.join(short_name(c) for c in self.columns) or '(none)'}"
                " (name the columns in the header exactly as in docs/census.md)")
        extra = []
        for column in self.columns:
            if column in self.sources.values():
                continue
            match = probable_column(column)
            if match and match not in self.sources:
                self.problems.append(
                    f"column {short_name(column)}: not a census column, but it looks like another name or a "
                    f"misspelling of {match}, which the file does not have; rename it to {match}, or map it: "
                    f"census.columns: {{{match}: {_yaml_text(column)}}} in the configuration, or "
                    f"--column {match}={_shell_text(column)}")
            else:
                extra.append(column)
        return extra

    def _check_formats(self, present: set[str]) -> None:
        """Dates and rates written in a form the reading was not told about refuse the file, whatever
        on_invalid_rows says: a whole column would be misread, not one row (docs/census.md, Formats)."""
        found = []
        for check in format_checks(self.reading):
            if check.column not in present:
                continue
            count, rids, example, first, second = self.con.execute(check_sql(check)).fetchone()
            if count:
                found.append(f"column {check.column}: {format_fix(check, example, first, second)}; at "
                             f"{self._where(rids, count)}")
        if found:
            self.problems += found
            self._fail()

    # -- errors, kept rows, warnings --------------------------------------------------------

    def _error_rules(self, present: set[str]) -> list[RowRule]:
        cap = self.capacity
        rules = error_rules(self.census_date, cap.max_salary if cap else None, cap.describe() if cap else "",
                            cap.levels if cap else (1, 2, 3, 4, 5), readable(self.reading.date_format))
        return [r for r in rules if r.applies(present)]

    def _params(self) -> dict:
        return {"cd": self.census_date, "max_salary": self.capacity.max_salary if self.capacity else RATE_CEILING}

    def _row_errors(self, present: set[str]) -> list[str]:
        rules = self._error_rules(present)
        duplicates = duplicate_ids_sql("census_parsed") if "employee_id" in present else None
        union = findings_sql(rules, "census_parsed")
        if duplicates:
            union += (f" UNION ALL SELECT _rid, {len(rules)}, 'employee_id', 'duplicate id (' || shared || ' rows "
                      f"have it; duplicated ids are never deduplicated)' FROM ({duplicates})")
        self.con.execute(inline(f"CREATE OR REPLACE TEMP TABLE census_errors AS {union}", self._params()))
        found = self._listed(rules, "census_errors")
        if duplicates:
            found += self._duplicate_problems(duplicates)
        return found

    def _listed(self, rules: list[RowRule], table: str) -> list[str]:
        counts = self.con.execute(f"SELECT rule, count(*), min(_rid, {MAX_LISTED}) FROM {table} "
                                  f"WHERE rule < {len(rules)} GROUP BY rule ORDER BY rule").fetchall()
        return [f"column {rules[i].column}: {rules[i].reason} at {self._where(first, count)} ({rules[i].fix})"
                for i, count, first in counts]

    def _duplicate_problems(self, duplicates: str) -> list[str]:
        dupes = self.con.execute(f"""
            SELECT s_id, count(*), min(_rid, {MAX_DUPLICATE_LINES}), count(*) OVER ()
            FROM ({duplicates}) GROUP BY s_id ORDER BY min(_rid) LIMIT {MAX_LISTED}""").fetchall()
        found = [f"column employee_id: duplicate id {employee_id!r} at "
                 f"{self._where(first, count, limit=MAX_DUPLICATE_LINES)} (keep one row per employee)"
                 for employee_id, count, first, _ in dupes]
        if dupes and dupes[0][3] > MAX_LISTED:
            found.append(f"column employee_id: and {dupes[0][3] - MAX_LISTED} more duplicated ids "
                         "(keep one row per employee)")
        return found

    def _dropped(self) -> int:
        return self.con.execute("SELECT count(DISTINCT _rid) FROM census_errors").fetchone()[0]

    def _kept_rows(self, rows: int, present: set[str], counted: str) -> CensusSummary:
        """Counts over ``counted``: the rows kept, or every row when the file is refused anyway."""
        self.con.execute("CREATE OR REPLACE TEMP VIEW census_kept AS SELECT * FROM census_parsed "
                         "WHERE _rid NOT IN (SELECT _rid FROM census_errors)")
        kept, terminated, enrolled, payroll = self.con.execute(inline(f"""
            SELECT count(*), count(*) FILTER (WHERE p_term <= $cd),
                   count(*) FILTER (WHERE (p_term IS NULL OR p_term > $cd) AND coalesce(p_def, 0) > 0),
                   coalesce(sum(p_comp) FILTER (WHERE p_term IS NULL OR p_term > $cd), 0)
            FROM {counted}""", {"cd": self.census_date})).fetchone()
        if kept - terminated == 0:
            self.problems.append(f"column employee_termination_date: no active employee, every "
                                 f"{'valid ' if kept < rows else ''}row is terminated on or before "
                                 f"{self.census_date} (the census needs at least one active employee)")
        elif counted == "census_kept" and self.capacity and not self.capacity.payroll_fits(payroll, kept - terminated):
            self.problems.append(f"column employee_gross_compensation: the actives' payroll {payroll:,.2f} is more "
                                 f"than the year summary can carry ({self.capacity.describe()}, and the payroll "
                                 "under 9,999,999,999,999,999.99); check the salaries are annual amounts")
        return CensusSummary(path=self.path, rows=rows, actives=kept - terminated, terminated=terminated,
                             enrolled=enrolled, has_level_id="level_id" in present)

    def _warnings(self, present: set[str]) -> tuple[int, list[str]]:
        rules = [r for r in warning_rules() if r.applies(present)]
        self.con.execute(inline(f"CREATE OR REPLACE TEMP TABLE census_warnings AS "
                                f"{findings_sql(rules, 'census_kept')}", {"cd": self.census_date}))
        rows = self.con.execute("SELECT count(DISTINCT _rid) FROM census_warnings").fetchone()[0]
        return rows, self._listed(rules, "census_warnings") + self._ownership_warning(present)

    def _ownership_warning(self, present: set[str]) -> list[str]:
        """Ownership is a share of one employer: all rows together cannot own more than all of it (docs/ndt.md)."""
        if "ownership_pct" not in present:
            return []
        total = self.con.execute("SELECT sum(try_cast(s_own AS DECIMAL(18, 6))) FROM census_kept").fetchone()[0]
        if total is None or total <= 1:
            return []
        return [f"column ownership_pct: the rows own {total.normalize()} of the employer together, more than 1 "
                "(check for double-counted attribution)"]

    # -- row numbers and the message ----------------------------------------------------------

    def _where(self, rids: list[int], count: int, limit: int = MAX_LISTED) -> str:
        self._numbered = True
        numbers = [self.row_number(r) for r in sorted(rids)[:limit]]
        return _listing(numbers, "line" if self.kind == "csv" else "row", count)

    def row_number(self, rid: int) -> int:
        if self.kind == "parquet":
            return rid + 1
        if self._line_map is None:
            self._line_map = csv_line_map(self.con, self.path, self.skip)
        return self._line_map.get(rid, rid + 2 + self.skip)

    def line_map(self) -> dict[int, int]:
        """Every row's number when it is not simply its index + 2 (+ note lines); empty otherwise."""
        if self.kind == "parquet":
            return {}
        if self._line_map is None:
            self._line_map = csv_line_map(self.con, self.path, self.skip)
        return self._line_map

    def row_offset(self) -> int:
        return 1 if self.kind == "parquet" else 2 + self.skip

    def _fail(self, *extra: str, hint: bool = False) -> None:
        problems = self.problems + list(extra)
        counting = ""
        if self._numbered:
            counting = ("; line numbers are lines of the file, the header is line "
                        f"{1 + self.skip}" if self.kind == "csv" else "; row numbers count the Parquet rows from 1")
        body = "\n".join(f"  - {p}" for p in problems)
        tail = ("\nTo simulate the valid rows and list the others in a rejects file, run with "
                f"{option('on_invalid_rows')} drop (config census.on_invalid_rows: drop).") if hint else ""
        error = CensusError(f"Census {self.path} is invalid (nothing was loaded{counting}):\n{body}{tail}")
        error.problems = problems
        raise error


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shell_text(text: str) -> str:
    return text if text.replace("_", "").isalnum() else "'" + text.replace("'", "'\\''") + "'"


def _listing(numbers: list[int], noun: str, count: int | None = None) -> str:
    count = len(numbers) if count is None else count
    text = f"{noun}{'s' if count > 1 else ''} {', '.join(str(n) for n in numbers)}"
    return text + (f" and {count - len(numbers)} more" if count > len(numbers) else "")
