"""What the estimators produce: report cells, published values, table changes and warnings (docs/fit.md)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import attrs

SIX = Decimal("0.000001")
CELL_COLUMNS = ("parameter", "dimension", "cell", "rate_kind", "exposure", "events", "observed_events",
                "expected_retirements", "crude_rate", "ci_low", "ci_high", "ci_level", "credibility", "standard",
                "default_rate", "fitted_rate", "published", "published_value", "basis", "note")


def round6(value: float) -> Decimal:
    """Half up to 6 decimals (the precision of every published rate and multiplier)."""
    return Decimal(repr(float(value))).quantize(SIX, rounding=ROUND_HALF_UP).normalize() + Decimal(0)


def basis_of(z: float | None) -> str:
    if z is None:
        return "not_fitted"
    return "experience" if z >= 1 else ("base" if z <= 0 else "blended")


@attrs.define
class Collector:
    ci_level: float
    standard: float
    cells: list[dict] = attrs.field(factory=list)
    exposure: list[dict] = attrs.field(factory=list)
    published: dict = attrs.field(factory=dict)
    changes: dict = attrs.field(factory=dict)       # table -> key -> column -> value
    config: dict = attrs.field(factory=dict)        # dotted key -> value
    warnings: list[dict] = attrs.field(factory=list)
    not_fitted: list[str] = attrs.field(factory=list)
    years: dict = attrs.field(factory=dict)         # k -> column -> value
    extra: dict = attrs.field(factory=dict)         # report-only details

    def cell(self, parameter: str, dimension: str, cell, rate_kind: str, **values) -> None:
        row = dict.fromkeys(CELL_COLUMNS)
        row.update(parameter=parameter, dimension=dimension, cell=str(cell), rate_kind=rate_kind,
                   ci_level=self.ci_level, standard=self.standard, **values)
        self.cells.append(row)

    def publish(self, key: str, value, base, z: float | None, note: str = "") -> None:
        self.published[key] = {"value": _plain(value), "base": _plain(base), "basis": basis_of(z),
                               "credibility": None if z is None else z, "note": note}
        if z is not None and 0 < z < 0.3:
            self.warn("W-THIN", 1, f"{key}: credibility {z:.3f} < 0.3, mostly the base value")

    def keep(self, key: str, base, why: str) -> None:
        self.published[key] = {"value": _plain(base), "base": _plain(base), "basis": "not_fitted",
                               "credibility": None, "note": why}
        self.not_fitted.append(key)

    def change(self, table: str, key, column: str, value) -> None:
        self.changes.setdefault(table, {}).setdefault(key, {})[column] = value

    def warn(self, code: str, count: int, message: str, ids=()) -> None:
        for existing in self.warnings:
            if existing["code"] == code and code == "W-THIN":
                existing["count"] += count
                existing["message"] += "; " + message
                return
        self.warnings.append({"code": code, "count": count, "message": message, "ids": list(ids)})

    def year(self, k: int, **values) -> None:
        self.years.setdefault(k, {"k": k}).update(values)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return value
