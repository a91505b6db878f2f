"""The cost bridge (docs/cost_bridge.md): why the employer's plan cost changed, split exactly into its drivers.

Per component X (match, core) the identity X = N · (P/N) · (R/N) · (X·N/(P·R)) (N head count, P payroll, R the
people who received X) is decomposed by the additive log-mean Divisia index (LMDI-I). Everything is computed with
``decimal`` at 50 digits; each term is then rounded half up to the cent and the rounding remainder goes to the largest
term, so the terms add up to the change to the cent. Forfeitures applied reduce the cost: their change is a term of
its own. Used by the run report (year over year), ``planwise diff`` and the batch page (scenario against scenario).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import NamedTuple

CENT = Decimal("0.01")
PRECISION = 50
COMPONENTS = ("match", "core")
FACTORS = ("head_count", "average_pay", "participation", "generosity")
LABELS = {"head_count": "Head count", "average_pay": "Average pay", "participation": "Participation",
          "generosity": "Generosity (plan design)", "forfeitures": "Forfeitures applied"}


class CostState(NamedTuple):
    """What the bridge reads for one year of one run: head count, payroll, each component's amount and recipients,
    and the forfeitures applied (0 when none are known). Money in Decimal dollars."""
    headcount: int
    payroll: Decimal
    match: Decimal
    match_recipients: int
    core: Decimal
    core_recipients: int
    forfeitures_applied: Decimal

    @property
    def net_cost(self) -> Decimal:
        return self.match + self.core - self.forfeitures_applied


def log_mean(a: Decimal, b: Decimal) -> Decimal:
    """L(a, b) = (a − b) / (ln a − ln b), and a when a = b (both positive)."""
    return a if a == b else (a - b) / (a.ln() - b.ln())


def _factors(amount: Decimal, headcount: int, payroll: Decimal, recipients: int) -> dict[str, Decimal]:
    n, p, r = Decimal(headcount), Decimal(payroll), Decimal(recipients)
    return {"head_count": n, "average_pay": p / n, "participation": r / n, "generosity": amount * n / (p * r)}


def exact_terms(before: tuple, after: tuple) -> dict[str, Decimal]:
    """LMDI-I terms of one component, unrounded: ``before``/``after`` are (amount, head count, payroll, recipients).
    A component zero on one side (it starts or stops) puts its whole change in generosity (plan design)."""
    change = Decimal(after[0]) - Decimal(before[0])
    if before[0] == 0 or after[0] == 0:
        return {**{k: Decimal(0) for k in FACTORS}, "generosity": change}
    with localcontext() as ctx:
        ctx.prec = PRECISION
        weight = log_mean(Decimal(after[0]), Decimal(before[0]))
        x0, x1 = _factors(*before), _factors(*after)
        return {k: weight * (x1[k] / x0[k]).ln() for k in FACTORS}


def to_cents(terms: dict[str, Decimal], change: Decimal) -> dict[str, Decimal]:
    """Each term half up to the cent; the remainder (change − Σ rounded) goes to the largest term in size."""
    rounded = {k: v.quantize(CENT, ROUND_HALF_UP) for k, v in terms.items()}
    largest = max(terms, key=lambda k: (abs(terms[k]), -list(terms).index(k)))
    rounded[largest] += Decimal(change) - sum(rounded.values())
    return rounded


def bridge(before: CostState, after: CostState) -> dict:
    """{"before", "after", "change", "components": {match: {...}, core: {...}}, "forfeitures", "terms"} where
    ``terms`` (head count, average pay, participation, generosity, forfeitures: match + core) add up to the change
    of the net employer cost exactly."""
    components = {}
    for name in COMPONENTS:
        side = [(getattr(s, name), s.headcount, s.payroll, getattr(s, f"{name}_recipients")) for s in (before, after)]
        change = Decimal(side[1][0]) - Decimal(side[0][0])
        components[name] = {"before": side[0][0], "after": side[1][0], "change": change,
                            "terms": to_cents(exact_terms(*side), change)}
    forfeitures = -(after.forfeitures_applied - before.forfeitures_applied)
    terms = {k: sum(components[c]["terms"][k] for c in COMPONENTS) for k in FACTORS}
    terms["forfeitures"] = forfeitures
    return {"before": before.net_cost, "after": after.net_cost, "change": after.net_cost - before.net_cost,
            "components": components, "forfeitures": forfeitures, "terms": terms}


STATE_SQL = """
select s.simulation_year, s.headcount, s.payroll, s.total_match, s.total_core, coalesce(s.forfeitures_applied, 0),
       count(*) filter (where c.employer_match > 0), count(*) filter (where c.employer_core > 0)
from fct_dc_plan_summary s join fct_dc_contributions c using (simulation_year)
group by all order by 1
"""


def cost_states(con) -> dict[int, CostState]:
    """{year: CostState} of a result database with the plan's money layer (empty without it)."""
    from planwise_core.database import table_exists

    if not (table_exists(con, "fct_dc_plan_summary") and table_exists(con, "fct_dc_contributions")):
        return {}
    return {year: CostState(n, Decimal(p), Decimal(m), mr, Decimal(k), kr, Decimal(f))
            for year, n, p, m, k, f, mr, kr in con.execute(STATE_SQL).fetchall() if n}


def year_over_year(states: dict[int, CostState]) -> list[dict]:
    """One bridge per pair of consecutive years, each with its ``year`` (the later one)."""
    years = sorted(states)
    return [{"year": y, **bridge(states[x], states[y])} for x, y in zip(years, years[1:]) if y == x + 1]


def between(first: dict[int, CostState], second: dict[int, CostState]) -> list[dict]:
    """One bridge per year both hold: from ``first`` (A) to ``second`` (B)."""
    return [{"year": y, **bridge(first[y], second[y])} for y in sorted(set(first) & set(second))]


def format_bridge(rows: list[dict], title: str) -> list[str]:
    """Text lines: one line per bridge, the change then each term, to the cent."""
    if not rows:
        return []
    lines = ["", title]
    for row in rows:
        terms = ", ".join(f"{LABELS[k].lower()} {_money(v)}" for k, v in row["terms"].items())
        lines.append(f"  {row['year']}: {_money(row['change'])} = {terms}")
    return lines


def _money(value: Decimal) -> str:
    return ("-" if value < 0 else "+") + f"${abs(value):,.2f}"
