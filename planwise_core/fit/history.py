"""The history: which census files, their as-of dates, and every snapshot loaded into one DuckDB table.

Rules (docs/fit.md, "The history"): 2 to 5 snapshots one calendar year apart on the same month and day; each
file is validated by the census validator with its own as-of date; every problem of every file is collected
and raised at once (FitError), before anything is written.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import attrs
import duckdb

from planwise_core.census.load import load_census
from planwise_core.errors import PlanwiseError
from planwise_core.fileio import file_sha256
from planwise_core.fit.options import FitError

MANIFEST = "snapshots.csv"
ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
SUFFIXES = (".csv", ".parquet")
MIN_SNAPSHOTS, MAX_SNAPSHOTS = 2, 5
SNAP_DDL = """CREATE OR REPLACE TABLE snap (k INTEGER, as_of DATE, employee_id VARCHAR, birth DATE, hire DATE,
    term DATE, salary DECIMAL(18, 2), deferral DECIMAL(9, 6), level_id INTEGER)"""


@attrs.frozen
class Snapshot:
    as_of: date
    path: Path
    info: dict = attrs.field(factory=dict, eq=False)


@attrs.frozen
class History:
    con: duckdb.DuckDBPyConnection
    snapshots: tuple[Snapshot, ...]

    @property
    def dates(self) -> list[date]:
        return [s.as_of for s in self.snapshots]

    def has(self, column: str, k: int) -> bool:
        """Whether snapshot k holds ``column`` (a column present in some snapshots only counts per snapshot)."""
        return column in self.snapshots[k].info["columns"]

    def has_all(self, column: str) -> bool:
        return all(self.has(column, k) for k in range(len(self.snapshots)))


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def from_manifest(folder: Path, problems: list[str]) -> list[tuple[date, Path]]:
    manifest = folder / MANIFEST
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0]][:2] != ["as_of_date", "file"]:
        problems.append(f"{manifest}: the header must be as_of_date,file")
        return []
    found = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        when = _parse_date(row[0]) if row else None
        if when is None or len(row) < 2 or not row[1].strip():
            problems.append(f"{manifest} line {n}: need an ISO date (YYYY-MM-DD) and a file name")
            continue
        found.append((when, folder / row[1].strip()))
    return found


def from_names(folder: Path, problems: list[str]) -> list[tuple[date, Path]]:
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        dates = ISO_DATE.findall(path.name)
        when = _parse_date(dates[0]) if len(dates) == 1 else None
        if when is None:
            problems.append(f"{path.name}: the file name must hold exactly one date YYYY-MM-DD (its as-of date), "
                            f"or list the files in {MANIFEST}")
            continue
        found.append((when, path))
    return found


def resolve_snapshots(history: str | Path | None, snapshots=()) -> list[tuple[date, Path]]:
    """(as-of date, file) pairs from --snapshot DATE=FILE, else the folder's manifest, else its dated names."""
    problems: list[str] = []
    if snapshots:
        found = []
        for item in snapshots:
            when, path = (item.split("=", 1) + [""])[:2] if isinstance(item, str) else item
            when = when if isinstance(when, date) else _parse_date(str(when))
            if when is None or not str(path):
                problems.append(f"snapshot {item!r}: write DATE=FILE with an ISO date")
            else:
                found.append((when, Path(path)))
    elif history is None:
        raise FitError(["give a HISTORY folder or --snapshot DATE=FILE (at least twice)"])
    else:
        folder = Path(history)
        if not folder.is_dir():
            raise FitError([f"{folder}: the history folder does not exist (or is not a folder)"])
        found = from_manifest(folder, problems) if (folder / MANIFEST).is_file() else from_names(folder, problems)
    check_dates([d for d, _ in found], problems)
    if problems:
        raise FitError(problems)
    return sorted(found)


def check_dates(dates: list[date], problems: list[str], dec31: bool = False, at_least: int = MIN_SNAPSHOTS) -> None:
    if not MIN_SNAPSHOTS <= len(dates) <= MAX_SNAPSHOTS or len(dates) < at_least:
        problems.append(f"{len(dates)} snapshot(s): need {max(at_least, MIN_SNAPSHOTS)} to {MAX_SNAPSHOTS}")
    repeated = sorted({d for d in dates if dates.count(d) > 1})
    problems += [f"{d}: two files for one as-of date" for d in repeated]
    ordered = sorted(set(dates))
    if any((d.month, d.day) == (2, 29) for d in ordered):
        problems.append("an as-of date on Feb 29 cannot repeat every year; use Feb 28 or Mar 1")
    if len({(d.month, d.day) for d in ordered}) > 1:
        problems.append("the as-of dates must all fall on the same month and day: "
                        + ", ".join(map(str, ordered)))
    for a, b in zip(ordered, ordered[1:]):
        if b.year != a.year + 1:
            problems.append(f"{a} and {b} are not one calendar year apart (consecutive years are needed)")
    if dec31 and any((d.month, d.day) != (12, 31) for d in ordered):
        problems.append("a backtest needs Dec 31 as-of dates (simulated years are calendar years)")


def load_history(pairs: list[tuple[date, Path]], on_invalid_rows: str, capacity) -> History:
    """Validate and load every snapshot into the table ``snap`` of a new in-memory DuckDB; FitError lists all."""
    con = duckdb.connect()
    con.execute(SNAP_DDL)
    problems, snapshots = [], []
    for k, (when, path) in enumerate(pairs):
        try:
            summary = load_census(con, path, when, on_invalid_rows=on_invalid_rows, capacity=capacity)
        except PlanwiseError as exc:
            problems.append(f"{path.name} (as of {when}): {exc}")
            continue
        columns = [d[0] for d in con.execute("SELECT * FROM census_raw LIMIT 0").description]
        con.execute(f"""INSERT INTO snap SELECT {k}, DATE '{when}', employee_id, employee_birth_date,
            employee_hire_date, employee_termination_date, employee_gross_compensation, employee_deferral_rate,
            level_id FROM raw.census""")
        info = dict(summary.to_dict(), file=str(path), as_of_date=str(when), sha256=file_sha256(path),
                    columns=sorted(columns))
        info.pop("path")
        snapshots.append(Snapshot(when, path, info))
    if problems:
        con.close()
        raise FitError(problems)
    return History(con, tuple(snapshots))
