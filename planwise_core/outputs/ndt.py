"""The nondiscrimination results readers see (docs/ndt.md): per year and test, from the fct_ndt_summary mart.

Money stays exact: amounts are returned as strings of the stored DECIMAL (``"16850.00"``), ratios as strings
of the stored fraction, so JSON readers never see a float rounding of a cent.
"""

from __future__ import annotations

from decimal import Decimal

from planwise_core.database import table_exists
from planwise_core.errors import PlanwiseError

HEADLINE_TESTS = ("adp", "acp", "top_heavy")
COLUMNS = ("simulation_year", "test", "test_group", "status", "status_reason", "hce_count", "nhce_count", "hce_avg",
           "nhce_avg", "limit_pct", "applied_prong", "margin", "total_excess", "total_recharacterized",
           "total_distributed", "total_match_forfeited", "hces_corrected", "qnec_rate", "qnec_cost", "ratio",
           "is_top_heavy", "minimum_rate", "minimum_cost", "total_correction")


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def ndt_rows(con, year: int | None = None) -> list[dict]:
    """Every fct_ndt_summary row (of ``year``), in year, test, group order; empty when NDT was off."""
    if not table_exists(con, "fct_ndt_summary"):
        return []
    where, params = ("where simulation_year = ?", [year]) if year is not None else ("", [])
    cur = con.execute(f"select {', '.join(COLUMNS)} from fct_ndt_summary {where} "
                      "order by simulation_year, test, test_group", params)
    return [{k: _plain(v) for k, v in zip(COLUMNS, row)} for row in cur.fetchall()]


def ndt_results(con, year: int | None = None) -> list[dict]:
    """``ndt_rows``, or a PlanwiseError naming the fix when the database holds no NDT results (for that year)."""
    found = ndt_rows(con, year)
    if not found:
        what = f"for {year}" if year is not None else "in this database"
        raise PlanwiseError(f"no nondiscrimination results {what}: run with plan.ndt.enabled: true "
                            "(and plan.enabled: true), or pick a simulated year")
    return found


def year_lines(con) -> list[dict]:
    """One dict per year: ADP/ACP/top-heavy status (main group) and the year's total correction."""
    by_year: dict[int, dict] = {}
    for row in ndt_rows(con):
        line = by_year.setdefault(row["simulation_year"], {"year": row["simulation_year"], "total_correction": Decimal(0)})
        if row["test"] in HEADLINE_TESTS and row["test_group"] == "main":
            line[row["test"]] = row["status"]
        line["total_correction"] += Decimal(row["total_correction"] or 0)
    return [{**line, "total_correction": str(line["total_correction"])} for line in by_year.values()]


def format_year_lines(lines: list[dict]) -> str:
    return "\n".join(f"NDT {line['year']}: ADP {line.get('adp', '-')}, ACP {line.get('acp', '-')}, top-heavy "
                     f"{line.get('top_heavy', '-')}; total correction ${Decimal(line['total_correction']):,.2f}"
                     for line in lines)


def _pct(value) -> str:
    return "-" if value is None else f"{Decimal(value) * 100:.2f} %"


def _money(value) -> str:
    return "-" if value is None else f"${Decimal(value):,.2f}"


def format_ndt(rows: list[dict]) -> str:
    """`planwise ndt`: per year and ADP/ACP group the averages, limit, margin, correction and QNEC alternative;
    then coverage, 401(a)(4) and top-heavy."""
    out = []
    for row in rows:
        head = f"{row['simulation_year']} {row['test']:<22} {row['test_group']:<10} {row['status']:<14}"
        reason = f" ({row['status_reason']})" if row["status_reason"] else ""
        if row["test"] in ("adp", "acp") and row["status"] != "not_applicable":
            detail = (f" HCE {_pct(row['hce_avg'])} NHCE {_pct(row['nhce_avg'])} limit {_pct(row['limit_pct'])} "
                      f"margin {_pct(row['margin'])}; correction {_money(row['total_excess'])} "
                      f"(distributed {_money(row['total_distributed'])}, recharacterized "
                      f"{_money(row['total_recharacterized'])}, match forfeited {_money(row['total_match_forfeited'])},"
                      f" HCEs {row['hces_corrected']})")
            if row["qnec_rate"] is not None:
                detail += f"; QNEC alternative {_pct(row['qnec_rate'])} costs {_money(row['qnec_cost'])}"
        elif row["test"] == "top_heavy":
            detail = (f" key/total {row['ratio']}; minimum rate {_pct(row['minimum_rate'])}, cost "
                      f"{_money(row['minimum_cost'])}")
        else:
            detail = f" ratio {row['ratio'] if row['ratio'] is not None else '-'}"
        out.append(head + reason + detail)
    return "\n".join(out)


DIFF_TESTS = ("adp", "acp", "top_heavy")


def ndt_differences(first: list[dict], second: list[dict]) -> list[dict]:
    """Per year both tested and per ADP/ACP/top-heavy group: status and correction cost in A and B, B − A
    (exact strings), and the QNEC alternative's cost on each side."""
    a = {(r["simulation_year"], r["test"], r["test_group"]): r for r in first if r["test"] in DIFF_TESTS}
    b = {(r["simulation_year"], r["test"], r["test_group"]): r for r in second if r["test"] in DIFF_TESTS}
    out = []
    for key in sorted(set(a) & set(b)):
        ca, cb = Decimal(a[key]["total_correction"] or 0), Decimal(b[key]["total_correction"] or 0)
        out.append({"year": key[0], "test": key[1], "test_group": key[2],
                    "first_status": a[key]["status"], "second_status": b[key]["status"],
                    "first_correction": str(ca), "second_correction": str(cb), "delta_correction": str(cb - ca),
                    "first_qnec_cost": a[key]["qnec_cost"], "second_qnec_cost": b[key]["qnec_cost"]})
    return out


def format_ndt_differences(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = ["", "Nondiscrimination tests (B against A; correction = corrective excess or top-heavy minimum):"]
    for r in rows:
        qnec = "" if r["first_qnec_cost"] is None and r["second_qnec_cost"] is None else \
            f"; QNEC alternative {_money(r['first_qnec_cost'])} -> {_money(r['second_qnec_cost'])}"
        lines.append(f"  {r['year']} {r['test']} {r['test_group']}: {r['first_status']} -> {r['second_status']}; "
                     f"correction {_money(r['first_correction'])} -> {_money(r['second_correction'])} "
                     f"({'+' if Decimal(r['delta_correction']) >= 0 else '-'}{_money(abs(Decimal(r['delta_correction'])))})"
                     f"{qnec}")
    return lines
