"""Checks that the start of year Y+1 is exactly the year-end actives of Y."""

from __future__ import annotations

from planwise_core.errors import SimulationError

_CHECKS = {
    "active_end equals target_end": """
        select (select count(*) from fct_workforce_snapshot where simulation_year = $from_year and employment_status = 'active')
             - (select target_end_headcount from int_workforce_requirements where simulation_year = $from_year)""",
    "start population equals year-end actives": """
        select count(*) from (
            select employee_id from fct_workforce_snapshot where simulation_year = $from_year and employment_status = 'active'
        ) prev full join (
            select employee_id from int_workforce_start where simulation_year = $to_year
        ) nxt using (employee_id)
        where prev.employee_id is null or nxt.employee_id is null""",
    "age, tenure, level, pay and plan state carried": """
        select count(*) from fct_workforce_snapshot prev
        join int_workforce_start nxt using (employee_id)
        where prev.simulation_year = $from_year and nxt.simulation_year = $to_year
          and (nxt.current_age <> prev.current_age or nxt.current_tenure <> prev.current_tenure
               or nxt.level_id <> prev.level_id
               or nxt.current_compensation <> prev.full_year_equivalent_compensation
               or nxt.is_enrolled <> prev.is_enrolled or nxt.deferral_rate <> prev.deferral_rate
               or nxt.ever_opted_out <> prev.ever_opted_out)""",
    "age and tenure grow by one year": """
        select count(*) from fct_workforce_snapshot cur
        join fct_workforce_snapshot prev using (employee_id)
        where cur.simulation_year = $from_year and prev.simulation_year = $from_year - 1
          and prev.employment_status = 'active'
          and (cur.current_age <> prev.current_age + 1 or cur.current_tenure <> prev.current_tenure + 1)""",
}


def check_transition(con, from_year: int, to_year: int) -> tuple[int, tuple[str, ...]]:
    """Run every check; raise SimulationError naming each one that failed. Returns (carried, checks)."""
    present = con.execute("select count(*) from fct_workforce_snapshot where simulation_year = ?", [from_year]).fetchone()[0]
    if not present:
        raise SimulationError(f"Year {to_year} needs the results of {from_year}, which are missing from the database. "
                              f"Simulate {from_year} first (or run from the start year again).")
    values = {"from_year": from_year, "to_year": to_year}
    failed = []
    for name, sql in _CHECKS.items():
        # DuckDB refuses named parameters that a statement does not use.
        params = {k: v for k, v in values.items() if f"${k}" in sql}
        mismatches = con.execute(sql, params).fetchone()[0]
        if mismatches:
            failed.append(f"{name}: {mismatches} mismatches")
    if failed:
        raise SimulationError(f"Transition {from_year} -> {to_year} failed: " + "; ".join(failed))
    carried = con.execute("select count(*) from int_workforce_start where simulation_year = $to_year",
                          {"to_year": to_year}).fetchone()[0]
    return carried, tuple(_CHECKS)
