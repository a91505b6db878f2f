"""The report's baseline section: a census profile (``CensusProfile.to_dict()``, as ``planwise census profile
--json`` prints it) as facts and tables, formatted as the rest of the page (counts with separators, money to the
cent, percentages with two decimals)."""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from planwise_core.report.formatting import fmt_cents, fmt_int, fmt_pct2, fmt_rate, or_dash
from planwise_core.report.tables import Table

PERCENTILES = (("p10", "p10"), ("p25", "p25"), ("p50", "median"), ("p75", "p75"), ("p90", "p90"))
PROFILE_KEYS = {"actives", "age_bands", "tenure_bands", "levels"}


def is_census_profile(profile: Mapping) -> bool:
    return PROFILE_KEYS <= set(profile) and isinstance(profile["levels"], list)


def _share(count: int, total: int) -> str:
    return fmt_pct2(Decimal(100 * count) / total) if total else "–"


def census_profile_blocks(profile: Mapping) -> tuple[list[tuple[str, str]], list[tuple[str, Table]]]:
    """(facts, titled tables) of a census profile."""
    actives = profile["actives"]
    rows = profile.get("rows")
    dropped = profile.get("dropped") or 0
    facts = [("source", str(profile.get("source") or "–")), ("census date", str(profile.get("census_date") or "–")),
             ("rows in the file", or_dash(rows, fmt_int)),
             ("invalid rows dropped", fmt_int(dropped)),
             ("actives", fmt_int(actives)),
             ("enrolled", or_dash(profile.get("enrolled"), fmt_int)),
             ("participation (% of actives enrolled)", or_dash(profile.get("participation_pct"), fmt_pct2)),
             ("average deferral rate (enrolled)", or_dash(profile.get("average_deferral_rate"), fmt_rate)),
             ("validation warnings", fmt_int(len(profile.get("warnings") or ())))]
    tables = []
    for key, title in (("age_bands", "Actives by age band"), ("tenure_bands", "Actives by tenure band (years)")):
        bands = profile[key]
        tables.append((title, Table(["band", "actives", "share"],
                                    [[band, fmt_int(n), _share(n, actives)] for band, n in bands.items()], {1, 2})))
    levels = [[str(lv["level_id"]), str(lv.get("level_name") or ""), fmt_int(lv["actives"]),
               *(or_dash((lv.get("percentiles") or {}).get(key), fmt_cents) for key, _ in PERCENTILES),
               or_dash(lv.get("mean_pay"), fmt_cents), or_dash(lv.get("payroll"), fmt_cents)]
              for lv in profile["levels"]]
    tables.append(("Actives and annual pay by level (percentiles interpolated, to the cent)",
                   Table(["level", "name", "actives", *(label for _, label in PERCENTILES), "mean", "payroll"],
                         levels, set(range(2, 10)))))
    rates = profile.get("deferral_rates") or []
    if rates:
        from planwise_core.census.profile import deferral_buckets

        total = sum(x["enrolled"] for x in rates)
        buckets = deferral_buckets({r["rate"]: r["enrolled"] for r in rates})
        tables.append(("Deferral rates of enrolled actives (by whole percentage point)",
                       Table(["deferral rate", "enrolled", "share"],
                             [[label, fmt_int(n), _share(n, total)] for label, n in buckets], {1, 2})))
    warnings = profile.get("warnings") or []
    if warnings:
        tables.append(("Validation warnings (rows simulated as given)", Table(["warning"], [[w] for w in warnings])))
    return facts, tables
