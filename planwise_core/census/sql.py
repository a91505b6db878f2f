"""What the census validator and loader share: the columns, reading the file as text, parsing, line numbers."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb

from planwise_core.census.columns import KNOWN, OPTIONAL, REQUIRED  # noqa: F401 - re-exported
from planwise_core.census.formats import Reading, date_sql, rate_sql
from planwise_core.database.sql import ident, literal
ALIAS = {"employee_id": "id", "employee_birth_date": "birth", "employee_hire_date": "hire",
          "employee_termination_date": "term", "employee_gross_compensation": "comp",
          "employee_deferral_rate": "def", "level_id": "level", "employer_match_balance": "mbal",
          "employer_core_balance": "cbal", "auto_escalation_opt_out": "esc",
          "ownership_pct": "own", "is_officer": "off", "employee_deferral_balance": "dbal"}
TRUE_WORDS, FALSE_WORDS = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")
COMMENT = "#"


def file_kind(path: Path) -> str | None:
    return {".csv": "csv", ".parquet": "parquet"}.get(path.suffix.lower())


def literal_path(path: Path) -> str:
    """The SQL literal that names exactly this file: DuckDB's readers treat * ? [ as a glob pattern (and ~ as
    the home folder), so the path is made absolute and each glob character becomes a one-character class."""
    escaped = re.sub(r"([*?\[])", r"[\1]", str(Path(path).absolute()))
    return sql_literal(escaped)


def leading_comment_lines(path: Path) -> int:
    """Lines starting with '#' before the header (an export note); they are skipped and still counted."""
    count = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle):
            text = line[3:] if number == 0 and line.startswith(b"\xef\xbb\xbf") else line
            if not text.startswith(COMMENT.encode()):
                break
            count += 1
    return count


def source_sql(con: duckdb.DuckDBPyConnection, path: Path, kind: str, skip: int = 0) -> str:
    """SELECT of the file with every column as text (Parquet dates as ISO text)."""
    if kind == "csv":
        # comment = '': DuckDB would otherwise guess '#' and drop any row whose id starts with it (or cut a
        # value at a '#'); the leading note lines are skipped by count instead, so line numbers stay right.
        return (f"SELECT * FROM read_csv({literal_path(path)}, all_varchar = true, header = true, "
                f"skip = {int(skip)}, comment = '')")
    source = f"read_parquet({literal_path(path)})"
    casts = []
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
        column = quote_identifier(name)
        if type_ == "TIMESTAMP WITH TIME ZONE":
            # An instant: its calendar date in UTC (where Parquet stores it), never the machine's time zone.
            inner = f"CAST(timezone('UTC', {column}) AS DATE)"
        elif type_ == "DATE" or type_.startswith("TIMESTAMP"):
            # A Parquet TIMESTAMP would print its time of day; the census wants the calendar date.
            inner = f"CAST({column} AS DATE)"
        else:
            inner = column
        casts.append(f"CAST({inner} AS VARCHAR) AS {column}")
    return f"SELECT {', '.join(casts)} FROM {source}"


def header_names(con: duckdb.DuckDBPyConnection, path: Path, kind: str, skip: int = 0) -> list[str]:
    """The column names exactly as the file spells them, duplicates included (DuckDB renames those)."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    delimiter, quote = con.execute(
        f"SELECT Delimiter, Quote FROM sniff_csv({literal_path(path)}, header = true, skip = {int(skip)}, "
        "comment = '')").fetchone()
    quoting = {"quoting": csv.QUOTE_NONE} if quote in ("", "(empty)") else {"quotechar": quote}
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(skip):
            handle.readline()
        return next(csv.reader(handle, delimiter=delimiter, **quoting), [])


def parsed_sql(source: str, sources: dict[str, str], with_rid: bool, reading: Reading = Reading()) -> str:
    """Trimmed text (s_*) and parsed values (p_*) of every known column; absent columns are NULL.

    ``sources``: census column -> the file's header that holds it. Dates are read in ``reading.date_format``,
    the deferral rate as a fraction (or a percentage with ``reading.percent_strings``). The salary is parsed once, exactly, as DECIMAL rounded half up to cents (p_comp); text that is not a
    finite number, or beyond DECIMAL(38, 2), is NULL.
    """
    texts = [f"nullif(trim({quote_identifier(sources[c])}), '') AS s_{a}" if c in sources
             else f"NULL::VARCHAR AS s_{a}" for c, a in ALIAS.items()]
    fmt = reading.date_format
    return f"""
    SELECT *,
        {date_sql('s_birth', fmt)} AS p_birth, {date_sql('s_hire', fmt)} AS p_hire,
        {date_sql('s_term', fmt)} AS p_term,
        -- DECIMAL(38) parsing is two orders of magnitude slower: only for what DECIMAL(18) cannot hold.
        coalesce(try_cast(s_comp AS DECIMAL(18, 2))::DECIMAL(38, 2), try_cast(s_comp AS DECIMAL(38, 2))) AS p_comp,
        {rate_sql('s_def', reading.percent_strings)} AS p_def,
        try_cast(s_level AS DOUBLE) AS p_level,
        try_cast(s_mbal AS DOUBLE) AS p_mbal, try_cast(s_cbal AS DOUBLE) AS p_cbal,
        CASE WHEN lower(s_esc) IN {TRUE_WORDS} THEN true WHEN lower(s_esc) IN {FALSE_WORDS} THEN false END AS p_esc,
        try_cast(s_own AS DOUBLE) AS p_own, try_cast(s_dbal AS DOUBLE) AS p_dbal,
        CASE WHEN lower(s_off) IN {TRUE_WORDS} THEN true WHEN lower(s_off) IN {FALSE_WORDS} THEN false END AS p_off
    FROM (SELECT {'_rid, ' if with_rid else ''}{', '.join(texts)} FROM ({source}) src)
    """


quote_identifier, sql_literal = ident, literal  # the census modules' names for the toolbox's two quoting helpers


def short_name(name: str, width: int = 40) -> str:
    name = repr(name)
    return name if len(name) <= width else name[: width - 3] + "..."


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def csv_line_map(con: duckdb.DuckDBPyConnection, path: Path, skip: int = 0) -> dict[int, int]:
    """Data row index -> file line; empty when each row is exactly one line after the note lines and header."""
    rows = con.execute("SELECT count(*) FROM census_raw").fetchone()[0]
    if _physical_lines(path) == rows + 1 + skip:
        return {}
    # Irregular file (blank lines, quoted line breaks): replay the parse in Python to count lines.
    delimiter, quote = con.execute(
        f"SELECT Delimiter, Quote FROM sniff_csv({literal_path(path)}, header = true, skip = {int(skip)}, "
        "comment = '')").fetchone()
    quoting = {"quoting": csv.QUOTE_NONE} if quote in ("", "(empty)") else {"quotechar": quote}
    mapping, rid = {}, 0
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(skip):
            handle.readline()
        reader = csv.reader(handle, delimiter=delimiter, **quoting)
        next(reader, None)
        previous = reader.line_num
        for record in reader:
            if record:
                mapping[rid] = previous + 1 + skip
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


def ragged_lines(path: Path, skip: int = 0) -> tuple[int, list[int]]:
    """Header width and the lines whose field count differs from it (none for a non-text file)."""
    ragged = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for _ in range(skip):
                handle.readline()
            header = handle.readline()
            delimiter = max(",;|\t", key=header.count)
            width = len(next(csv.reader([header], delimiter=delimiter), []))
            reader, previous = csv.reader(handle, delimiter=delimiter), 0
            for record in reader:
                if record and len(record) != width:
                    ragged.append(previous + 2 + skip)  # +1 for the header line, +1 to count from 1
                previous = reader.line_num
    except (UnicodeDecodeError, csv.Error):
        return 0, []
    return width, ragged
