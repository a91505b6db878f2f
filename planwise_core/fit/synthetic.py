"""A synthetic employer history with known true rates (docs/fit.md, "Synthetic histories").

``planwise census history`` writes N employees' annual snapshots in the census format, a ``snapshots.csv``
manifest and ``truth.json`` (the rates that generated them), so that a fit can be checked against the truth.
Same arguments -> same bytes. Terminations are a competing-risk draw on the force scale (hazard by age band,
tenure band and level, plus the built-in retirement table from 55); hires arrive uniformly over the year.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import attrs

from planwise_core.fileio import atomic_write_text

AGE_BANDS = ((0, 25, "<25", 0.8), (25, 35, "25-34", 1.2), (35, 45, "35-44", 1.0), (45, 55, "45-54", 0.9),
             (55, 65, "55-64", 0.8), (65, 200, "65+", 1.0))
TENURE_BANDS = ((0, 2, "<2", 1.6), (2, 5, "2-4", 1.0), (5, 10, "5-9", 0.7), (10, 20, "10-19", 0.5),
                (20, 200, "20+", 0.4))
LEVELS = {1: (45_000, 80_000, 1.0, 0.030, 0.45), 2: (80_000, 120_000, 0.9, 0.028, 0.30),
          3: (120_000, 160_000, 0.8, 0.032, 0.15), 4: (160_000, 275_000, 0.7, 0.035, 0.08),
          5: (275_000, 400_000, 0.6, 0.035, 0.02)}   # salary band, hazard multiplier, merit, hire share
LEVEL_MIX = (0.55, 0.25, 0.12, 0.06, 0.02)
RETIREMENT = ((55, 60, 0.02), (60, 62, 0.05), (62, 63, 0.15), (63, 65, 0.10), (65, 66, 0.30), (66, 70, 0.20),
              (70, 200, 0.35))
PROMOTION_AGE = {"<25": 1.6, "25-34": 1.4, "35-44": 1.1, "45-54": 0.7, "55-64": 0.3, "65+": 0.1}
PROMOTION_TENURE = {"<2": 0.5, "2-4": 1.5, "5-9": 1.8, "10-19": 0.8, "20+": 0.2}
PROMOTION_LEVEL = {1: 1.0, 2: 0.85, 3: 0.7, 4: 0.55}
HIRE_AGES = ((22, 0.05), (25, 0.15), (28, 0.20), (32, 0.25), (35, 0.15), (40, 0.10), (45, 0.08), (50, 0.02))
COLUMNS = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
           "employee_gross_compensation", "employee_deferral_rate", "level_id")


@attrs.frozen
class Truth:
    hazard: float = 0.10
    new_hire_force: float = 0.40
    promotion_base: float = 0.08
    cola: float = 0.005
    growth: float = 0.03
    voluntary: float = 0.10
    raise_range: tuple = (0.08, 0.15)


def _band(value: int, bands) -> tuple:
    return next(b for b in bands if b[0] <= value < b[1])


def _years(start: date, on: date) -> int:
    return on.year - start.year - ((on.month, on.day) < (start.month, start.day))


def _cents(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _pick(rng: random.Random, weighted) -> object:
    u, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if u < total:
            return value
    return weighted[-1][0]


@attrs.define
class Person:
    id: str
    birth: date
    hire: date
    level: int
    salary: Decimal
    deferral: str
    term: date | None = None


class Generator:
    def __init__(self, employees: int, snapshots: int, seed: int, first: date, truth: Truth,
                 shift: tuple | None, vanish_share: float, terminated_rows: bool):
        self.rng = random.Random(f"planwise-history|{seed}")
        self.n, self.snapshots, self.first, self.truth = employees, snapshots, first, truth
        self.shift, self.vanish_share, self.terminated_rows = shift, vanish_share, terminated_rows

    def initial(self) -> list[Person]:
        rng, people = self.rng, []
        for i in range(self.n):
            age = rng.triangular(22, 65, 38)
            birth = self.first - timedelta(days=int(age * 365.25))
            cap = max(0, int((age - 18) * 365.25))
            hire = self.first - timedelta(days=min(cap, int(rng.expovariate(1 / 2190))))
            level = _pick(rng, list(zip(LEVELS, LEVEL_MIX)))
            lo, hi = LEVELS[level][:2]
            people.append(Person(f"EMP_{i + 1:06d}", birth, hire, level, _cents(lo + (hi - lo) * rng.random()),
                                 "0.06" if rng.random() < 0.6 else "0"))
        return people

    def force(self, p: Person, d0: date, last: bool) -> float:
        age = _band(_years(p.birth, d0), AGE_BANDS)
        tenure = _band(_years(p.hire, d0), TENURE_BANDS)
        shifted = last and self.shift is not None and tenure[2] == self.shift[0]
        return self.truth.hazard * age[3] * tenure[3] * LEVELS[p.level][2] * (self.shift[1] if shifted else 1.0)

    def leave_day(self, p: Person, d0: date, length: int, last: bool) -> int | None:
        rng = self.rng
        t = rng.expovariate(self.force(p, d0, last))
        age = _years(p.birth, d0)
        rate = next((r for lo, hi, r in RETIREMENT if lo <= age < hi), 0.0)
        retire = rng.random() < rate
        retire_at = rng.random()
        t = min(t, retire_at) if retire else t
        return min(length, int(t * length) + 1) if t < 1 else None

    def stay(self, p: Person, d0: date) -> None:
        rng, truth = self.rng, self.truth
        tenure = _years(p.hire, d0)
        if p.deferral == "0" and rng.random() < truth.voluntary:
            p.deferral = "0.06"
        if tenure < 1:
            return
        age = _band(_years(p.birth, d0), AGE_BANDS)[2]
        ten = _band(tenure, TENURE_BANDS)[2]
        if p.level < 5 and rng.random() < min(1.0, truth.promotion_base * PROMOTION_AGE[age]
                                              * PROMOTION_TENURE[ten] * PROMOTION_LEVEL[p.level]):
            p.level += 1
            p.salary = _cents(float(p.salary) * (1 + rng.uniform(*truth.raise_range)))
        p.salary = _cents(float(p.salary) * (1 + LEVELS[p.level][3] + truth.cola))

    def hire(self, k: int, i: int, d0: date, length: int) -> Person:
        rng = self.rng
        day = rng.randint(1, length)
        hire = d0 + timedelta(days=day)
        age = _pick(rng, HIRE_AGES) + rng.randint(-2, 2)
        level = _pick(rng, [(lvl, v[4]) for lvl, v in LEVELS.items()])
        lo, hi = LEVELS[level][:2]
        p = Person(f"H{k}_{i:06d}", hire - timedelta(days=int((age + rng.random()) * 365.25)), hire, level,
                   _cents(lo + (hi - lo) * rng.random()), "0.06" if rng.random() < 0.5 else "0")
        t = rng.expovariate(self.truth.new_hire_force)
        if day / length + t < 1:
            p.term = min(d0 + timedelta(days=length), hire + timedelta(days=int(t * length)))
        return p

    def run(self) -> list[tuple[date, list[Person]]]:
        actives = self.initial()
        out = [(self.first, [attrs.evolve(p) for p in actives])]
        h = 1 - (1 - math.exp(-self.truth.new_hire_force)) / self.truth.new_hire_force
        for k in range(1, self.snapshots):
            d0, d1 = out[-1][0], date(out[-1][0].year + 1, out[-1][0].month, out[-1][0].day)
            length, last = (d1 - d0).days, k == self.snapshots - 1
            stayers, rows = [], []
            for p in actives:
                day = self.leave_day(p, d0, length, last)
                if day is None:
                    self.stay(p, d0)
                    stayers.append(p)
                else:
                    rows.append(attrs.evolve(p, term=d0 + timedelta(days=day)))
            wanted = round(len(actives) * (1 + self.truth.growth))
            hires = [self.hire(k, i + 1, d0, length) for i in range(max(0, round((wanted - len(stayers)) / (1 - h))))]
            actives = stayers + [p for p in hires if p.term is None]
            rows += [p for p in hires if p.term is not None]
            kept = [p for p in rows if self.terminated_rows and self.rng.random() >= self.vanish_share]
            out.append((d1, [attrs.evolve(p) for p in actives] + kept))
        return out


def snapshot_csv(people: list[Person]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in sorted(people, key=lambda p: p.id):
        writer.writerow([p.id, p.birth, p.hire, p.term or "", p.salary, p.deferral, p.level])
    return buffer.getvalue()


def truth_json(truth: Truth, shift) -> dict:
    mu = truth.new_hire_force
    return {"hazard": truth.hazard,
            "termination_multiplier": {"age_band": {b[2]: b[3] for b in AGE_BANDS},
                                       "tenure_band": {b[2]: b[3] for b in TENURE_BANDS},
                                       "level": {str(k): v[2] for k, v in LEVELS.items()}},
            "retirement_rates": [list(r) for r in RETIREMENT],
            "new_hire_force": mu, "new_hire_termination_rate": 1 - (1 - math.exp(-mu)) / mu,
            "promotion": {"base_rate": truth.promotion_base, "age_band": PROMOTION_AGE,
                          "tenure_band": PROMOTION_TENURE, "level": {str(k): v for k, v in PROMOTION_LEVEL.items()}},
            "merit_rate": {str(k): v[3] for k, v in LEVELS.items()}, "cola": truth.cola,
            "promotion_raise": list(truth.raise_range), "growth": truth.growth, "voluntary": truth.voluntary,
            "shift_last_year": {"tenure_band": shift[0], "factor": shift[1]} if shift else None}


def generate_history(employees: int, out: str | Path, *, snapshots: int = 4, seed: int = 42,
                     first: date = date(2021, 12, 31), shift: tuple | None = None, vanish_share: float = 0.0,
                     terminated_rows: bool = True, truth: Truth = Truth()) -> Path:
    """Write the snapshots, ``snapshots.csv`` and ``truth.json`` into ``out``; returns ``out``."""
    out = Path(out)
    history = Generator(employees, snapshots, seed, first, truth, shift, vanish_share, terminated_rows).run()
    manifest = ["as_of_date,file"]
    for when, people in history:
        name = f"census_{when.isoformat()}.csv"
        atomic_write_text(out / name, snapshot_csv(people))
        manifest.append(f"{when.isoformat()},{name}")
    atomic_write_text(out / "snapshots.csv", "\n".join(manifest) + "\n")
    atomic_write_text(out / "truth.json", json.dumps(truth_json(truth, shift), indent=2, sort_keys=True) + "\n")
    return out
