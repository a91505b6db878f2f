"""The row rules of a census (docs/domain.md, Census): errors make a row unusable, warnings are simulated as given.

Each rule is a SQL condition over ``census_parsed`` (see sql.parsed_sql), so one pass checks a 1M-row file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from planwise_core.census.capacity import RATE_CEILING
from planwise_core.database.sql import literal

EARLIEST_DATE = date(1900, 1, 1)
HIGH_SALARY = 10_000_000
YOUNGEST_AGE, OLDEST_AGE, WORKING_AGE = 14, 100, 14


@attrs.frozen
class RowRule:
    column: str
    reason: str
    condition: str  # SQL over census_parsed; may use $cd (census date) and $max_salary
    fix: str
    needs: tuple[str, ...] = ()  # other columns the rule reads

    def applies(self, present: set[str]) -> bool:
        return self.column in present and all(c in present for c in self.needs)


def _levels_text(levels: tuple[int, ...]) -> str:
    if list(levels) == list(range(levels[0], levels[-1] + 1)):
        return f"from {levels[0]} to {levels[-1]}", f"{levels[0]}-{levels[-1]}"
    return f"one of {', '.join(map(str, levels))}", ", ".join(map(str, levels))


def error_rules(cd: date, max_salary: Decimal | None, capacity_text: str = "",
                levels: tuple[int, ...] = (1, 2, 3, 4, 5), date_text: str = "YYYY-MM-DD") -> list[RowRule]:
    """The census's error rules; ``levels`` are the job levels in force (the job_levels table), ``date_text``
    the date format read (census.date_format)."""
    levels_text, levels_short = _levels_text(tuple(sorted(levels)))
    date_fix = f"write dates as {date_text}" + ("" if date_text == "YYYY-MM-DD" else " (census.date_format)")
    rules = [
        RowRule("employee_id", "must not be empty", "s_id IS NULL", "give every row an employee id or remove it"),
        RowRule("employee_birth_date", f"must be a date {date_text}", "p_birth IS NULL", date_fix),
        RowRule("employee_hire_date", f"must be a date {date_text}", "p_hire IS NULL", date_fix),
        RowRule("employee_termination_date", f"must be empty or a date {date_text}",
                "s_term IS NOT NULL AND p_term IS NULL", date_fix + ", or leave it empty for actives"),
        RowRule("employee_birth_date", f"birth date is before {EARLIEST_DATE}", f"p_birth < DATE '{EARLIEST_DATE}'",
                "check the year"),
        RowRule("employee_hire_date", f"hire date is before {EARLIEST_DATE}", f"p_hire < DATE '{EARLIEST_DATE}'",
                "check the year"),
        # Not yet born on the census date: no age is defined (hired before birth is only a warning).
        RowRule("employee_birth_date", f"birth date is after the census date {cd}", "p_birth > $cd",
                "check the birth date"),
        RowRule("employee_gross_compensation", "must be a number of at least 0.01",
                "NOT coalesce(p_comp >= 0.01, false)", "fix the salary or remove the row; it is the annual salary "
                "rate, e.g. 65000.00, rounded half up to cents"),
        RowRule("employee_deferral_rate", "must be empty or a number from 0 to 1",
                "s_def IS NOT NULL AND NOT coalesce(p_def >= 0 AND p_def <= 1, false)",
                "write the rate as a fraction, e.g. 0.06 for 6 %"),
        RowRule("level_id", f"must be empty or an integer {levels_text}",
                f"s_level IS NOT NULL AND NOT coalesce(p_level IN ({', '.join(str(int(v)) for v in levels)}), false)",
                f"use levels {levels_short} (the job_levels table) or leave it empty to derive the level from "
                "the salary"),
        RowRule("employee_hire_date", f"hire date is after the census date {cd}", "p_hire > $cd",
                "correct the hire date; future hires do not belong in the census"),
        RowRule("employee_termination_date", "termination date is before the hire date", "p_term < p_hire",
                "check the hire and termination dates", ("employee_hire_date",)),
        *_plan_rules(),
    ]
    if max_salary is None:
        max_salary, capacity_text = RATE_CEILING, "the largest pay rate the simulation carries exactly"
    rules.append(RowRule(
        "employee_gross_compensation", f"salary above {max_salary:,.2f}, the most this configuration can "
        f"carry ({capacity_text})", "p_comp > $max_salary",
        "check the salary is an annual amount in currency units, or simulate fewer years"))
    return rules


def _plan_rules() -> list[RowRule]:
    """The optional columns of the plan's money layer."""
    balance = "write the opening employer balance in dollars, e.g. 1250.00, or leave it empty for 0"
    return [
        RowRule("employer_match_balance", "must be empty or a number >= 0",
                "s_mbal IS NOT NULL AND NOT coalesce(p_mbal >= 0 AND p_mbal < 1e15, false)", balance),
        RowRule("employer_core_balance", "must be empty or a number >= 0",
                "s_cbal IS NOT NULL AND NOT coalesce(p_cbal >= 0 AND p_cbal < 1e15, false)", balance),
        RowRule("auto_escalation_opt_out", "must be empty, true or false", "s_esc IS NOT NULL AND p_esc IS NULL",
                "write true or false (1/0, yes/no also work); empty means false"),
        RowRule("ownership_pct", "must be empty or a number from 0 to 1",
                "s_own IS NOT NULL AND NOT coalesce(p_own >= 0 AND p_own <= 1, false)",
                "write the share owned as a fraction, e.g. 0.05 for 5 % (attribution included), or leave it empty"),
        RowRule("is_officer", "must be empty, true or false", "s_off IS NOT NULL AND p_off IS NULL",
                "write true or false (1/0, yes/no also work); empty means false"),
        RowRule("employee_deferral_balance", "must be empty or a number >= 0",
                "s_dbal IS NOT NULL AND NOT coalesce(p_dbal >= 0 AND p_dbal < 1e15, false)",
                "write the elective-deferral account in dollars, e.g. 1250.00, or leave it empty for 0"),
    ]


def warning_rules() -> list[RowRule]:
    return [
        RowRule("employee_hire_date", "hired before birth", "p_hire < p_birth", "check the birth and hire dates",
                ("employee_birth_date",)),
        RowRule("employee_hire_date", f"hired before age {WORKING_AGE}",
                f"p_hire >= p_birth AND p_hire < p_birth + INTERVAL {WORKING_AGE} YEAR",
                "check the birth and hire dates", ("employee_birth_date",)),
        RowRule("employee_birth_date", f"under {YOUNGEST_AGE} at the census date",
                f"p_birth > $cd - INTERVAL {YOUNGEST_AGE} YEAR", "check the birth date"),
        RowRule("employee_birth_date", f"over {OLDEST_AGE} at the census date",
                f"p_birth <= $cd - INTERVAL {OLDEST_AGE + 1} YEAR", "check the birth date"),
        RowRule("employee_gross_compensation", f"salary over {HIGH_SALARY:,}", f"p_comp > {HIGH_SALARY}",
                "check it is an annual amount, not cents"),
    ]


def findings_sql(rules: list[RowRule], source: str) -> str:
    """(_rid, rule number, column, reason) for every row a rule flags, as one UNION ALL over ``source``."""
    parts = [f"SELECT _rid, {i} AS rule, '{r.column}' AS column_name, {literal(r.reason)} AS reason "
             f"FROM {source} WHERE {r.condition}" for i, r in enumerate(rules)]
    return " UNION ALL ".join(parts) if parts else \
        "SELECT NULL::BIGINT AS _rid, NULL::INTEGER AS rule, NULL AS column_name, NULL AS reason WHERE false"


def duplicate_ids_sql(source: str) -> str:
    """(_rid, id, rows sharing it) of every row whose id another row has too."""
    return f"""
        SELECT _rid, s_id, count(*) OVER (PARTITION BY s_id) AS shared
        FROM {source} WHERE s_id IS NOT NULL QUALIFY count(*) OVER (PARTITION BY s_id) > 1"""


