"""Composition drift: what moves the cost without any plan change, flagged where the reader starts.

Average pay of the actives growing faster than the raises they were given (merit + COLA, as applied by the raise
events) means the mix moved: promotions, hires and leavers at other pay. A level whose share of the actives moved
by two points or more over the horizon is named too. Both feed the cost bridge's average-pay term
(docs/cost_bridge.md).
"""

from __future__ import annotations

from decimal import Decimal

from planwise_core.report.formatting import fmt_dollars, half_up
from planwise_core.report.tables import Table

PAY_MARGIN = Decimal("0.005")  # half a point of growth above merit + COLA
MIX_MARGIN = Decimal("0.02")   # two points of a level's share

PAY_SQL = """
with pay as (select simulation_year, avg(current_compensation) as avg_pay, count(*) as actives
             from fct_workforce_snapshot where employment_status = 'active' group by 1),
raises as (select simulation_year, avg(compensation_amount / previous_compensation - 1) as raise_rate
           from fct_yearly_events where event_type = 'raise' and previous_compensation > 0 group by 1)
select simulation_year, avg_pay, raise_rate from pay left join raises using (simulation_year) order by 1
"""
MIX_SQL = """select simulation_year, level_id, count(*) from fct_workforce_snapshot
             where employment_status = 'active' group by all order by 1, 2"""


def _pct(value: Decimal, signed: bool = False) -> str:
    """A fraction as a percentage with 2 decimals; ``signed``: a difference, in points."""
    return f"{half_up(value * 100, 2):{'+' if signed else ''}}" + (" pp" if signed else "%")


def pay_drift(con) -> tuple[Table | None, list[str]]:
    """Per year after the first: average pay of the actives, its growth, the average raise given, the difference;
    and a note for every year the growth passes the raises by more than half a point."""
    rows = [(y, Decimal(str(p)), None if r is None else Decimal(str(r))) for y, p, r in con.execute(PAY_SQL).fetchall()]
    table, notes = [], []
    for (_, before, _), (year, after, given) in zip(rows, rows[1:]):
        growth = after / before - 1 if before else None
        if growth is None or given is None:
            continue
        gap = growth - given
        table.append([str(year), fmt_dollars(after), _pct(growth), _pct(given), _pct(gap, signed=True),
                      "above merit + COLA" if gap > PAY_MARGIN else ""])
        if gap > PAY_MARGIN:
            notes.append(f"{year}: average pay of the actives grew {_pct(growth)}, above the merit + COLA raises "
                         f"given ({_pct(given)}): the workforce mix moved (promotions, hires, leavers), which "
                         "raises the cost.")
    if not table:
        return None, notes
    return Table(["year", "average pay (actives)", "growth", "merit + COLA given", "difference", "flag"],
                 table, {1, 2, 3, 4}), notes


def level_drift(con) -> list[str]:
    """A note per level whose share of the actives moved by two points or more from the first year to the last."""
    counts: dict[int, dict[int, int]] = {}
    for year, level, n in con.execute(MIX_SQL).fetchall():
        counts.setdefault(year, {})[level] = n
    if len(counts) < 2:
        return []
    first, last = (counts[y] for y in (min(counts), max(counts)))
    shares = [{lvl: Decimal(n) / sum(c.values()) for lvl, n in c.items()} for c in (first, last)]
    notes = []
    for level in sorted(set(first) | set(last)):
        a, b = (s.get(level, Decimal(0)) for s in shares)
        if abs(b - a) >= MIX_MARGIN:
            notes.append(f"Level {level}: {_pct(a)} of the actives in {min(counts)}, {_pct(b)} in {max(counts)} "
                         "(level mix drift).")
    return notes
