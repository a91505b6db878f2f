"""Census validation: every problem of a file at once, with its column and line, before anything is loaded.

The behaviour contract is docs/census.md (and section 2 of the domain model).
Everything row-wise runs in DuckDB SQL so a 1M-row census stays fast.
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path

import attrs
import duckdb

from planwise_core.census.sql import (
    KNOWN, REQUIRED, csv_line_map, file_kind, first_line, parsed_sql, ragged_lines, short_name, source_sql,
)
from planwise_core.errors import CensusError

MAX_LISTED = 5
MAX_DUPLICATE_LINES = 10


@attrs.frozen
class CensusSummary:
    path: Path
    rows: int
    actives: int
    terminated: int
    enrolled: int
    has_level_id: bool


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
        self.kind = file_kind(path)
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
                         + parsed_sql("SELECT rowid AS _rid, * FROM census_raw", present, with_rid=True))
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
            self.con.execute(f"CREATE TEMP TABLE census_raw AS {source_sql(self.con, self.path, self.kind)}")
        except duckdb.Error as exc:
            self._fail(self._ragged_problem() or
                       f"cannot be read as {self.kind.upper()}: {first_line(exc)} ("
                       + ("save it as UTF-8 comma-separated text with a header row" if self.kind == "csv"
                          else "export it again as Parquet") + ")")
        self.columns = [r[0] for r in self.con.execute("DESCRIBE census_raw").fetchall()]
        if len(self.columns) == 1 and (ragged := self._ragged_problem()):
            self._fail(ragged)

    def _ragged_problem(self) -> str | None:
        """Why the CSV reader could not split the file into columns, with line numbers, if we can tell."""
        if self.kind != "csv":
            return None
        width, ragged = ragged_lines(self.path)
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
                f"columns found: {', '.join(short_name(c) for c in self.columns) or '(none)'}"
                " (name the columns in the header exactly as in docs/census.md)")
        for column in self.columns:
            if column in KNOWN:
                continue
            match = difflib.get_close_matches(column.strip().lower(), KNOWN, n=1, cutoff=0.8)
            if match and match[0] not in self.columns:
                self.problems.append(f"column {short_name(column)}: unknown column that looks like a misspelling "
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
            self._line_map = csv_line_map(self.con, self.path)
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
        *_plan_checks(),
    ]


def _plan_checks() -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """The optional columns of the plan's money layer."""
    balance = "write the opening employer balance in dollars, e.g. 1250.00, or leave it empty for 0"
    return [
        ("employer_match_balance", "must be empty or a number >= 0",
         "s_mbal IS NOT NULL AND NOT coalesce(p_mbal >= 0 AND p_mbal < 1e15, false)", balance, ()),
        ("employer_core_balance", "must be empty or a number >= 0",
         "s_cbal IS NOT NULL AND NOT coalesce(p_cbal >= 0 AND p_cbal < 1e15, false)", balance, ()),
        ("auto_escalation_opt_out", "must be empty, true or false", "s_esc IS NOT NULL AND p_esc IS NULL",
         "write true or false (1/0, yes/no also work); empty means false", ()),
    ]


def _listing(numbers: list[int], noun: str, count: int | None = None) -> str:
    count = len(numbers) if count is None else count
    text = f"{noun}{'s' if count > 1 else ''} {', '.join(str(n) for n in numbers)}"
    return text + (f" and {count - len(numbers)} more" if count > len(numbers) else "")
