"""``planwise export --format xlsx``: one Excel workbook of a run's results.

Written with XlsxWriter in ``constant_memory`` mode: each row goes to disk as soon as it is written, so a
snapshot of hundreds of thousands of rows needs no more memory than a few thousand (openpyxl keeps every
cell of a sheet in memory to write it; pandas would add a dependency and a copy). Every value is written
with its type's own method, never guessed from text: a string starting with ``=``, ``+``, ``-`` or ``@``
stays a string (``write_string``, and ``strings_to_formulas`` off), so a census value can never become a
formula (CSV/formula injection). Money is a number with a 2-decimal format, dates are dates.

Excel holds at most 1,048,576 rows per sheet (one is the header): a longer table is split into numbered
sheets (``events``, ``events_2``, ...), each with the header, and the metadata sheet says which rows each
holds. The workbook is written beside its final name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import xlsxwriter

EXCEL_MAX_ROWS = 1_048_576
FETCH_ROWS = 10_000


class _Formats:
    def __init__(self, workbook):
        self.header = workbook.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.timestamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self._decimals: dict[int, object] = {}
        self._workbook = workbook

    def decimal(self, scale: int):
        if scale not in self._decimals:
            pattern = "#,##0" + ("." + "0" * scale if scale else "")
            self._decimals[scale] = self._workbook.add_format({"num_format": pattern})
        return self._decimals[scale]


def _writer(type_name: str, formats: _Formats):
    """The function that writes one cell of a DuckDB column type: (sheet, row, col, value) -> None."""
    kind = type_name.upper()
    if kind.startswith("DECIMAL"):
        scale = int(kind.rstrip(")").split(",")[1]) if "," in kind else 0
        fmt = formats.decimal(scale)
        return lambda ws, r, c, v: ws.write_number(r, c, float(v), fmt)
    if kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                "UBIGINT"):
        return lambda ws, r, c, v: ws.write_number(r, c, v)
    if kind in ("FLOAT", "DOUBLE", "REAL"):  # Excel has no NaN or infinity: those stay visible as text
        return lambda ws, r, c, v: ws.write_number(r, c, v) if math.isfinite(v) else ws.write_string(r, c, str(v))
    if kind == "BOOLEAN":
        return lambda ws, r, c, v: ws.write_boolean(r, c, v)
    if kind == "DATE":
        return lambda ws, r, c, v: ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), formats.date)
    if kind.startswith("TIMESTAMP"):
        return lambda ws, r, c, v: ws.write_datetime(r, c, v.replace(tzinfo=None), formats.timestamp)
    return lambda ws, r, c, v: ws.write_string(r, c, v if isinstance(v, str) else str(v))


def _sheet_names(name: str, rows: int, per_sheet: int) -> list[str]:
    count = max(1, -(-rows // per_sheet))
    return [name if i == 0 else f"{name}_{i + 1}" for i in range(count)]


def write_table(workbook, formats: _Formats, con, name: str, query: str, per_sheet: int) -> list[tuple[str, int, int]]:
    """Write the rows of ``query`` to sheet ``name`` (and numbered ones after it); returns
    (sheet, first row number, last row number) of the table's rows each sheet holds (1-based, 0 rows: 1, 0)."""
    total = con.execute(f"select count(*) from ({query})").fetchone()[0]
    cur = con.execute(query)
    columns = [d[0] for d in cur.description]
    writers = [_writer(str(d[1]), formats) for d in cur.description]
    sheets, held = _sheet_names(name, total, per_sheet), []
    done = 0
    batch: list = []
    for sheet_name in sheets:
        ws = workbook.add_worksheet(sheet_name)
        ws.freeze_panes(1, 0)
        for c, column in enumerate(columns):
            ws.write_string(0, c, column, formats.header)
            ws.set_column(c, c, max(10, min(40, len(column) + 2)))
        first, row = done + 1, 1
        while row <= per_sheet:
            if not batch:
                batch = cur.fetchmany(FETCH_ROWS)
                if not batch:
                    break
            take, batch = batch[:per_sheet - row + 1], batch[per_sheet - row + 1:]
            for values in take:
                for c, (write, value) in enumerate(zip(writers, values)):
                    if value is not None:
                        write(ws, row, c, value)
                row += 1
            done += len(take)
        held.append((sheet_name, first, done))
    return held


def package_version() -> str:
    try:
        return version("planwise")
    except PackageNotFoundError:
        return "unknown"


def write_metadata(workbook, formats: _Formats, items: list[tuple[str, object]]) -> None:
    ws = workbook.add_worksheet("metadata")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, "key", formats.header)
    ws.write_string(0, 1, "value", formats.header)
    for r, (key, value) in enumerate(items, start=1):
        ws.write_string(r, 0, key)
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value)
        elif isinstance(value, (int, float, Decimal)):
            ws.write_number(r, 1, float(value))
        elif value is not None:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            ws.write_string(r, 1, text[:32_767], formats.wrap)  # Excel's limit per cell


def write_workbook(con, path: Path, tables: list[tuple[str, str]], metadata: list[tuple[str, object]],
                   per_sheet: int = EXCEL_MAX_ROWS - 1) -> Path:
    """Write ``tables`` ((sheet name, query) in order) and a metadata sheet to ``path`` atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        workbook = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False,
                                                  "strings_to_urls": False, "strings_to_numbers": False})
        formats = _Formats(workbook)
        layout = []
        for name, query in tables:
            layout += write_table(workbook, formats, con, name, query, per_sheet)
        sheets = [(f"sheet {sheet}", f"rows {first}-{last}" if last >= first else "no rows")
                  for sheet, first, last in layout]
        write_metadata(workbook, formats, [*metadata, *sheets])
        workbook.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
