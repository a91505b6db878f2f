"""Export a simulation's results (per-year summary, plan cost, events, snapshot, contributions) as Parquet or
CSV files, or as one Excel workbook (outputs.xlsx); optionally only some years."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import NamedTuple

import duckdb

from planwise_core.database import table_exists
from planwise_core.database.sql import ident, literal
from planwise_core.errors import PlanwiseError, option
from planwise_core.outputs.provenance import census_identity, flatten, results_run
from planwise_core.fileio import reserved_temp
from planwise_core.outputs.results import open_results
from planwise_core.spreadsheet import formula_safe_sql

FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)", "xlsx": None}
WORKBOOK = "results.xlsx"


class Export(NamedTuple):
    name: str  # file name stem, and the workbook's sheet name
    table: str
    order: str  # a deterministic row order
    required: bool = True
    nonempty: bool = False  # only when the table holds rows (the NDT tables exist, empty, while NDT is off)


# Files are written in this order. The plan tables exist when the plan's money layer ran (docs/plan_rules.md 2.5).
EXPORTS = (
    Export("events", "fct_yearly_events", "simulation_year, employee_id, event_sequence, event_id"),
    Export("snapshot", "fct_workforce_snapshot", "simulation_year, employee_id"),
    Export("summary", "fct_year_summary", "simulation_year"),
    Export("plan_summary", "fct_dc_plan_summary", "simulation_year", required=False),
    Export("contributions", "fct_dc_contributions", "simulation_year, employee_id", required=False),
    # Nondiscrimination testing (docs/ndt.md), when the run tested.
    Export("ndt_summary", "fct_ndt_summary", "simulation_year, test, test_group", required=False, nonempty=True),
    Export("ndt_employee", "fct_ndt_employee", "simulation_year, employee_id", required=False, nonempty=True),
)
# The workbook opens on the per-year numbers; the long tables come after.
SHEET_ORDER = ("summary", "plan_summary", "ndt_summary", "events", "snapshot", "contributions", "ndt_employee")
# What a workbook holds unless the detail is asked for: the per-year tables a finance team reads.
PER_YEAR = ("summary", "plan_summary", "ndt_summary")
BAND_KEYS = (("age_band", "stg_age_bands", "age_band_id"), ("tenure_band", "stg_tenure_bands", "tenure_band_id"))
YEARS = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?$")


def parse_years(text: str) -> tuple[int, int]:
    """``2027`` or ``2027-2029`` -> (first, last); a PlanwiseError otherwise."""
    match = YEARS.match(text or "")
    if not match:
        raise PlanwiseError(f"{option('years')} {text!r}: give one year (2027) or a range (2027-2029).")
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if last < first:
        raise PlanwiseError(f"{option('years')} {text}: the range runs backwards; write {last}-{first}.")
    return first, last


def _check_years(con, database: Path, years: tuple[int, int] | None) -> tuple[int, int] | None:
    held = [r[0] for r in con.execute("select distinct simulation_year from fct_workforce_snapshot order by 1")
            .fetchall()]
    if years is None:
        return None
    missing = [y for y in range(years[0], years[1] + 1) if y not in held]
    if missing:
        wanted = f"{years[0]}-{years[1]}" if years[1] > years[0] else str(years[0])
        raise PlanwiseError(f"{option('years')} {wanted}: {database} holds {held[0]}-{held[-1]}, not "
                            f"{', '.join(map(str, missing))}. Choose years it holds.")
    return years


def parse_tables(text: str | None) -> tuple[str, ...] | None:
    """``summary,plan_summary`` -> the export names, checked; None (or empty) for the default."""
    if text is None or not text.strip():
        return None
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [n for n in names if n not in SHEET_ORDER]
    if unknown:
        raise PlanwiseError(f"{option('tables')} {text!r}: unknown table{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(map(repr, unknown))}; choose among {', '.join(SHEET_ORDER)} "
                            "(comma-separated).")
    return names


def chosen(fmt: str, tables: tuple[str, ...] | None, detail: bool) -> tuple[str, ...]:
    """The exports asked for: ``tables``, else every table (``detail``, or Parquet and CSV), else the workbook's
    per-year tables."""
    if tables and detail:
        raise PlanwiseError(f"{option('tables')} and {option('detail')} both choose the tables; give one.")
    if tables:
        return tables
    return SHEET_ORDER if detail or fmt != "xlsx" else PER_YEAR


def queries(con, years: tuple[int, int] | None, fmt: str = "parquet",
            tables: tuple[str, ...] = SHEET_ORDER, strict: bool = False) -> list[tuple[str, str]]:
    """(name, query) of every export in ``tables`` this database has, cut to ``years``; a table asked for by
    name (``strict``) that the database lacks (the plan tables without the money layer) is an error.

    For CSV, text that a spreadsheet would run as a formula (an id such as =HYPERLINK(...)) gets a leading
    apostrophe; Parquet keeps the values exactly, and the workbook writes every text cell as a string.
    """
    where = f" where simulation_year between {years[0]} and {years[1]}" if years else ""
    out = []
    for e in EXPORTS:
        if e.name not in tables:
            continue
        if e.nonempty and not (table_exists(con, e.table) and con.execute(f"select count(*) from {e.table}{where}")
                               .fetchone()[0]):
            continue
        if e.required or table_exists(con, e.table):
            keys, joins = _band_keys(con, e.table)
            out.append((e.name, f"select {_columns(con, e.table, fmt)}{keys} from {e.table} t{joins}{where} "
                                f"order by {e.order}"))
        elif strict:
            raise PlanwiseError(f"{option('tables')}: this database has no {e.table} (the plan's money layer did "
                                f"not run), so it cannot export {e.name}.")
    return out


def _columns(con, table: str, fmt: str) -> str:
    if fmt != "csv":
        return "t.*"
    columns = []
    for name, type_, *_ in con.execute(f"describe {table}").fetchall():
        column = ident(name)
        columns.append(f"{formula_safe_sql('t.' + column)} as {column}" if type_ == "VARCHAR" else f"t.{column}")
    return ", ".join(columns)


def _band_keys(con, table: str) -> tuple[str, str]:
    """A band label sorts as text in a spreadsheet ("10-19" before "2-4"): a table with band labels is exported
    with each band's id as its last columns, which sorts in band order."""
    columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    keys, joins = "", ""
    for i, (label, bands, key) in enumerate(BAND_KEYS):
        if label in columns and table_exists(con, bands):
            keys += f", b{i}.{key}"
            joins += f" left join {bands} b{i} on b{i}.{label} = t.{label}"
    return keys, joins


def metadata(con, database: Path, years: tuple[int, int] | None) -> list[tuple[str, object]]:
    """The workbook's metadata sheet: what produced these numbers."""
    from planwise_core.outputs.xlsx import package_version

    run = results_run(con) or {}
    census = census_identity(con)
    config = run.get("config")
    return [("planwise version", package_version()), ("run id", run.get("run_id")),
            ("seed", (config or {}).get("random_seed")), ("census file", run.get("census_path")),
            ("census file sha256", run.get("census_sha256")), ("census content sha256", census["content_sha256"]),
            ("engine", run.get("plugin")), ("run started at", str(run.get("started_at") or "")),
            ("database", str(database)),
            ("years exported", f"{years[0]}-{years[1]}" if years else "all"),
            ("created at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
            ("run's planwise version", run.get("planwise_version")),
            ("configuration", run.get("config_json")), *_config_rows(config), *_table_rows(run)]


def _table_rows(run: dict) -> list[tuple[str, object]]:
    """One row per parameter table in force: its sha256 and where it came from (the run log's record)."""
    try:
        tables = json.loads(run.get("assumptions_json") or "null") or {}
    except ValueError:
        tables = {}
    return [(f"table {name}", f"{t.get('sha256')} ({t.get('source')})") for name, t in tables.items()]


def _config_rows(config) -> list[tuple[str, object]]:
    return [(f"config {key}", value) for key, value in flatten(config or {}).items()]


def export_results(database: Path | str, fmt: str, out_dir: Path | str, years: tuple[int, int] | None = None,
                   tables: tuple[str, ...] | str | None = None, detail: bool = False, progress=None) -> list[Path]:
    """Write the exports of ``fmt`` to ``out_dir`` (one file per table, or one workbook for xlsx); returns the paths.

    ``tables``: the exports to write (names of SHEET_ORDER, or ``"summary,plan_summary"``); default every table,
    except for xlsx: the per-year tables (summary, plan_summary) unless ``detail``. ``progress(table, rows
    written, rows)`` follows each table (each batch of rows for xlsx).
    ``years``: (first, last) to export only those years (each must be in the database). The database is
    opened read-only. Existing files of the same names are replaced (each file is written beside its final
    name first, then renamed, so a failed export leaves the old file). CSV text cells that a spreadsheet
    would read as a formula start with an apostrophe (docs/outputs.md).
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise PlanwiseError(f"Unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    named = parse_tables(tables) if isinstance(tables, str) else parse_tables(",".join(tables or ()))
    wanted = chosen(fmt, named, detail)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PlanwiseError(f"{out_dir} is a file: pass {option('out_dir')} a folder.")
    database = Path(database)
    with open_results(database) as con:
        con.execute("set enable_progress_bar = false")  # DuckDB's bar would land in the command's output
        years = _check_years(con, database, years)
        exports = queries(con, years, fmt, wanted, bool(named))  # before anything is written: it may refuse
        with _write_errors(out_dir) as where:
            out_dir.mkdir(parents=True, exist_ok=True)
            if fmt == "xlsx":
                from planwise_core.outputs.xlsx import write_workbook

                where[0] = out_dir / WORKBOOK
                sheets = sorted(exports, key=lambda q: SHEET_ORDER.index(q[0]))
                info = [*metadata(con, database, years), ("tables exported", ", ".join(name for name, _ in sheets))]
                return [write_workbook(con, out_dir / WORKBOOK, sheets, info, progress=progress)]
            written = []
            for name, query in exports:
                path = where[0] = out_dir / f"{name}.{fmt}"
                with reserved_temp(path, suffix=f".{fmt}") as tmp:  # a fresh file of ours, never a planted link
                    try:
                        rows = con.execute(f"copy ({query}) to {literal(tmp)} {FORMATS[fmt]}").fetchone()[0]
                    finally:  # DuckDB writes through its own tmp_<name> file when the target exists
                        (tmp.parent / f"tmp_{tmp.name}").unlink(missing_ok=True)
                    os.replace(tmp, path)
                if progress:
                    progress(name, rows, rows)
                written.append(path)
    return written


@contextlib.contextmanager
def _write_errors(out_dir: Path):
    """A failed write (full disk, quota, permissions) is one PlanwiseError naming the file and the cause; the
    files already in place are kept and no temporary file is left (docs/outputs.md)."""
    where = [out_dir]
    try:
        yield where
    except (OSError, duckdb.IOException) as exc:
        cause = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise PlanwiseError(f"Cannot write {where[0]}: {cause}. The files already in {out_dir} were kept; free "
                            "some space (or fix the folder) and export again.") from None
