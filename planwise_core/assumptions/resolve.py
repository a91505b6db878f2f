"""The assumption set of a run: every parameter table in force, built-in or replaced, validated and hashed.

``assumptions:`` in the configuration (``--assumptions DIR`` sets it) is a folder path, or a mapping of table
names to inline rows, optionally with ``folder:`` for the tables not written inline. Tables not given keep their
built-in CSV (package data). Every problem of every table is reported at once (AssumptionsError) before
anything is written; :func:`load_assumptions` then replaces the ``assumptions`` schema in one transaction.
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path

import attrs

from planwise_core.assumptions.rules import RunNeeds, same_hce_threshold
from planwise_core.assumptions.spec import REPLACEABLE, SCHEMA, TABLES, table_name
from planwise_core.assumptions.tables import BUILT_IN, Table, inline_table, read_csv_table
from planwise_core.database.sql import value
from planwise_core.errors import PlanwiseError
from planwise_core.problems import Problem

FOLDER_KEY = "folder"
SECTION = "assumptions"
# Where a table's problem lies, as the table reader writes it: "line 4: ...", "row 2 (label): ...", "line 3 and ...".
_WHERE = re.compile(r"^(line|row) (\d+)\b[^:]*: (\w+)?")


class AssumptionsError(PlanwiseError):
    """One or more parameter tables are refused; ``problems`` lists every problem found (text, as printed), and
    ``items`` the same as :class:`~planwise_core.problems.Problem` data: path ``("assumptions", table, row,
    column)`` with the row counted from 0 among the data rows, when the problem is about one row or column."""

    def __init__(self, problems: list[str], items: tuple[Problem, ...] = ()):
        self.problems = list(problems)
        self.items = tuple(items) or tuple(Problem((SECTION,), p) for p in self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid assumptions (parameter tables; nothing was written):\n{lines}\n"
                         "See docs/assumptions.md for each table's columns and rules.")


@attrs.frozen
class AssumptionSet:
    tables: dict[str, Table]

    def provenance(self) -> dict[str, dict]:
        """{table: {sha256, source, replaced}} for the run log."""
        defaults = builtin_hashes()
        return {name: {"sha256": t.sha256, "source": t.source, "replaced": t.sha256 != defaults[name]}
                for name, t in sorted(self.tables.items())}

    def replaced(self) -> list[str]:
        return [name for name, p in self.provenance().items() if p["replaced"]]

    def column_max(self, table: str, column: str):
        index = TABLES[table].column_names.index(column)
        return max((row[index] for row in self.tables[table].rows if row[index] is not None), default=0)


def run_needs(config) -> RunNeeds:
    sim = config.simulation
    return RunNeeds(sim.start_year, sim.end_year, config.compensation.cola_rate is None)


@functools.cache
def _builtin(name: str) -> Table:
    spec = TABLES[name]
    # The built-in tables are checked without a run's needs (the COLA table covers 2020-2060).
    table, problems = read_csv_table(spec, spec.default_file, RunNeeds(2025, 2025, False), source=BUILT_IN)
    if problems:  # a packaging defect, not a user mistake
        raise RuntimeError(f"built-in table {name} is invalid: {problems}")
    return table


def builtin_hashes() -> dict[str, str]:
    return {name: _builtin(name).sha256 for name in TABLES}


def _unknown(name: str, where: str) -> str:
    if name in TABLES:
        return (f"{where}: {name} is fixed structure and cannot be replaced (a custom vesting schedule is "
                "plan.<match|core>.vesting_custom)")
    close = difflib.get_close_matches(name, list(REPLACEABLE), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"the tables: {', '.join(REPLACEABLE)}"
    return f"{where}: no parameter table is called {name!r} ({hint})"


@attrs.define
class _Found:
    """Every problem found: the text lines (as printed) and the same as Problem data."""

    problems: list[str] = attrs.Factory(list)
    items: list[Problem] = attrs.Factory(list)

    def add(self, text: str, *path: str) -> None:
        self.problems.append(text)
        self.items.append(Problem((SECTION, *path), text))

    def table(self, name: str, prefix: str, errors: list[str]) -> None:
        for error in errors:
            self.problems.append(f"{prefix}: {error}")
            self.items.append(Problem(_located(name, error), error))


def _located(name: str, error: str) -> tuple:
    """("assumptions", table[, row][, column]) of a table reader's message; rows count from 0 (CSV line 2 is 0)."""
    columns, where = TABLES[name].column_names, _WHERE.match(error)
    if where:
        row = int(where[2]) - (2 if where[1] == "line" else 1)
        return (SECTION, name, row) + ((where[3],) if where[3] in columns else ())
    first = error.split(" ", 1)[0]
    return (SECTION, name) + ((first,) if first in columns else ())


def _folder_tables(folder: Path, run: RunNeeds, problems: _Found) -> dict[str, Table]:
    """The tables a folder replaces: every ``<table>.csv`` (any case of the suffix); a file named after a table
    in another format is refused, and so is a folder that replaces no table (docs/assumptions.md)."""
    if not folder.is_dir():
        problems.add(f"{folder}: the assumptions folder does not exist (or is not a folder)")
        return {}
    found: dict[str, Table] = {}
    files: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        name = table_name(path.stem)
        if path.suffix.lower() != ".csv":
            if name in TABLES:
                problems.add(f"{path}: a parameter table must be a CSV file: save it as CSV ({name}.csv)", name)
            continue
        if name not in REPLACEABLE:
            problems.add(_unknown(name, str(path)), path.stem)
        elif name in files:
            problems.add(f"{path}: {name} is also given by {files[name].name}; keep one", name)
        else:
            files[name] = path
    if not files and not problems.problems:
        problems.add(f"{folder}: the assumptions folder holds no parameter table, so it would replace nothing "
                     f"(expected files such as job_levels.csv; the tables: {', '.join(REPLACEABLE)})")
    for name, path in files.items():
        table, errors = read_csv_table(TABLES[name], path, run)
        problems.table(name, str(path), errors)
        if table:
            found[name] = table
    return found


def resolve_assumptions(config, spec=None, where: str = "assumptions") -> AssumptionSet:
    """The tables in force for ``config`` (or for ``spec``, an ``assumptions:`` value); AssumptionsError."""
    spec = config.assumptions if spec is None else spec
    run = run_needs(config)
    problems = _Found()
    given: dict[str, Table] = {}
    if isinstance(spec, str):
        given = _folder_tables(Path(spec), run, problems)
    elif isinstance(spec, dict):
        if spec.get(FOLDER_KEY) is not None:
            given = _folder_tables(Path(spec[FOLDER_KEY]), run, problems)
        for key, rows in spec.items():
            if key == FOLDER_KEY:
                continue
            name = table_name(str(key))
            if name not in REPLACEABLE:
                problems.add(_unknown(name, f"{where}.{key}"), str(key))
                continue
            table, errors = inline_table(TABLES[name], rows, f"inline ({where}.{key})", run)
            problems.table(name, f"{where}.{key}", errors)
            if table:
                given[name] = table
    for name in TABLES:
        given.setdefault(name, _builtin(name))
    for need in _builtin_needs(given, run):
        problems.add(need, "cola_by_year")
    for problem in same_hce_threshold(given["irs_limits"].rows, given["ndt_thresholds"].rows):
        problems.add(problem, "ndt_thresholds")
    if problems.problems:
        raise AssumptionsError(problems.problems, tuple(problems.items))
    return AssumptionSet(dict(sorted(given.items())))


def _builtin_needs(tables: dict[str, Table], run: RunNeeds) -> list[str]:
    """The built-in COLA table must cover the simulated years when it is read."""
    cola = tables["cola_by_year"]
    if cola.source != BUILT_IN or not run.cola_table:
        return []
    years = {row[0] for row in cola.rows}
    missing = [y for y in range(run.start_year, run.end_year + 1) if y not in years]
    return [f"the built-in cola_by_year covers {min(years)}-{max(years)}: {', '.join(map(str, missing))} "
            "missing; give compensation.cola_rate or a cola_by_year table"] if missing else []


def load_assumptions(con, assumptions: AssumptionSet) -> None:
    """Replace the ``assumptions`` schema with the set's tables, typed as declared, in one transaction."""
    con.begin()
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        for name, table in assumptions.tables.items():
            cols = ", ".join(f'"{c.name}" {c.sql}' for c in table.spec.columns)
            con.execute(f"create or replace table {SCHEMA}.{name} ({cols})")
            rows = table.db_rows()
            if rows:  # one statement of literals (database/sql.py: bound parameters would import pandas)
                con.execute(f"insert into {SCHEMA}.{name} values " +
                            ", ".join("(" + ", ".join(value(v) for v in row) + ")" for row in rows))
        con.commit()
    except BaseException:
        con.rollback()
        raise
