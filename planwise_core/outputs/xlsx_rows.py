"""The cells of a worksheet as SpreadsheetML, computed by DuckDB: one XML string per table row.

XlsxWriter spends about 6 µs of Python per cell (its cell wrapper, dimension checks, the row's XML); a 100K x 5
workbook holds some 50 million cells. Here DuckDB renders every cell of a row in one vectorized expression (its
type decided once per column, not per cell), Python only numbers the rows and hands the text to the zip stream.
The XML is the one XlsxWriter writes for the same values in constant_memory mode: numbers as ``<v>``, dates
as Excel serial numbers with a date style, booleans ``t="b"``, text always an inline string (never a
formula), control characters as ``_xHHHH_`` (docs/outputs.md, the workbook).
"""

from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name

ROW = "\x02"  # stands for the row number in a rendered row; never left in text (escaped as _x0002_)
INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
# Excel's day 1 is 1900-01-01 and it counts a 29 February 1900 that never was: from March 1900 on, a date's
# serial is its distance from 1899-12-30 (as XlsxWriter computes it).
SERIAL = ("CASE WHEN {v} >= DATE '1900-03-01' THEN date_diff('day', DATE '1899-12-30', {v}) "
          "ELSE date_diff('day', DATE '1899-12-31', {v}) END")
CONTROL = [c for c in range(1, 32) if c not in (9, 10, 13)]
MAX_TEXT = 32_767  # Excel's limit per cell


def cell_kind(type_name: str) -> str:
    """How a DuckDB column type is written: number, decimal, integer, double, boolean, date, timestamp or text."""
    kind = type_name.upper()
    if kind.startswith("DECIMAL"):
        return "decimal"
    if kind in INTEGERS:
        return "integer"
    if kind in ("FLOAT", "DOUBLE", "REAL"):
        return "double"
    if kind == "BOOLEAN":
        return "boolean"
    if kind == "DATE":
        return "date"
    if kind.startswith("TIMESTAMP"):
        return "timestamp"
    return "text"


def _text_xml(value: str) -> str:
    """An inline string cell's content: & < > escaped; in the rare text with control characters (or text that
    reads like such an escape), those as _xHHHH_, as Excel writes them."""
    text = f"left(CAST({value} AS VARCHAR), {MAX_TEXT})"
    escaped = f"replace(replace(replace({text}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    guarded = f"regexp_replace({escaped}, '_(x[0-9A-Fa-f]{{4}}_)', '_x005F_\\1', 'g')"
    for code in CONTROL:
        guarded = f"replace({guarded}, chr({code}), '_x{code:04X}_')"
    pattern = "[" + "".join(f"\\x{c:02X}" for c in CONTROL) + "]|_x[0-9A-Fa-f]{4}_"
    return f"CASE WHEN regexp_matches({text}, '{pattern}') THEN {guarded} ELSE {escaped} END"


def cell_sql(column: str, position: int, kind: str, style: int | None) -> str:
    """SQL of one cell's XML ('' for NULL); ``style`` is the cell format's xf index (None: no style)."""
    v = '"' + column.replace('"', '""') + '"'
    ref = f'<c r="{xl_col_to_name(position)}{ROW}"'
    styled = ref + (f' s="{style}"' if style else "")
    if kind in ("decimal", "integer"):
        xml = f"'{styled}><v>' || CAST({v} AS VARCHAR) || '</v></c>'"
    elif kind == "double":  # Excel has no NaN or infinity: those stay visible as text
        xml = (f"CASE WHEN isfinite({v}) THEN '{styled}><v>' || CAST({v} AS VARCHAR) || '</v></c>' "
               f"ELSE '{ref} t=\"inlineStr\"><is><t>' || lower(CAST({v} AS VARCHAR)) || '</t></is></c>' END")
    elif kind == "boolean":
        xml = f"'{ref} t=\"b\"><v>' || CASE WHEN {v} THEN '1' WHEN NOT {v} THEN '0' END || '</v></c>'"
    elif kind == "date":
        xml = f"'{styled}><v>' || CAST({SERIAL.format(v=v)} AS VARCHAR) || '</v></c>'"
    elif kind == "timestamp":
        day = f"CAST({v} AS DATE)"
        fraction = f"(epoch(CAST({v} AS TIMESTAMP)) - epoch(CAST({day} AS TIMESTAMP))) / 86400.0"
        xml = f"'{styled}><v>' || CAST({SERIAL.format(v=day)} + {fraction} AS VARCHAR) || '</v></c>'"
    else:
        xml = f"'{ref} t=\"inlineStr\"><is><t xml:space=\"preserve\">' || {_text_xml(v)} || '</t></is></c>'"
    return f"coalesce({xml}, '')"


def rows_sql(query: str, columns: list[tuple[str, str, int | None]]) -> str:
    """One XML string per row of ``query`` (in its order): (column name, kind, style) of each column."""
    cells = " || ".join(cell_sql(name, i, kind, style) for i, (name, kind, style) in enumerate(columns))
    return f"SELECT {cells or repr('')} FROM ({query}) AS __q"


def numbered(rows: list[tuple[str]], first: int) -> str:
    """The fetched rows as ``<row>`` elements, numbered from ``first`` (the sheet's row number, 1-based)."""
    return "".join(f'<row r="{n}">' + cells.replace(ROW, str(n)) + "</row>"
                   for n, (cells,) in enumerate(rows, start=first))
