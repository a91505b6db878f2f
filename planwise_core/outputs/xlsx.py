"""``planwise export --format xlsx``: one Excel workbook of a run's results.

XlsxWriter writes the workbook: its parts, styles, each sheet's header row (frozen), column widths and
formats, and the metadata sheet. The table rows, millions of cells, are rendered by DuckDB as the same
SpreadsheetML XlsxWriter writes (``xlsx_rows``: one vectorized expression per column, no Python per cell) and
streamed into each sheet's ``<sheetData>`` when the zip is written again: 3-4 times less CPU than writing
each cell through XlsxWriter (docs/performance.md); rows are fetched in batches and compressed as they
come (the memory peak is the sort of the widest table and DuckDB's buffers). Every value keeps its type: text is always an inline string, never a formula (CSV/
formula injection), money a number with a 2-decimal format, dates Excel dates.

Excel holds at most 1,048,576 rows per sheet (one is the header): a longer table is split into numbered
sheets (``events``, ``events_2``, ...), each with the header, and the metadata sheet says which rows each
holds. The workbook is written beside its final name and renamed into place.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, NamedTuple

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from planwise_core.outputs.xlsx_rows import cell_kind, numbered, rows_sql

EXCEL_MAX_ROWS = 1_048_576
FETCH_ROWS = 5_000
ZIP64_FROM = 1 << 31  # bytes of one sheet's XML (estimated) above which its zip entry needs ZIP64
Progress = Callable[[str, int, int], None]  # (sheet, rows written, rows of the sheet)


class Sheet(NamedTuple):
    """One data sheet: its rows are rows offset+1 .. offset+count of ``query``."""

    name: str
    index: int  # position in the workbook (XlsxWriter's xl/worksheets/sheet<index + 1>.xml)
    query: str
    columns: list  # (name, kind, format or None)
    offset: int
    count: int
    split: bool


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


def _sheet_names(name: str, rows: int, per_sheet: int) -> list[str]:
    count = max(1, -(-rows // per_sheet))
    return [name if i == 0 else f"{name}_{i + 1}" for i in range(count)]


def _column_format(kind: str, type_name: str, formats: _Formats):
    if kind == "decimal":
        return formats.decimal(int(type_name.rstrip(")").split(",")[1]) if "," in type_name else 0)
    return {"date": formats.date, "timestamp": formats.timestamp}.get(kind)


def add_table(workbook, formats: _Formats, con, name: str, query: str, per_sheet: int) -> list[Sheet]:
    """The sheets of ``query`` (``name``, then numbered ones), each with its header row and column formats; the
    rows are written when the workbook is filled (``fill``)."""
    total = con.execute(f"select count(*) from ({query})").fetchone()[0]
    description = con.execute(f"select * from ({query}) limit 0").description
    columns = [(d[0], cell_kind(str(d[1])), _column_format(cell_kind(str(d[1])), str(d[1]).upper(), formats))
               for d in description]
    names = _sheet_names(name, total, per_sheet)
    sheets = []
    for i, sheet_name in enumerate(names):
        ws = workbook.add_worksheet(sheet_name)
        ws.freeze_panes(1, 0)
        for c, (column, _, fmt) in enumerate(columns):
            ws.write_string(0, c, column, formats.header)
            ws.set_column(c, c, max(10, min(40, len(column) + 2)), fmt)
        sheets.append(Sheet(sheet_name, len(workbook.worksheets()) - 1, query, columns, i * per_sheet,
                            min(per_sheet, total - i * per_sheet), len(names) > 1))
    return sheets


def fill(con, built: Path, target: Path, sheets: list[Sheet], progress: Progress | None = None) -> None:
    """Copy the workbook XlsxWriter ``built`` to ``target``, streaming each data sheet's rows into it."""
    by_entry = {f"xl/worksheets/sheet{s.index + 1}.xml": s for s in sheets}
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    # One thread renders the rows as fast as the zip stream takes them; more run ahead of it and hold row
    # text (100K x 5 contributions sheet: 779 MB peak and 10.4 s CPU with two threads, 532 MB and 7.9 s with one).
    con.execute("SET threads = 1")
    try:
        with zipfile.ZipFile(built) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                sheet = by_entry.get(info.filename)
                if sheet is None:
                    out.writestr(info, source.read(info))
                else:
                    _write_sheet(con, out, info, source.read(info).decode("utf-8"), sheet, progress)
    finally:
        con.execute(f"SET threads = {int(threads)}")


def _write_sheet(con, out: zipfile.ZipFile, info: zipfile.ZipInfo, xml: str, sheet: Sheet,
                 progress: Progress | None) -> None:
    cut = xml.index("</sheetData>")
    head, tail = xml[:cut], xml[cut:]
    if sheet.count:
        last = f"{xl_col_to_name(max(len(sheet.columns) - 1, 0))}{sheet.count + 1}"
        head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1)
    sql = rows_sql(sheet.query, [(n, kind, fmt.xf_index if fmt else None) for n, kind, fmt in sheet.columns])
    if sheet.split:
        sql += f" LIMIT {sheet.count} OFFSET {sheet.offset}"
    entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    entry.compress_type = zipfile.ZIP_DEFLATED
    large = sheet.count * (len(sheet.columns) + 1) * 48 > ZIP64_FROM
    with out.open(entry, "w", force_zip64=large) as stream:
        stream.write(head.encode("utf-8"))
        cursor, done = con.execute(sql), 0
        while rows := cursor.fetchmany(FETCH_ROWS):
            stream.write(numbered(rows, done + 2).encode("utf-8"))
            done += len(rows)
            if progress:
                progress(sheet.name, done, sheet.count)
        stream.write(tail.encode("utf-8"))


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
                   per_sheet: int = EXCEL_MAX_ROWS - 1, progress: Progress | None = None) -> Path:
    """Write ``tables`` ((sheet name, query) in order) and a metadata sheet to ``path`` atomically.

    ``progress(sheet, rows written, rows of the sheet)`` is called after each batch of rows."""
    tmp, built = path.with_name(f".{path.name}.tmp"), path.with_name(f".{path.name}.parts.tmp")
    try:
        workbook = xlsxwriter.Workbook(str(built), {"constant_memory": True, "strings_to_formulas": False,
                                                    "strings_to_urls": False, "strings_to_numbers": False})
        formats = _Formats(workbook)
        sheets = []
        for name, query in tables:
            sheets += add_table(workbook, formats, con, name, query, per_sheet)
        layout = [(f"sheet {s.name}", f"rows {s.offset + 1}-{s.offset + s.count}" if s.count else "no rows")
                  for s in sheets]
        write_metadata(workbook, formats, [*metadata, *layout])
        try:
            workbook.close()
        except xlsxwriter.exceptions.FileCreateError as exc:  # XlsxWriter wraps the OSError (a full disk...)
            cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
            raise (cause or OSError(str(exc))) from None
        fill(con, built, tmp, sheets, progress)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        built.unlink(missing_ok=True)
    return path
