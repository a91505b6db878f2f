"""Small hand-made employer histories for the fit tests (docs/fit.md): rows written as census CSV files."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

COLUMNS = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
           "employee_gross_compensation", "employee_deferral_rate", "level_id")


def write_snapshot(folder: Path, as_of: date, rows: list[dict], extra: dict | None = None) -> Path:
    """rows: dicts with id, birth, hire, term (optional), pay, deferral (optional), level (optional)."""
    path = folder / f"census_{as_of.isoformat()}.csv"
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS + tuple(extra or {}))
        for r in rows:
            writer.writerow([r["id"], r["birth"], r["hire"], r.get("term") or "", r["pay"], r.get("deferral", 0),
                             r.get("level", 1), *(extra or {}).values()])
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def cells(out: Path, parameter: str, dimension: str | None = None) -> dict[str, dict]:
    rows = [r for r in read_csv(out / "cells" / "fit_cells.csv") if r["parameter"] == parameter
            and (dimension is None or r["dimension"] == dimension)]
    return {r["cell"]: r for r in rows}


def manifest(out: Path) -> dict:
    return json.loads((out / "fit_manifest.json").read_text())
