"""A history made by the simulator itself (docs/fit.md, "Simulator-made histories").

The first snapshot is the synthetic generator's starting population; every later snapshot is the year-end
``fct_workforce_snapshot`` of a real ``planwise run`` from the previous snapshot as census, with known parameter
tables and rates. The true process is therefore exactly the one the simulator models: stationary rates,
quota-driven headcount and experienced terminations, enrollment as the simulator does it. Each year's quota
rates carry the binomial noise of one year's outcome (drawn here, with the truth written to ``truth.json``), since
the simulator's own quotas have none. ``shift=(band, factor)`` multiplies that tenure band's termination weight
in the last year and raises that year's quota by the band's extra expected leavers, so the other bands keep
their turnover.
"""

from __future__ import annotations

import csv
import json
import math
import random
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import yaml

from planwise_core.fileio import atomic_write_text
from planwise_core.fit.synthetic import Generator, Truth, snapshot_csv

RUN_COLUMNS = ("employee_id", "employee_birth_date", "employee_hire_date", "termination_date",
               "current_compensation", "deferral_rate", "level_id")
HEADER = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
          "employee_gross_compensation", "employee_deferral_rate", "level_id")


def _binomial_rate(rng: random.Random, n: int, p: float) -> float:
    """One year's realised share of n people with probability p: the normal approximation of the binomial
    (n is hundreds or more), rounded to the whole count, as a rate of 8 decimals."""
    if n <= 0:
        return p
    count = min(n, max(0, round(n * p + math.sqrt(n * p * (1 - p)) * rng.gauss(0, 1))))
    return round(count / n, 8)


def _write_snapshot(database: Path, year: int, path: Path) -> None:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM fct_workforce_snapshot "
                           "WHERE simulation_year = ? ORDER BY employee_id", [year]).fetchall()
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def _run(config: dict, census: Path, work: Path, name: str, tables: Path | None) -> Path:
    (work / f"{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    database = work / f"{name}.duckdb"
    args = [sys.executable, "-m", "planwise_core", "run", "--config", str(work / f"{name}.yaml"), "--census",
            str(census), "--database", str(database)]
    if tables is not None:
        args += ["--assumptions", str(tables)]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the simulator run for {name} failed:\n{proc.stderr[-2000:]}")
    return database


def _actives(path: Path, on: date) -> int:
    with open(path, newline="") as handle:
        return sum(1 for r in csv.DictReader(handle)
                   if not r["employee_termination_date"] or r["employee_termination_date"] > on.isoformat())


def _band_extra(path: Path, on: date, band: tuple, previous: Path, before: date) -> float:
    """Expected leavers of the band in the coming year at last year's band turnover (for the shift's quota)."""
    low, high = band
    def in_band(r, d):
        hired = date.fromisoformat(r["employee_hire_date"])
        years = d.year - hired.year - ((d.month, d.day) < (hired.month, hired.day))
        return low <= years < high
    with open(previous, newline="") as handle:
        start = [r for r in csv.DictReader(handle) if not r["employee_termination_date"]
                 or r["employee_termination_date"] > before.isoformat()]
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    active_ids = {r["employee_id"] for r in rows if not r["employee_termination_date"]
                  or r["employee_termination_date"] > on.isoformat()}
    band_start = [r for r in start if in_band(r, before)]
    rate = sum(r["employee_id"] not in active_ids for r in band_start) / max(1, len(band_start))
    now = [r for r in rows if r["employee_id"] in active_ids and in_band(r, on)]
    return rate * len(now)


def _band_names(band: str) -> None:
    source = Path(__file__).resolve().parent.parent / "assumptions" / "defaults" / "tenure_bands.csv"
    with open(source, newline="") as handle:
        names = [r["tenure_band"] for r in csv.DictReader(handle)]
    if band not in names:
        raise ValueError(f"--shift: no tenure band {band!r} (bands: {', '.join(names)})")


def _shifted_tables(work: Path, band: str, factor: float) -> tuple[Path, tuple]:
    source = Path(__file__).resolve().parent.parent / "assumptions" / "defaults" / "tenure_bands.csv"
    with open(source, newline="") as handle:
        rows = list(csv.DictReader(handle))
    chosen = next((r for r in rows if r["tenure_band"] == band), None)
    if chosen is None:
        raise ValueError(f"--shift: no tenure band {band!r} (bands: {', '.join(r['tenure_band'] for r in rows)})")
    chosen["termination_multiplier"] = repr(round(float(chosen["termination_multiplier"]) * factor, 6))
    folder = work / "shifted_tables"
    folder.mkdir(exist_ok=True)
    with open(folder / "tenure_bands.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder, (int(chosen["min_tenure"]), int(chosen["max_tenure"]))


TRUTH = {"total_termination_rate": 0.10, "new_hire_termination_rate": 0.25, "target_growth_rate": 0.03}


def _config(years: range, census_date: date, seed: int, rates: dict) -> dict:
    from planwise_core.config import load_config
    from planwise_core.config.schema import DEFAULT_CONFIG_PATH

    data = load_config(DEFAULT_CONFIG_PATH).to_dict()
    data["simulation"].update(start_year=years[0], end_year=years[-1], census_date=census_date.isoformat(),
                              target_growth_rate=TRUTH["target_growth_rate"])
    data["random_seed"] = seed
    data["workforce"]["total_termination_rate"] = {y: rates["t"][y] for y in years}
    data["workforce"]["new_hire_termination_rate"] = {y: rates["h"][y] for y in years}
    return data


def _truth_config() -> dict:
    """The configuration that made the history, without its yearly noise: a base ``--config`` for fit/backtest."""
    from planwise_core.config import load_config
    from planwise_core.config.schema import DEFAULT_CONFIG_PATH

    data = load_config(DEFAULT_CONFIG_PATH).to_dict()
    data["workforce"]["total_termination_rate"] = TRUTH["total_termination_rate"]
    data["workforce"]["new_hire_termination_rate"] = TRUTH["new_hire_termination_rate"]
    data["simulation"]["target_growth_rate"] = TRUTH["target_growth_rate"]
    return data


def _year_rates(rng: random.Random, year: int, n: int, rates: dict, extra: float = 0.0) -> None:
    t, h, g = TRUTH["total_termination_rate"], TRUTH["new_hire_termination_rate"], TRUTH["target_growth_rate"]
    rates["t"][year] = round(min(1.0, _binomial_rate(rng, n, t) + extra / n), 8)
    rates["h"][year] = _binomial_rate(rng, round(n * (t + g) / (1 - h)), h)
    rates["n"][year] = n


def simulate_history(employees: int, out: str | Path, *, snapshots: int = 4, seed: int = 11,
                     first: date = date(2023, 12, 31), shift: tuple | None = None) -> Path:
    """Write the snapshots, ``snapshots.csv`` and ``truth.json`` into ``out``; returns ``out``.

    Years start after the first published IRS limits (docs/fit.md), so the plan layer runs in every year."""
    if snapshots < 3:
        raise ValueError("a simulator-made history needs at least 3 snapshots")
    if shift is not None:
        _band_names(shift[0])
    out, rng = Path(out), random.Random(f"planwise-simulated|{seed}")
    dates = [date(first.year + k, first.month, first.day) for k in range(snapshots)]
    files = [out / f"census_{d.isoformat()}.csv" for d in dates]
    work = out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_text(files[0], snapshot_csv(Generator(employees, 1, seed, first, Truth(), None, 0.0, True).initial()))
    rates = {"t": {}, "h": {}, "n": {}}
    years, n = range(dates[1].year, dates[-2].year + 1), employees
    for year in years:  # every year but the last in one run
        _year_rates(rng, year, n, rates)
        n = round(n * (1 + TRUTH["target_growth_rate"]))
    database = _run(_config(years, first, seed, rates), files[0], work, "history", None)
    for k, year in enumerate(years, start=1):
        _write_snapshot(database, year, files[k])
    _year_rates(rng, dates[-1].year, _actives(files[-2], dates[-2]), rates)
    return _last_year(out, dates, files, rates, seed, shift)


def shift_last_year(history: str | Path, out: str | Path, shift: tuple) -> Path:
    """The same simulator-made history with ``shift`` planted in its last year: the earlier snapshots copied, the
    last year re-simulated with the same seed and quota noise."""
    history, out = Path(history), Path(out)
    truth = json.loads((history / "truth.json").read_text())
    with open(history / "snapshots.csv", newline="") as handle:
        pairs = [(date.fromisoformat(r["as_of_date"]), r["file"]) for r in csv.DictReader(handle)]
    (out / ".work").mkdir(parents=True, exist_ok=True)
    for _, name in pairs[:-1]:
        atomic_write_text(out / name, (history / name).read_text())
    rates = {k: {int(y): v for y, v in d.items()} for k, d in truth["yearly"].items()}
    return _last_year(out, [d for d, _ in pairs], [out / n for _, n in pairs], rates, truth["seed"], shift)


def _last_year(out: Path, dates: list, files: list, rates: dict, seed: int, shift) -> Path:
    work, tables, extra, last = out / ".work", None, 0.0, dates[-1].year
    if shift is not None:
        tables, band = _shifted_tables(work, shift[0], shift[1])
        extra = (shift[1] - 1) * _band_extra(files[-2], dates[-2], band, files[-3], dates[-3])
    year_rates = {"t": {last: round(min(1.0, rates["t"][last] + extra / rates["n"][last]), 8)},
                  "h": {last: rates["h"][last]}}
    database = _run(_config(range(last, last + 1), dates[-2], seed + 1, year_rates), files[-2], work, "last", tables)
    _write_snapshot(database, last, files[-1])
    manifest = ["as_of_date,file"] + [f"{d.isoformat()},{f.name}" for d, f in zip(dates, files)]
    atomic_write_text(out / "snapshots.csv", "\n".join(manifest) + "\n")
    truth = {**TRUTH, "seed": seed, "tables": "built-in",
             "yearly": {k: {str(y): v for y, v in d.items()} for k, d in rates.items()},
             "shift_last_year": {"tenure_band": shift[0], "factor": shift[1], "extra_leavers": round(extra, 3),
                                 "t": year_rates["t"][last]} if shift else None}
    atomic_write_text(out / "truth.json", json.dumps(truth, indent=2, sort_keys=True) + "\n")
    atomic_write_text(out / "truth_config.yaml", yaml.safe_dump(_truth_config(), sort_keys=False))
    shutil.rmtree(work, ignore_errors=True)
    return out
