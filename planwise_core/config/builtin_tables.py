"""The built-in parameter tables the plan's configuration checks read: vesting presets and the IRS-limit years."""

from __future__ import annotations

import csv
import functools
from fractions import Fraction

from planwise_core.errors import PlanwiseError


def _parameter_rows(name: str) -> list[dict]:
    from planwise_core.assumptions.spec import DEFAULTS_DIR

    path = DEFAULTS_DIR / f"{name}.csv"
    if not path.is_file():
        raise PlanwiseError(f"the built-in parameter table {path} is missing: reinstall planwise.")
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def vesting_presets() -> dict[str, tuple[tuple[int, Fraction], ...]]:
    """Preset name -> steps (service years, vested fraction), from the built-in vesting_schedules table."""
    presets: dict[str, list] = {}
    for row in _parameter_rows("vesting_schedules"):
        presets.setdefault(row["schedule"], []).append((int(row["service_years"]), Fraction(row["vested_fraction"])))
    return {name: tuple(sorted(steps)) for name, steps in presets.items()}


@functools.cache
def first_irs_year() -> int:
    """The first year of the built-in irs_limits table: no simulated year may precede it."""
    return min(int(row["limit_year"]) for row in _parameter_rows("irs_limits"))


def last_irs_limits() -> tuple[int, int]:
    """(the last published year, its largest limit in dollars) of the built-in irs_limits table."""
    row = max(_parameter_rows("irs_limits"), key=lambda r: int(r["limit_year"]))
    return int(row["limit_year"]), max(int(v) for k, v in row.items() if k not in ("limit_year", "source") and v)
