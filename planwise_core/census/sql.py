"""What the census validator and loader share: the columns, reading the file as text, parsing, line numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

REQUIRED = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_gross_compensation")
OPTIONAL = ("employee_termination_date", "employee_deferral_rate", "level_id",
            # The plan's money layer (docs/census.md): opening employer balances and a permanent escalation opt-out.
            "employer_match_balance", "employer_core_balance", "auto_escalation_opt_out")
KNOWN = REQUIRED + OPTIONAL
ALIAS = {"employee_id": "id", "employee_birth_date": "birth", "employee_hire_date": "hire",
          "employee_termination_date": "term", "employee_gross_compensation": "comp",
          "employee_deferral_rate": "def", "level_id": "level", "employer_match_balance": "mbal",
          "employer_core_balance": "cbal", "auto_escalation_opt_out": "esc"}
TRUE_WORDS, FALSE_WORDS = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")


def file_kind(path: Path) -> str | None:
    return {".csv": "csv", ".parquet": "parquet"}.get(path.suffix.lower())


def source_sql(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> str:
    """SELECT of the file with every column as text (Parquet dates as ISO text)."""
    if kind == "csv":
        # skip = 0: the header is line 1, never a row the sniffer guessed
        return f"SELECT * FROM read_csv({sql_literal(path)}, all_varchar = true, header = true, skip = 0)"
    source = f"read_parquet({sql_literal(path)})"
    casts = []
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
        # A Parquet TIMESTAMP would print its time of day; the census wants the calendar date.
        inner = f"CAST({quote_identifier(name)} AS DATE)" if type_ == "DATE" or type_.startswith("TIMESTAMP") else quote_identifier(name)
        casts.append(f"CAST({inner} AS VARCHAR) AS {quote_identifier(name)}")
    return f"SELECT {', '.join(casts)} FROM {source}"


def parsed_sql(source: str, present: set[str], with_rid: bool) -> str:
    """Trimmed text (s_*) and parsed values (p_*) of every known column; absent columns are NULL."""
    texts = [f"nullif(trim({quote_identifier(c)}), '') AS s_{a}" if c in present else f"NULL::VARCHAR AS s_{a}"
             for c, a in ALIAS.items()]
    return f"""
    SELECT *,
        {_iso_date('s_birth')} AS p_birth, {_iso_date('s_hire')} AS p_hire, {_iso_date('s_term')} AS p_term,
        try_cast(s_comp AS DOUBLE) AS p_comp, try_cast(s_def AS DOUBLE) AS p_def,
        try_cast(s_level AS DOUBLE) AS p_level,
        try_cast(s_mbal AS DOUBLE) AS p_mbal, try_cast(s_cbal AS DOUBLE) AS p_cbal,
        CASE WHEN lower(s_esc) IN {TRUE_WORDS} THEN true WHEN lower(s_esc) IN {FALSE_WORDS} THEN false END AS p_esc
    FROM (SELECT {'_rid, ' if with_rid else ''}{', '.join(texts)} FROM ({source}) src)
    """


def _iso_date(expr: str) -> str:
    return f"CASE WHEN regexp_full_match({expr}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN try_cast({expr} AS DATE) END"


def quote_identifier(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_literal(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def short_name(name: str, width: int = 40) -> str:
    name = repr(name)
    return name if len(name) <= width else name[: width - 3] + "..."


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def csv_line_map(con: duckdb.DuckDBPyConnection, path: Path) -> dict[int, int]:
    """Data row index -> file line; empty when each row is exactly one line after the header."""
    rows = con.execute("SELECT count(*) FROM census_raw").fetchone()[0]
    if _physical_lines(path) == rows + 1:
        return {}
    # Irregular file (blank lines, quoted line breaks): replay the parse in Python to count lines.
    delimiter, quote = con.execute(
        f"SELECT Delimiter, Quote FROM sniff_csv({sql_literal(path)}, header = true, skip = 0)").fetchone()
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


def ragged_lines(path: Path) -> tuple[int, list[int]]:
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
