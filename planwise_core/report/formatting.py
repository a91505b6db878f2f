"""How numbers and values read on the report pages: one place, used by the charts, the tables and the
templates (registered there as filters)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal


def exact(value) -> Decimal:
    """A number as a Decimal: a float through its shortest text (73.125, not the binary neighbour), so that the
    table formats below round half up as the money layer does (73.125 -> 73.13), never half-even."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value))) if isinstance(value, float) \
        else Decimal(value)


def half_up(value, places: int) -> Decimal:
    return exact(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP) + 0  # + 0: no "-0"


def num(value) -> float:
    """A number to draw or add up: None (a missing value) counts as 0."""
    return 0.0 if value is None else float(value)


def fmt_int(v) -> str:
    return f"{half_up(v, 0):,}"


def fmt_money(v) -> str:
    """Short money for axes and cards: $1.2M, $45k, $900."""
    a = abs(v)
    if a >= 1_000_000:
        return f"${v / 1_000_000:,.1f}M"
    if a >= 1_000:
        return f"${v / 1_000:,.0f}k"
    return f"${v:,.0f}"


def fmt_dollars(v) -> str:
    """Whole dollars for tables: $1,234,568."""
    return f"${half_up(v, 0):,}"


def fmt_cents(v) -> str:
    """Money to the cent for tables: $1,234,567.89 (-$12.50)."""
    return ("-" if v < 0 else "") + f"${half_up(abs(exact(v)), 2):,}"


def fmt_pct(v) -> str:
    """A percentage for axes: one decimal below 10 when it is not whole."""
    return f"{v:.1f}%" if abs(v) < 10 and v != int(v) else f"{v:.0f}%"


def fmt_pct2(v) -> str:
    """A percentage for tables, two decimals rounded half up: 72.91%."""
    return f"{half_up(v, 2)}%"


def fmt_rate(v) -> str:
    """A fraction (a deferral rate) as a percentage, two decimals rounded half up: 0.0525 -> 5.25%."""
    return f"{half_up(exact(v) * 100, 2)}%"


def fmt_seconds(v) -> str:
    return f"{v:.1f}s" if v < 100 else f"{v:.0f}s"


def or_dash(value, fmt) -> str:
    """``fmt(value)``, or an en dash for a missing value."""
    return "–" if value is None else fmt(value)


def cell_text(value) -> str:
    """A stored value for a parameter table: numbers without trailing zeros (0.035, 80000), else scalar_text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return scalar_text(value)


def scalar_text(value) -> str:
    """A configuration or log value as text: YAML-like null/true/false, compact floats, timestamps to the second."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dict):  # e.g. a match tier: YAML's flow style, never a Python repr
        return "{" + ", ".join(f"{k}: {scalar_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar_text(v) for v in value) + "]"
    return str(value)
