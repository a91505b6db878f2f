"""The largest census salaries a configuration can carry to the end of its horizon.

Pay rates are DECIMAL(18, 2), but DuckDB multiplies a DECIMAL(18, 2) amount by a rate in 64-bit
integers (cents x rate x 10^6), the promotion raise is applied in a DOUBLE (exact to the cent only below
2^53 cents), and the snapshot sums cents x days: a rate of ten billion a year keeps every one of those
exact with a wide margin (a 10^12 salary overflowed in the second year). A census salary is accepted when
even the steepest raises the configuration allows (every promotion, the highest merit and COLA, every
year) keep it under that ceiling; the year summary's payroll, a DECIMAL(18, 2) sum, is bounded likewise.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import attrs

RATE_CEILING = Decimal("10000000000.00")
PAYROLL_CEILING = Decimal("9999999999999999.99")


@attrs.frozen
class Capacity:
    years: int
    growth: Decimal  # the largest factor by which a pay rate can grow over the horizon
    max_salary: Decimal
    max_hire_salary: Decimal
    headcount_growth: Decimal  # the largest factor by which the headcount can grow
    levels: tuple[int, ...] = (1, 2, 3, 4, 5)  # the job levels in force: a census level_id must be one of them

    def payroll_fits(self, active_payroll: Decimal, actives: int) -> bool:
        hires = actives * self.headcount_growth * self.max_hire_salary
        return (active_payroll + hires) * self.growth <= PAYROLL_CEILING

    def describe(self) -> str:
        return (f"raises of up to {float(self.growth) - 1:.0%} over {self.years} year{'s' if self.years > 1 else ''} "
                f"must keep every pay rate under {RATE_CEILING:,.2f}")


def capacity_for(config, assumptions=None) -> Capacity:
    """The worst-case growth of ``config``'s horizon, from its rates and the parameter tables in force."""
    from planwise_core.assumptions import resolve_assumptions

    tables = assumptions or resolve_assumptions(config)
    sim, comp = config.simulation, config.compensation
    years = max(1, sim.end_year - sim.start_year + 1)
    merit = _dec(comp.merit_budget) if comp.merit_budget is not None else tables.column_max("job_levels", "merit_rate")
    cola = _dec(_highest(comp.cola_rate)) if comp.cola_rate is not None else tables.column_max("cola_by_year",
                                                                                               "cola_rate")
    promotion = tables.column_max("promotion_hazard", "max_raise")
    levels = tuple(row[0] for row in tables.tables["job_levels"].rows)
    # Promotions stop at the table's top level: at most one fewer than its levels in anyone's career.
    growth = (1 + promotion) ** min(years, max(len(levels) - 1, 0)) * (1 + merit + cola) ** years
    headcount = (1 + max(_dec(_highest(sim.target_growth_rate)), Decimal(0))) ** years
    return Capacity(years=years, growth=growth,
                    max_salary=(RATE_CEILING / growth).quantize(Decimal("0.01"), rounding=ROUND_FLOOR),
                    max_hire_salary=tables.column_max("job_levels", "hire_max_salary"),
                    headcount_growth=headcount, levels=levels)


def _highest(rate) -> float:
    """A rate, or the highest of a year-varying one ({year: rate} pairs)."""
    return max(r for _, r in rate) if isinstance(rate, tuple) else rate


def _dec(value: float) -> Decimal:
    return Decimal(str(value))
