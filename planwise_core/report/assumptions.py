"""The run report's baseline and assumptions: the census profile, and the parameter tables in force.

Baseline: the census profile is an input of the page (``census_profile``, a mapping such as
``planwise census profile --json`` prints). When none is given, :func:`default_census_profile` computes it
from the database (``census.profile.report_profile``); without a baseline the section says so.
Any JSON-like mapping renders: scalars as facts, lists of records and mappings of records as tables.

Assumptions: every parameter table the run loaded (the ``assumptions`` schema: level bands, hazards, band
multipliers, retirement rates, ...), and the IRS limits by year with their published/projected status
when the money layer built them (``int_irs_limits_by_year``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from planwise_core.census.profile import report_profile
from planwise_core.report.formatting import cell_text
from planwise_core.report.tables import Table

def _titles() -> dict[str, str]:
    from planwise_core.assumptions.spec import TABLES

    titles = {name: spec.title for name, spec in TABLES.items()}
    titles["int_irs_limits_by_year"] = ("IRS limits by simulated year (published, or projected by the rule of "
                                        "docs/plan_rules.md §1)")
    return titles


TABLE_TITLES = _titles()
TABLE_ORDER = tuple(TABLE_TITLES)


def parameter_tables(tables: list[tuple[str, list[str], list[tuple]]], recorded: dict | None = None
                ) -> list[tuple[str, str, Table]]:
    """(title, table name, Table) per parameter table, the main parameters first; with the run's ``recorded``
    tables ({name: {sha256, source, replaced}}) the title says where the table came from and its hash."""
    recorded = recorded or {}
    rank = {name: i for i, name in enumerate(TABLE_ORDER)}
    out = []
    for name, columns, rows in sorted(tables, key=lambda s: (rank.get(s[0], len(rank)), s[0])):
        cells = [["–" if v is None else cell_text(v) for v in row] for row in rows]
        numeric = {i for i in range(len(columns)) if rows and all(
            isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool) for r in rows if r[i] is not None)}
        title = TABLE_TITLES.get(name, name)
        if name in recorded:
            info = recorded[name]
            title += f" — {'REPLACED from ' + info['source'] if info.get('replaced') else 'built-in'}, " \
                     f"sha256 {info['sha256'][:12]}"
        out.append((title, name, Table(columns, cells, numeric)))
    return out


def default_census_profile(con) -> Mapping | None:
    """The census profile of the database's baseline (``census.profile.report_profile``), or None without one."""
    return report_profile(con)


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return "–" if value is None else cell_text(value)


def _records_table(records: list[Mapping]) -> Table:
    headers = list(dict.fromkeys(k for r in records for k in r))
    rows = [[_text(r.get(h)) for h in headers] for r in records]
    numeric = {i for i, h in enumerate(headers)
               if all(isinstance(r.get(h), (int, float)) and not isinstance(r.get(h), bool) for r in records
                      if r.get(h) is not None)}
    return Table(headers, rows, numeric)


def profile_blocks(profile: Mapping, title: str = "") -> tuple[list[tuple[str, str]], list[tuple[str, Table]]]:
    """(facts, titled tables) of a JSON-like census profile: PlanWise's own profile (``CensusProfile.to_dict()``)
    in its formatted tables, any other mapping (a profile given by the caller) generically."""
    from planwise_core.report.baseline import census_profile_blocks, is_census_profile

    if not title and is_census_profile(profile):
        return census_profile_blocks(profile)
    facts: list[tuple[str, str]] = []
    tables: list[tuple[str, Table]] = []
    for key, value in profile.items():
        name = f"{title} / {key}" if title else str(key)
        if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
            tables.append((name, _records_table([{str(key): k, **v} for k, v in value.items()])))
        elif isinstance(value, Mapping) and value and not any(isinstance(v, (Mapping, list)) for v in value.values()):
            tables.append((name, Table([str(key), "value"], [[str(k), _text(v)] for k, v in value.items()], {1})))
        elif isinstance(value, Mapping):
            more_facts, more_tables = profile_blocks(value, name)
            facts += more_facts
            tables += more_tables
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            tables.append((name, _records_table(value)))
        else:
            facts.append((name, _text(value)))
    return facts, tables
