"""The parameter-table editor as a grid (docs/serve.md, "Pages"): one input per cell, each problem of the
library's validator shown on its cell (its path is ``("assumptions", table, row, column)``, the row counted
from 0 among the data rows), a plain form that works without JavaScript, read back into CSV text."""

from __future__ import annotations

import csv
import io

BLANK_ROWS = 1  # an empty row at the end to add one; empty rows are left out when saved
MAX_CELLS = 20_000


def parse(text: str) -> tuple[list[str], list[list[str]]]:
    rows = [r for r in csv.reader(io.StringIO(text))]
    if not rows:
        return [], []
    width = len(rows[0])
    return rows[0], [(r + [""] * width)[:max(width, len(r))] for r in rows[1:]]


def grid(text: str, problems: list[dict], table: str) -> dict:
    """Header, rows (plus a blank one) and the problems placed: on a cell, on a row, or on the table."""
    header, rows = parse(text)
    cells: dict[tuple[int, str], list[dict]] = {}
    on_rows: dict[int, list[dict]] = {}
    elsewhere = []
    for p in problems:
        path = p.get("path") or []
        mine = len(path) >= 3 and path[0] == "assumptions" and path[1] == table and isinstance(path[2], int)
        if mine and len(path) >= 4 and path[3] in header and path[2] < len(rows):
            cells.setdefault((path[2], path[3]), []).append(p)
        elif mine and path[2] < len(rows):
            on_rows.setdefault(path[2], []).append(p)
        else:
            elsewhere.append(p)
    changed = _changed(table, header, rows)
    rows = rows + [[""] * len(header) for _ in range(BLANK_ROWS)]
    return {"header": header, "rows": rows, "cells": cells, "on_rows": on_rows, "elsewhere": elsewhere,
            "changed": changed}


def _changed(table: str, header: list[str], rows: list[list[str]]) -> set[tuple[int, str]]:
    """The cells whose text differs from the built-in table's (same row number, same column)."""
    import importlib.resources

    try:
        text = importlib.resources.files("planwise_core.assumptions").joinpath("defaults", f"{table}.csv").read_text(
            encoding="utf-8")
    except (FileNotFoundError, OSError):
        return set()
    built_header, built_rows = parse(text)
    out = set()
    for r, row in enumerate(rows):
        for c, column in enumerate(header):
            base = built_rows[r][built_header.index(column)] if r < len(built_rows) and column in built_header \
                else None
            if base is None or base.strip() != row[c].strip():
                out.add((r, column))
    return out


def from_form(data: dict) -> str:
    """The grid form's cells (``cell-<row>-<column index>``) back into CSV text, empty rows left out."""
    header = [h for h in data.get("columns", "").split(",") if h]
    count = int(data.get("rows", "0") or 0) if str(data.get("rows", "0")).isdigit() else 0
    if len(header) * count > MAX_CELLS:
        count = MAX_CELLS // max(len(header), 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in range(count):
        row = [data.get(f"cell-{r}-{c}", "").strip() for c in range(len(header))]
        if any(row):
            writer.writerow(row)
    return out.getvalue()


def describe(table: str) -> dict | None:
    """The table's columns (type, bounds, nullable) and rules, as ``GET /api/v1/assumptions/tables`` lists them."""
    from planwise_core.serve.catalog import tables

    return next((t for t in tables() if t["table"] == table), None)
