"""``planwise diff A.duckdb B.duckdb``: what changed between two result databases, year by year.

For every headline metric both databases hold (``outputs.headline``) and every year both simulated:
A's value, B's value, B − A and the change in percent of A. Then the configurations (the ``config_json``
of the run that produced each database's results) compared key by key.

Comparing two projections only makes sense when they start from the same workforce, so the censuses
are compared first and a difference is refused unless ``allow_different_census``. A census is identified
by its content: the sha256 of the rows the run loaded (``raw.census``, in a fixed order, over the columns
both databases have), so the same census read from a CSV or a Parquet file, or from another folder, is
the same census. Without ``raw.census`` the file hash the run recorded (``census_sha256``) is used, then
the recorded path. Both databases are opened read-only.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from planwise_core.database.runlog import year_span
from planwise_core.errors import PlanwiseError, option
from planwise_core.outputs import bridge as cost_bridge
from planwise_core.outputs import headline as hl
from planwise_core.outputs.ndt import format_ndt_differences, ndt_differences, ndt_rows
from planwise_core.outputs.provenance import census_columns, census_identity, flatten, results_run, run_provenance
from planwise_core.outputs.results import open_results

ENGINE_SECTION = "orchestration"  # how the engines run: never changes results


class CensusMismatchError(PlanwiseError):
    """The two databases were simulated from different (or unidentifiable) censuses."""


def config_differences(first: dict | None, second: dict | None) -> list[dict]:
    """Every key whose value differs (or that only one side has), sorted; ``affects_results`` is false for the
    engine settings (``orchestration.*``)."""
    a, b = flatten(first or {}), flatten(second or {})
    missing = object()
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, missing), b.get(key, missing)
        if va != vb:
            out.append({"key": key, "first": None if va is missing else va, "second": None if vb is missing else vb,
                        "in_first": va is not missing, "in_second": vb is not missing,
                        "affects_results": key.split(".")[0].split("[")[0] != ENGINE_SECTION})
    return out


def _census_verdict(first: dict, second: dict) -> tuple[bool | None, str]:
    for key, basis in (("content_sha256", "content"), ("file_sha256", "file"), ("path", "path")):
        if first.get(key) and second.get(key):
            return first[key] == second[key], basis
    return None, "unknown"


def _side(database: Path, run: dict | None, years: list[int], census: dict) -> dict:
    run = run or {}
    return {"database": str(database), "run_id": run.get("run_id"), "years": years,
            "seed": (run.get("config") or {}).get("random_seed"), "census": census}


def diff_databases(first: Path | str, second: Path | str, *, allow_different_census: bool = False) -> dict:
    """The differences of ``second`` against ``first`` (see the module docstring for the shape)."""
    first, second = Path(first), Path(second)
    with open_results(first) as con_a, open_results(second) as con_b:
        columns = sorted(set(census_columns(con_a)) & set(census_columns(con_b)))
        census = {"first": census_identity(con_a, columns), "second": census_identity(con_b, columns)}
        same, basis = _census_verdict(census["first"], census["second"])
        if not same and not allow_different_census:
            raise CensusMismatchError(_census_message(first, second, census, same, basis))
        runs = results_run(con_a), results_run(con_b)
        tables = [(run_provenance(c) or {}).get("assumptions") for c in (con_a, con_b)]
        metrics_a, metrics_b = hl.available(con_a), hl.available(con_b)
        shared = [m for m in metrics_a if m in metrics_b]
        values_a, values_b = hl.headline(con_a, shared), hl.headline(con_b, shared)
        bridges = cost_bridge.between(cost_bridge.cost_states(con_a), cost_bridge.cost_states(con_b))
        ndt = ndt_differences(ndt_rows(con_a), ndt_rows(con_b))
    years = sorted(set(values_a) & set(values_b))
    metrics = []
    for m in shared:
        rows = []
        for year in years:
            va, vb = values_a[year][m.key], values_b[year][m.key]
            delta, pct = hl.change(va, vb)
            rows.append({"year": year, "first": va, "second": vb, "delta": delta, "pct_change": pct})
        metrics.append({"key": m.key, "label": m.label, "unit": m.unit, "years": rows})
    return {
        "first": _side(first, runs[0], sorted(values_a), census["first"]),
        "second": _side(second, runs[1], sorted(values_b), census["second"]),
        "census": {"same": same, "basis": basis, "columns": columns},
        "years": years,
        "only_in_first": sorted(set(values_a) - set(values_b)),
        "only_in_second": sorted(set(values_b) - set(values_a)),
        "metrics": metrics,
        "metrics_only_in_first": [m.key for m in metrics_a if m not in metrics_b],
        "metrics_only_in_second": [m.key for m in metrics_b if m not in metrics_a],
        "cost_bridge": bridges,
        "config": config_differences((runs[0] or {}).get("config"), (runs[1] or {}).get("config")),
        "ndt": ndt,
        "assumptions": assumption_differences(*tables),
        "planwise_version": {"first": (runs[0] or {}).get("planwise_version"),
                             "second": (runs[1] or {}).get("planwise_version")},
    }


def assumption_differences(first: dict | None, second: dict | None) -> dict:
    """The parameter tables whose hash differs between the two runs (every run records them)."""
    first, second = first or {}, second or {}
    tables = []
    for name in sorted(set(first) | set(second)):
        a, b = first.get(name) or {}, second.get(name) or {}
        if a.get("sha256") != b.get("sha256"):
            tables.append({"table": name, "first": a.get("sha256"), "second": b.get("sha256"),
                           "first_source": a.get("source"), "second_source": b.get("source")})
    return {"tables": tables}


def _census_message(first: Path, second: Path, census: dict, same: bool | None, basis: str) -> str:
    a, b = census["first"], census["second"]
    if same is None:
        return (f"Cannot tell whether {first} and {second} were simulated from the same census (neither the loaded "
                f"census nor its file is recorded in both): pass {option('allow_different_census')} to compare them anyway.")
    how = {"content": "content_sha256", "file": "file_sha256", "path": "path"}[basis]
    detail = f"{a['path']}, {how} {str(a[how])[:12]}; {b['path']}, {how} {str(b[how])[:12]}"
    return (f"{first} and {second} were simulated from different censuses ({detail}): their differences would mix "
            "the change of census with the change of scenario. Compare runs of the same census, or pass "
            f"{option('allow_different_census')} to compare them anyway.")


# --------------------------------------------------------------------------- text and JSON


def _json_default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return str(value)


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2, default=_json_default)


def format_diff(result: dict) -> str:
    a, b = result["first"], result["second"]
    lines = [f"A: {a['database']} (run {a['run_id']}, seed {a['seed']}, years {year_span(a['years'])})",
             f"B: {b['database']} (run {b['run_id']}, seed {b['seed']}, years {year_span(b['years'])})"]
    census = result["census"]
    verdict = {True: "same", False: "DIFFERENT (compared anyway: --allow-different-census)",
               None: "unknown (compared anyway: --allow-different-census)"}[census["same"]]
    lines.append(f"census: {verdict}, by {census['basis']}")
    for side, years in (("A", result["only_in_first"]), ("B", result["only_in_second"])):
        if years:
            lines.append(f"years only in {side} (not compared): {year_span(years)}")
    versions = result["planwise_version"]
    if versions["first"] != versions["second"]:
        lines.append(f"planwise version: DIFFERENT, A {versions['first'] or 'not recorded'} -> "
                     f"B {versions['second'] or 'not recorded'} (results may differ for that reason alone)")
    tables = result["assumptions"]
    lines += ["", f"Parameter tables differences ({len(tables['tables'])}):"]
    lines += [f"  {t['table']}: sha256 {str(t['first'])[:12]} ({t['first_source']}) -> "
              f"{str(t['second'])[:12]} ({t['second_source']})" for t in tables["tables"]] or ["  none"]
    lines += ["", f"Configuration differences ({len(result['config'])}):"]
    for d in result["config"]:
        note = "" if d["affects_results"] else "  (engine setting: results do not depend on it)"
        show = [json.dumps(d[s], default=str) if d[f"in_{s}"] else "(absent)" for s in ("first", "second")]
        lines.append(f"  {d['key']}: {show[0]} -> {show[1]}{note}")
    if not result["config"]:
        lines.append("  none")
    header = ("metric", "year", "A", "B", "B - A", "change %")
    table = [[m["label"], str(r["year"]), hl.fmt_value(r["first"], m["unit"]), hl.fmt_value(r["second"], m["unit"]),
              hl.fmt_value(r["delta"], m["unit"], signed=True),
              "–" if r["pct_change"] is None else f"{r['pct_change']:+.2f}%"]
             for m in result["metrics"] for r in m["years"]]
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(header)]
    lines += ["", "Headline metrics (B against A):",
              "  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
              for row in table]
    for side, keys in (("A", result["metrics_only_in_first"]), ("B", result["metrics_only_in_second"])):
        if keys:
            lines.append(f"only in {side} (not compared): {', '.join(keys)}")
    lines += cost_bridge.format_bridge(result.get("cost_bridge") or [],
                                       "Net employer cost, B against A, by driver (docs/cost_bridge.md):")
    lines += format_ndt_differences(result.get("ndt") or [])
    return "\n".join(lines)

