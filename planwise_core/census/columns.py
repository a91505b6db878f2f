"""The census's column names, the names HR systems give them, and the mapping that renames a file's columns.

A header that is not a census column but looks like one (``Termination Date``, ``DOB``, ``401k Deferral %``)
must never be ignored silently: that would simulate leavers as actives, or nobody as enrolled. One normalizer
and one synonym table (below, data only) recognise such headers; the validator then refuses the file, naming
the census column the header probably means and how to map it (docs/census.md, Column names).
"""

from __future__ import annotations

import difflib
import re

REQUIRED = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_gross_compensation")
OPTIONAL = ("employee_termination_date", "employee_deferral_rate", "level_id",
            # The plan's money layer (docs/census.md): opening employer balances and a permanent escalation opt-out.
            "employer_match_balance", "employer_core_balance", "auto_escalation_opt_out",
            # Nondiscrimination testing (docs/ndt.md): ownership, officers, the opening deferral balance.
            "ownership_pct", "is_officer", "employee_deferral_balance")
KNOWN = REQUIRED + OPTIONAL

# Normalized header (see normalize) -> the census column it stands for. Forms without a leading "employee"
# word: normalize() drops it, so "Employee Number", "EE Number" and "Emp No" all read "num".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "employee_id": (
        "id", "num", "identifier", "code", "key", "empid", "eeid", "emplid", "employeeid", "ssn", "ssn_last4",
        "social_security_num", "social_security", "ss_num", "tin", "tax_id", "national_id", "worker_id", "person_id",
        "personnel_num", "staff_id", "associate_id", "badge", "badge_num", "clock_num", "payroll_id", "payroll_num",
        "file_num", "hris_id", "worker_num", "participant_id"),
    "employee_birth_date": (
        "dob", "d_o_b", "birth", "birth_date", "birthdate", "birth_dt", "birthday", "date_of_birth", "born"),
    "employee_hire_date": (
        "hire", "hired", "hire_date", "hiredate", "hire_dt", "doh", "date_of_hire", "date_hired", "start_date",
        "startdate", "employment_start_date", "original_hire_date", "orig_hire_date", "latest_hire_date",
        "most_recent_hire_date", "rehire_date", "service_date", "seniority_date", "adjusted_service_date"),
    "employee_termination_date": (
        "term", "termination", "terminated", "term_date", "termdate", "term_dt", "termination_date",
        "termination_dt", "terminated_date", "terminated_on", "date_of_termination", "date_terminated",
        "separation_date", "sep_date", "date_of_separation", "end_date", "employment_end_date", "exit_date",
        "leave_date", "last_day", "last_day_worked"),
    "employee_gross_compensation": (
        "salary", "annual_salary", "base_salary", "annual_base_salary", "pay", "base_pay", "annual_pay",
        "annual_base_pay", "pay_rate", "annual_rate", "annual_pay_rate", "rate_of_pay", "comp", "compensation",
        "gross_comp", "gross_compensation", "annual_compensation", "base_comp", "base_compensation",
        "gross_pay", "wages", "annual_wages", "w2_wages", "earnings", "gross_earnings", "annual_earnings",
        "plan_compensation", "eligible_compensation"),
    "employee_deferral_rate": (
        "deferral", "deferral_rate", "deferral_pct", "def_rate", "def_pct", "deferral_election", "401k",
        "401k_pct", "401k_rate", "401k_deferral", "401k_deferral_pct", "401k_deferral_rate",
        "401k_contribution_pct", "401k_contribution_rate", "contribution_rate", "contribution_pct",
        "contrib_pct", "contrib_rate", "pretax_pct", "pre_tax_pct", "pretax_deferral_pct", "pre_tax_deferral_pct",
        "elective_deferral_pct", "elective_deferral_rate", "savings_rate", "savings_pct", "election_pct"),
    "level_id": (
        "level", "lvl", "job_level", "job_lvl", "grade", "job_grade", "job_level_grade", "level_grade",
        "grade_level", "pay_grade", "salary_grade", "band", "job_band", "pay_band", "career_level"),
    "employer_match_balance": (
        "match_balance", "er_match_balance", "match_account_balance", "matching_balance", "company_match_balance"),
    "employer_core_balance": (
        "core_balance", "er_core_balance", "nonelective_balance", "non_elective_balance",
        "profit_sharing_balance", "core_account_balance"),
    "auto_escalation_opt_out": (
        "escalation_opt_out", "auto_increase_opt_out", "auto_escalate_opt_out", "opt_out_auto_escalation",
        "opt_out_escalation", "aip_opt_out"),
}
_BY_NAME = {name: column for column, names in SYNONYMS.items() for name in names}
# Words normalize() rewrites, so each synonym is listed once.
_WORDS = {"percent": "pct", "percentage": "pct", "no": "num", "number": "num", "nbr": "num", "hash": "num"}
_LEADING = ("employee", "employees", "emp", "empl", "ee")


def normalize(header: str) -> str:
    """``'401(k) Deferral %'`` -> ``401k_deferral_pct``; ``'Employee #'`` -> ``num``; ``'Job Level/Grade'`` ->
    ``job_level_grade``: lower case, ``%`` and ``#`` as words, punctuation and spaces as ``_``, the synonyms'
    spelling of common words, and no leading "employee" word."""
    text = re.sub(r"401\s*\(?\s*k\s*\)?", "401k", header.strip().lower())
    text = text.replace("%", " pct ").replace("#", " hash ")
    words = [_WORDS.get(w, w) for w in re.split(r"[^0-9a-z]+", text) if w]
    if len(words) > 1 and words[0] in _LEADING:
        words = words[1:]
    return "_".join(words)


def probable_column(header: str) -> str | None:
    """The census column a header that is not one probably means (a synonym, a case or spacing variant, or a
    misspelling), else None (names, departments, cost centres... are simply not census columns)."""
    spelled = re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")
    if spelled in KNOWN:
        return spelled
    key = normalize(header)
    if key in _BY_NAME:
        return _BY_NAME[key]
    close = difflib.get_close_matches(spelled, KNOWN, n=1, cutoff=0.8)
    if close:
        return close[0]
    close = difflib.get_close_matches(key, list(_BY_NAME), n=1, cutoff=0.88) if len(key) > 4 else []
    return _BY_NAME[close[0]] if close else None


def mapping_problems(mapping: dict) -> list[tuple[str, str]]:
    """(sub-path, reason) of every problem of a ``census.columns`` mapping {census column: file header}."""
    problems = []
    for target, header in mapping.items():
        if target not in KNOWN:
            close = difflib.get_close_matches(str(target), KNOWN, n=1)
            hint = f"did you mean {close[0]}?" if close else f"the census columns are {', '.join(KNOWN)}"
            problems.append((f".{target}", f"not a census column ({hint})"))
        elif not isinstance(header, str) or not header.strip():
            problems.append((f".{target}", f"must be the header of a column of the file (got {header!r})"))
    headers: dict[str, list[str]] = {}
    for target, header in mapping.items():
        if isinstance(header, str):
            headers.setdefault(header, []).append(str(target))
    for header, targets in headers.items():
        if len(targets) > 1:
            problems.append(("", f"the header {header!r} is mapped to {' and '.join(targets)}; a file column can "
                                 "feed one census column only"))
    return problems
