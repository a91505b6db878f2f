"""The fit folder: built beside its final name, then renamed into place (docs/fit.md, "Output")."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import version
from pathlib import Path

import yaml

from planwise_core.assumptions import resolve_assumptions
from planwise_core.assumptions.spec import TABLES
from planwise_core.config import load_config
from planwise_core.fit.collect import CELL_COLUMNS
from planwise_core.fit.options import FitError, FitResult

FITTED_TABLES = ("age_bands", "tenure_bands", "job_levels", "promotion_hazard", "new_hire_age_distribution")
RATE_COLUMNS = {"crude_rate", "ci_low", "ci_high", "credibility", "default_rate", "fitted_rate", "published_value",
                "ci_level"}
CELLS = "cells"  # the cell-level CSVs: kept out of the top level, which `--assumptions FITDIR` reads
SIX_PLACES = {"exposure", "events", "observed_events", "expected_retirements", "attributed_events", "standard"}


def check_out(out, force: bool) -> Path:
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not force:
        raise FitError([f"{target} exists and is not empty: choose another {{option:out}} or add "
                        "{option:force}"], "output folder")
    return target


def fmt(value, places: int) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "inf" if value == float("inf") else ""
    return format(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def _csv(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") if not isinstance(row.get(c), float) else
                         fmt(row[c], 8 if c in RATE_COLUMNS else 6) for c in columns])
    return buffer.getvalue()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


def table_csv(name: str, table, changes: dict, extra: dict) -> str:
    spec = TABLES[name]
    columns = spec.column_names
    if name == "new_hire_age_distribution" and extra.get("new_hire_ages"):
        rows = [(age, share) for age, share in sorted(extra["new_hire_ages"].items())]
    else:
        rows = []
        for row in table.rows:
            key = 0 if name == "promotion_hazard" else str(row[1] if name in ("age_bands", "tenure_bands") else row[0])
            changed = changes.get(name, {}).get(key, {})
            rows.append(tuple(changed.get(c, v) for c, v in zip(columns, row)))
    lines = [",".join(columns)] + [",".join(_cell_text(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def _config(ctx, collected) -> dict:
    data = ctx.config.to_dict()
    for dotted, value in sorted(collected.config.items()):
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    sim = data["simulation"]
    last = ctx.history.dates[-1]
    horizon = sim["end_year"] - sim["start_year"]
    sim["census_date"] = last.isoformat()
    sim["start_year"] = last.year + 1
    sim["end_year"] = max(sim["end_year"], last.year + 1 + horizon)
    data["assumptions"] = {"folder": "."}  # the fit folder itself: its top level holds only parameter tables
    from planwise_core.config.plan import first_irs_year

    if sim["start_year"] < first_irs_year() and data.get("plan", {}).get("enabled", True):
        data["plan"]["enabled"] = False  # the plan layer needs published IRS limits for every simulated year
        collected.warn("W-PLANOFF", 1, f"simulated years start in {sim['start_year']}, before the first published "
                       f"IRS limits ({first_irs_year()}): the written configuration disables the plan layer")
    return data


def write_fit(target: Path, ctx, collected) -> FitResult:
    from planwise_core.fit.report import write_reports

    build = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(build, ignore_errors=True)
    (build / CELLS).mkdir(parents=True)
    try:
        replaced = set(ctx.aset.replaced())
        for name in sorted(set(FITTED_TABLES) | replaced):
            (build / f"{name}.csv").write_text(
                table_csv(name, ctx.aset.tables[name], collected.changes, collected.extra), encoding="utf-8")
        header = "# Fitted by planwise fit: the base configuration with the published rates (docs/fit.md).\n"
        (build / "config.yaml").write_text(header + yaml.safe_dump(_config(ctx, collected), sort_keys=False),
                                           encoding="utf-8")
        fitted = resolve_assumptions(load_config(build / "config.yaml"))
        _write_studies(build, collected)
        manifest = _manifest(build, ctx, collected, fitted)
        write_reports(build, ctx, collected, manifest)
        manifest["outputs"] = {p.relative_to(build).as_posix(): _sha(p) for p in sorted(build.rglob("*"))
                               if p.is_file()}
        (build / "fit_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _publish(build, target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    tables = {name: fitted.tables[name].sha256 for name in sorted(fitted.tables)}
    return FitResult(target, manifest["inputs"], collected.published, collected.not_fitted, collected.warnings,
                     tables, target / "config.yaml")


def _write_studies(build: Path, collected) -> None:
    ordered = sorted(collected.cells, key=lambda c: (c["parameter"], c["dimension"]))  # stable: band order kept
    (build / CELLS / "fit_cells.csv").write_text(_csv(CELL_COLUMNS, ordered), encoding="utf-8")
    columns = ("study", "age_band", "tenure_band", "level_id", "age", "exposure", "events", "expected_retirements",
               "attributed_events")
    (build / CELLS / "fit_exposure.csv").write_text(_csv(columns, collected.exposure), encoding="utf-8")
    years = [collected.years[k] for k in sorted(collected.years)]
    merit = sorted({c for y in years for c in y if c.startswith("merit_")}, key=lambda c: int(c[6:]))
    year_columns = ("k", "start_actives", "leavers", "vanished", "rehires", "retro", "stayers", "t", "ae_t", "hires",
                    "hire_leavers", "promotions", *merit, "actives_end", "growth", *ENROLLMENT_COLUMNS)
    (build / CELLS / "fit_years.csv").write_text(_csv(year_columns, years), encoding="utf-8")


ENROLLMENT_COLUMNS = ("participation", "voluntary_persons", "voluntary_enrolled")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(build: Path, ctx, collected, fitted) -> dict:
    base_config = json.dumps(ctx.config.to_dict(), sort_keys=True, default=str).encode()
    return {"planwise_version": version("planwise"),
            "inputs": [s.info for s in ctx.history.snapshots],
            "options": ctx.options.to_dict(),
            "base_config_sha256": hashlib.sha256(base_config).hexdigest(),
            "base_tables": {n: t.sha256 for n, t in sorted(ctx.aset.tables.items())},
            "published_tables": {n: {"sha256": t.sha256, "replaced": n in fitted.replaced()}
                                 for n, t in sorted(fitted.tables.items())},
            "published": collected.published, "not_fitted": collected.not_fitted,
            "warnings": collected.warnings}


def _publish(build: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(build, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
