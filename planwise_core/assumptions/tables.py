"""Reading and validating parameter tables: a CSV file or rows written inline in YAML, all problems at once.

A cell is read as text and parsed by its column's kind (inline YAML numbers are turned into their text first),
so a table means the same whichever way it was written. A table's hash is the sha256 of its canonical form:
the columns in declared order, the rows in key order, numbers without trailing zeros. Reformatting a file
(column order, row order, ``0.0300`` for ``0.03``, line endings) keeps the hash; changing a value changes it.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from planwise_core.assumptions.rules import Row, RunNeeds
from planwise_core.assumptions.spec import DECIMAL, DOUBLE, INTEGER, Column, TableSpec

MAX_ROWS = 10_000  # far beyond any parameter table; keeps a wrong file (a census?) from being read whole
MAX_BYTES = 4 * 2**20  # a table file above this size is refused before it is read (10,000 rows of ~400 bytes)
QUOTE = 20  # characters of a header name quoted in a message: never more of a file's content than that
BUILT_IN = "built-in"


@attrs.frozen
class Table:
    spec: TableSpec
    rows: tuple[tuple, ...]   # parsed values in declared column order, sorted by key
    source: str               # built-in | the file's path | inline (<where>)
    sha256: str

    @property
    def name(self) -> str:
        return self.spec.name

    def db_rows(self) -> list[tuple]:
        """The rows as the database gets them: DOUBLE columns as floats."""
        doubles = [c.kind == DOUBLE for c in self.spec.columns]
        return [tuple(float(v) if d and v is not None else v for v, d in zip(row, doubles)) for row in self.rows]


def _quoted(text: str) -> str:
    """A user's text in a message, cut to QUOTE characters."""
    return repr(text[:QUOTE] + "...") if len(text) > QUOTE else repr(text)


def _parse_cell(col: Column, text: str):
    """(value, None) or (None, reason)."""
    text = text.strip()
    if text == "":
        return (None, None) if col.nullable else (None, "is empty (a value is required)")
    if col.kind == INTEGER:
        try:
            value = int(text)
        except ValueError:
            return None, f"must be an integer (got {text[:30]!r})"
    elif col.kind in (DECIMAL, DOUBLE):
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None, f"must be a number (got {text[:30]!r})"
        if not value.is_finite():
            return None, f"must be a finite number (got {text[:30]!r})"
    else:
        return text, None
    if col.low is not None and value < col.low or col.high is not None and value > col.high:
        high = "" if col.high is None else f", {col.high}"
        hint = ""
        if col.high == 1 and 1 < value <= 100:
            hint = f"; did you mean {(value / 100).normalize()}?"
        return None, f"must be in [{col.low}{high or ', ∞)'}{']' if high else ''} (got {text[:30]}{hint})"
    return value, None


def _canonical(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


def table_hash(spec: TableSpec, rows: tuple[tuple, ...]) -> str:
    digest = hashlib.sha256(("\t".join((spec.name,) + spec.column_names)).encode())
    for row in rows:
        digest.update(b"\n" + "\t".join(_canonical(v) for v in row).encode())
    return digest.hexdigest()


def parse_table(spec: TableSpec, header: list[str], records: list[tuple[str, list[str]]], source: str,
                run: RunNeeds) -> tuple[Table | None, list[str]]:
    """Validate ``records`` ((where, cells) in ``header`` order) as ``spec``; (table, []) or (None, problems)."""
    problems = []
    expected = spec.column_names
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    dup = sorted({c for c in header if header.count(c) > 1})
    if len(missing) == len(expected):
        return None, [f"its header names none of the table's columns ({', '.join(expected)}): is this the right "
                      "file?"]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)} (the table's columns: {', '.join(expected)})")
    for name in unknown:
        close = difflib.get_close_matches(name, expected, n=1)
        problems.append(f"unknown column {_quoted(name)}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    if dup:
        problems.append(f"column(s) {', '.join(dup)} given twice")
    if problems:
        return None, problems
    if not records:
        return None, ["has no rows"]
    if len(records) > MAX_ROWS:
        return None, [f"has {len(records)} rows (at most {MAX_ROWS}); is this the right file?"]
    position = {name: header.index(name) for name in expected}
    rows = []
    for where, cells in records:
        if len(cells) != len(header):
            problems.append(f"{where}: {len(cells)} cells for {len(header)} columns")
            continue
        values = {}
        for col in spec.columns:
            value, reason = _parse_cell(col, cells[position[col.name]])
            if reason:
                problems.append(f"{where}: {col.name} {reason}")
            values[col.name] = value
        rows.append(Row(where, values))
    if problems:
        return None, problems
    seen: dict[tuple, str] = {}
    for row in rows:
        key = tuple(row.values[k] for k in spec.key)
        if key in seen:
            problems.append(f"{row.where}: {', '.join(spec.key)} {', '.join(map(str, key))} repeats {seen[key]}")
        seen.setdefault(key, row.where)
    if problems:
        return None, problems
    for rule in spec.rules:
        problems += rule(rows, run)
    if problems:
        return None, problems
    ordered = tuple(tuple(r.values[c] for c in expected) for r in sorted(rows, key=lambda r: tuple(
        r.values[k] for k in spec.key)))
    return Table(spec, ordered, source, table_hash(spec, ordered)), []


def read_csv_table(spec: TableSpec, path: Path, run: RunNeeds, source: str | None = None
                   ) -> tuple[Table | None, list[str]]:
    """Read a table file line by line, in bounded memory: refused as soon as it passes MAX_ROWS, and before
    reading when it is not a regular file or is larger than MAX_BYTES."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None, ["is not a regular file (a table must be a CSV file)"]
        if info.st_size > MAX_BYTES:
            return None, [f"is {info.st_size:,} bytes (at most {MAX_BYTES:,}); is this the right file?"]
        with open(path, newline="", encoding="utf-8-sig") as handle:
            lines = []
            for cells in csv.reader(handle):
                lines.append(cells)
                if len(lines) > MAX_ROWS + 1:
                    return None, [f"has more than {MAX_ROWS} rows; is this the right file?"]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)[:120]
        return None, [f"cannot be read as a UTF-8 CSV file ({detail})"]
    if not lines:
        return None, ["is empty (a header row is expected)"]
    header = [h.strip() for h in lines[0]]
    records = [(f"line {n}", cells) for n, cells in enumerate(lines[1:], start=2) if any(c.strip() for c in cells)]
    return parse_table(spec, header, records, source or str(path), run)


def _inline_text(value) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        return None
    return repr(value) if isinstance(value, float) else str(value)


def inline_table(spec: TableSpec, items, source: str, run: RunNeeds) -> tuple[Table | None, list[str]]:
    """A table written in YAML: a list of mappings column -> value."""
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return None, [f"must be a list of rows, each a mapping of column to value (the columns: "
                      f"{', '.join(spec.column_names)})"]
    header = list(dict.fromkeys(str(k) for item in items for k in item))
    records, problems = [], []
    for n, item in enumerate(items, start=1):
        cells = []
        for name in header:
            text = _inline_text(item.get(name))
            if text is None:
                problems.append(f"row {n}: {name} must be a number or text (got {type(item.get(name)).__name__})")
                text = ""
            cells.append(text)
        records.append((f"row {n}", cells))
    if problems:
        return None, problems
    return parse_table(spec, header, records, source, run)
