"""What an analyst looks at before simulating: the census as the model's baseline will see it.

Two entry points share one aggregation: ``profile_census`` reads a census file (validated and loaded
exactly as a run loads it) and the built-in parameter tables; ``baseline_profile`` reads a run
database's ``int_baseline_workforce`` and staging tables, for the report. For the same census and
census date both give the same numbers (tests/test_census_profile.py).
"""

from __future__ import annotations


from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import attrs
import duckdb

from planwise_core.census.load import load_census
from planwise_core.database import runlog
from planwise_core.database.sql import table_exists
from planwise_core.census.sql import sql_literal
from planwise_core.assumptions.spec import DEFAULTS_DIR
from planwise_core.database.runlog import recorded_json

PERCENTILES = (Decimal("0.10"), Decimal("0.25"), Decimal("0.50"), Decimal("0.75"), Decimal("0.90"))
CENT = Decimal("0.01")


@attrs.frozen
class Relations:
    """Where the aggregation reads: the baseline and the band and level tables."""

    baseline: str = "int_baseline_workforce"
    age_bands: str = "stg_age_bands"
    tenure_bands: str = "stg_tenure_bands"
    job_levels: str = "stg_job_levels"


@attrs.frozen
class LevelProfile:
    level_id: int
    level_name: str
    actives: int
    payroll: Decimal  # sum of the annual salary rates
    mean_pay: Decimal | None
    percentiles: dict[str, Decimal]  # "p10" .. "p90": linear interpolation, rounded half up to the cent


@attrs.frozen
class CensusProfile:
    census_date: date | None
    source: str
    actives: int
    age_bands: dict[str, int]  # band -> actives, in the band table's order
    tenure_bands: dict[str, int]
    levels: tuple[LevelProfile, ...]
    enrolled: int
    deferral_rates: dict[Decimal, int]  # deferral rate of enrolled actives -> how many
    rows: int | None = None  # census rows, terminated ones included (file profiles only)
    warnings: tuple[str, ...] = ()
    dropped: int = 0  # invalid rows left out (on_invalid_rows: drop), not profiled
    ignored_columns: tuple[str, ...] = ()  # the file's columns that are not census columns (file profiles only)
    mapped_columns: tuple[tuple[str, str], ...] = ()  # (census column, the file's header read for it)

    @property
    def participation_pct(self) -> Decimal | None:
        return _ratio(100 * self.enrolled, self.actives, CENT)

    @property
    def average_deferral_rate(self) -> Decimal | None:
        total = sum((rate * count for rate, count in self.deferral_rates.items()), Decimal(0))
        return _ratio(total, self.enrolled, Decimal("0.000001"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: numbers as floats (exact in this object), dates as ISO text."""
        return _plain({
            "source": self.source, "census_date": self.census_date, "rows": self.rows, "dropped": self.dropped,
            "actives": self.actives,
            "age_bands": self.age_bands, "tenure_bands": self.tenure_bands,
            "levels": [attrs.asdict(level) for level in self.levels],
            "enrolled": self.enrolled, "participation_pct": self.participation_pct,
            "average_deferral_rate": self.average_deferral_rate,
            "deferral_rates": [{"rate": rate, "enrolled": count} for rate, count in self.deferral_rates.items()],
            "warnings": list(self.warnings), "ignored_columns": list(self.ignored_columns),
            "mapped_columns": dict(self.mapped_columns),
        })


def profile_census(path: str | Path, census_date: date, tables_dir: Path | None = None, **census_options
                   ) -> CensusProfile:
    """Validate and load ``path`` as a run would, then profile its actives at ``census_date``.

    ``census_options`` are those of a run (``census.load.census_options(config)``: ``on_invalid_rows``,
    ``capacity``). Raises CensusError (every problem of the file) when a run would refuse the census.
    """
    tables = Path(tables_dir or DEFAULTS_DIR)
    con = duckdb.connect()
    try:
        summary = load_census(con, path, census_date, **census_options)
        relations = Relations("profile_baseline", "profile_age_bands", "profile_tenure_bands", "profile_job_levels")
        _stage_parameter_tables(con, tables, relations)
        con.execute(f"CREATE TEMP TABLE {relations.baseline} AS {_baseline_sql(census_date, relations)}")
        profile = _aggregate(con, relations, census_date, str(path))
    finally:
        con.close()
    # The validator's warnings (suspicious rows a run still simulates, docs/domain.md Census); a summary without
    # them has none to show.
    warnings = tuple(getattr(summary, "warnings", ()))
    return attrs.evolve(profile, rows=summary.rows, warnings=warnings, dropped=summary.dropped,
                        ignored_columns=summary.extra_columns, mapped_columns=summary.mapped_columns)


def baseline_profile(con: duckdb.DuckDBPyConnection, census_date: date | None = None,
                     source: str = "int_baseline_workforce") -> CensusProfile:
    """The same profile from a run database's foundation tables (read-only connections are fine)."""
    return _aggregate(con, Relations(), census_date, source)


def report_profile(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The run report's baseline section: ``baseline_profile`` of a run database as ``planwise census profile
    --json`` prints it, at the census date of the run that wrote it; None without a baseline."""
    if not table_exists(con, "int_baseline_workforce"):
        return None
    census_date, source = None, "int_baseline_workforce"
    run = runlog.results_run(con)  # the run whose results these are
    if run is not None and run.get("config"):
        simulation = run["config"].get("simulation", {})
        census_date = (date.fromisoformat(simulation["census_date"]) if simulation.get("census_date")
                       else date(int(simulation["start_year"]) - 1, 12, 31))
    if run is not None and run.get("census_path"):
        source = Path(run["census_path"]).name  # the census file's name, not a model's
    profile = baseline_profile(con, census_date, source)
    loaded = con.execute("select summary_json, run_id from raw.census_load").fetchone() if _has_load_record(con) \
        else None
    if loaded is not None:  # the file's rows, dropped rows and warnings, as the load recorded them
        record = recorded_json(loaded[0], "raw.census_load", "summary_json", loaded[1]) or {}
        profile = attrs.evolve(profile, rows=record.get("rows"), dropped=record.get("dropped") or 0,
                               warnings=tuple(record.get("warnings") or ()),
                               ignored_columns=tuple(record.get("extra_columns") or ()),
                               mapped_columns=tuple((record.get("mapped_columns") or {}).items()))
    return profile.to_dict()


def _has_load_record(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, "census_load", schema="raw")


def _stage_parameter_tables(con: duckdb.DuckDBPyConnection, tables: Path, relations: Relations) -> None:
    """The built-in band and level tables, typed as planwise_core.assumptions declares them."""
    def read(name: str) -> str:
        return f"read_csv({sql_literal(tables / f'{name}.csv')}, header = true, all_varchar = true)"

    con.execute(f"""CREATE TEMP TABLE {relations.age_bands} AS SELECT age_band_id::INTEGER AS age_band_id, age_band,
                    min_age::INTEGER AS min_age, max_age::INTEGER AS max_age FROM {read('age_bands')}""")
    con.execute(f"""CREATE TEMP TABLE {relations.tenure_bands} AS SELECT tenure_band_id::INTEGER AS tenure_band_id,
                    tenure_band, min_tenure::INTEGER AS min_tenure, max_tenure::INTEGER AS max_tenure
                    FROM {read('tenure_bands')}""")
    con.execute(f"""CREATE TEMP TABLE {relations.job_levels} AS SELECT level_id::INTEGER AS level_id, level_name,
                    min_salary::DECIMAL(18, 2) AS min_salary, max_salary::DECIMAL(18, 2) AS max_salary
                    FROM {read('job_levels')}""")


def _completed_years(start: str, on: str) -> str:
    return (f"(year({on}) - year({start}) - CASE WHEN month({on}) * 100 + day({on}) "
            f"< month({start}) * 100 + day({start}) THEN 1 ELSE 0 END)")


def _baseline_sql(census_date: date, relations: Relations) -> str:
    """int_baseline_workforce's rules: actives at the census date, level from the census or the salary band."""
    on = f"DATE '{census_date.isoformat()}'"
    return f"""
    WITH actives AS (
        SELECT *, {_completed_years('employee_birth_date', on)} AS current_age,
               {_completed_years('employee_hire_date', on)} AS current_tenure
        FROM raw.census
        WHERE employee_termination_date IS NULL OR employee_termination_date > {on}
    )
    SELECT actives.employee_id, coalesce(actives.level_id, levels.level_id) AS level_id,
           actives.employee_gross_compensation AS current_compensation,
           ages.age_band, tenures.tenure_band,
           actives.employee_deferral_rate > 0 AS is_enrolled, actives.employee_deferral_rate AS deferral_rate
    FROM actives
    LEFT JOIN {relations.job_levels} AS levels
        ON actives.employee_gross_compensation >= levels.min_salary
       AND (levels.max_salary IS NULL OR actives.employee_gross_compensation < levels.max_salary)
    LEFT JOIN {relations.age_bands} AS ages
        ON actives.current_age >= ages.min_age AND actives.current_age < ages.max_age
    LEFT JOIN {relations.tenure_bands} AS tenures
        ON actives.current_tenure >= tenures.min_tenure AND actives.current_tenure < tenures.max_tenure
    """


def deferral_buckets(rates: dict) -> list[tuple[str, int]]:
    """Counts by deferral rate grouped by whole percentage point, [k %, k+1 %), in order: a census with
    thousands of distinct rates prints a few dozen rows."""
    buckets: dict[int, int] = {}
    for rate, count in rates.items():
        point = int(Decimal(str(rate)) * 100 // 1)
        buckets[point] = buckets.get(point, 0) + count
    return [(f"{k}–{k + 1} %", n) for k, n in sorted(buckets.items())]


def _aggregate(con, relations: Relations, census_date: date | None, source: str) -> CensusProfile:
    base = relations.baseline
    deferral = dict(con.execute(f"""SELECT deferral_rate, count(*) FROM {base} WHERE is_enrolled
                                    GROUP BY 1 ORDER BY 1""").fetchall())
    return CensusProfile(
        census_date=census_date, source=source,
        actives=con.execute(f"SELECT count(*) FROM {base}").fetchone()[0],
        age_bands=_band_counts(con, base, relations.age_bands, "age_band"),
        tenure_bands=_band_counts(con, base, relations.tenure_bands, "tenure_band"),
        levels=_levels(con, relations), enrolled=sum(deferral.values()), deferral_rates=deferral)


def _band_counts(con, base: str, bands: str, band: str) -> dict[str, int]:
    """Actives per band of the band table, empty bands included; anyone outside every band under '(none)'."""
    counts = dict(con.execute(f"""
        SELECT b.{band}, count(x.{band}) FROM {bands} AS b LEFT JOIN {base} AS x USING ({band})
        GROUP BY b.{band}_id, b.{band} ORDER BY b.{band}_id""").fetchall())
    outside = con.execute(f"SELECT count(*) FROM {base} WHERE {band} IS NULL").fetchone()[0]
    return counts | ({"(none)": outside} if outside else {})


def _levels(con, relations: Relations) -> tuple[LevelProfile, ...]:
    totals = con.execute(f"""
        SELECT l.level_id, l.level_name, count(x.level_id), coalesce(sum(x.current_compensation), 0)
        FROM {relations.job_levels} AS l LEFT JOIN {relations.baseline} AS x USING (level_id)
        GROUP BY ALL ORDER BY l.level_id""").fetchall()
    percentiles = _percentiles(con, relations.baseline)
    return tuple(LevelProfile(level_id=level, level_name=name, actives=count, payroll=Decimal(payroll),
                              mean_pay=_ratio(Decimal(payroll), count, CENT),
                              percentiles=percentiles.get(level, {}))
                 for level, name, count, payroll in totals)


def _percentiles(con, base: str) -> dict[int, dict[str, Decimal]]:
    """Per level: value at position h = (n - 1) p of the sorted salaries, interpolated (Excel PERCENTILE.INC,
    DuckDB quantile_cont), in exact decimals and rounded half up to the cent, which quantile_cont does not do."""
    wanted = ", ".join(f"({p})" for p in PERCENTILES)
    found = con.execute(f"""
        WITH sorted AS (
            SELECT level_id, list(current_compensation ORDER BY current_compensation) AS pays
            FROM {base} GROUP BY level_id
        ), positions AS (
            SELECT *, CAST(floor(h) AS BIGINT) + 1 AS low, CAST(ceil(h) AS BIGINT) + 1 AS high
            FROM (SELECT sorted.*, p.p, (len(pays) - 1) * p.p AS h FROM sorted CROSS JOIN (VALUES {wanted}) AS p(p))
        )
        SELECT level_id, p, pays[low] + (pays[high] - pays[low]) * (h - (low - 1))
        FROM positions
        ORDER BY 1, 2""").fetchall()
    result: dict[int, dict[str, Decimal]] = {}
    for level, p, value in found:
        key = f"p{int(Decimal(p) * 100)}"
        result.setdefault(level, {})[key] = Decimal(value).quantize(CENT, ROUND_HALF_UP)
    return result


def _ratio(numerator: Decimal | int, denominator: int, quantum: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(quantum, ROUND_HALF_UP)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(_plain(k)) if isinstance(k, Decimal) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def format_profile(profile: CensusProfile) -> str:
    """The profile as plain-text tables, one section per question."""
    when = f" as of {profile.census_date.isoformat()}" if profile.census_date else ""
    lines = [f"Census {profile.source}{when}"]
    if profile.rows is not None:
        left_out = profile.rows - profile.dropped - profile.actives
        dropped = f"; {profile.dropped} invalid rows dropped, not profiled" if profile.dropped else ""
        lines.append(f"{profile.rows} rows, {profile.actives} actives ({left_out} terminated on or before the "
                     f"census date are left out{dropped})")
    for title, counts in (("age band", profile.age_bands), ("tenure band (years)", profile.tenure_bands)):
        lines += ["", f"Actives by {title}"]
        lines += _table(["band", "actives", "share"],
                        [[band, str(n), _pct(n, profile.actives)] for band, n in counts.items()])
    lines += ["", "Actives and annual pay by level (percentiles interpolated, to the cent)"]
    lines += _table(["level", "name", "actives", "p10", "p25", "median", "p75", "p90", "mean", "payroll"],
                    [[str(lv.level_id), lv.level_name, str(lv.actives),
                      *(_money(lv.percentiles.get(k)) for k in ("p10", "p25", "p50", "p75", "p90")),
                      _money(lv.mean_pay), _money(lv.payroll)] for lv in profile.levels], text_columns=2)
    average = profile.average_deferral_rate
    lines += ["", f"Participation: {profile.enrolled} of {profile.actives} actives enrolled "
                  f"({_pct(profile.enrolled, profile.actives)}), average deferral rate "
                  f"{'-' if average is None else f'{average * 100:.2f} %'}"]
    lines += _table(["deferral rate", "enrolled", "share"],
                    [[label, str(n), _pct(n, profile.enrolled)] for label, n in deferral_buckets(profile.deferral_rates)])
    if profile.rows is not None:  # a file's profile: which of its columns were read, and which were not
        lines += ["", "Columns read under another name: " + (", ".join(
            f"{c} <- {h!r}" for c, h in profile.mapped_columns) or "none")]
        lines += [f"Columns ignored (not census columns): {', '.join(profile.ignored_columns) or 'none'}"]
    lines += ["", f"Validation warnings: {len(profile.warnings) or 'none'}"]
    lines += [f"  - {warning}" for warning in profile.warnings]
    return "\n".join(lines)


def _table(headers: list[str], body: list[list[str]], text_columns: int = 1) -> list[str]:
    """Aligned rows: the first `text_columns` columns to the left, numbers to the right."""
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    aligned = [[c.ljust(w) if i < text_columns else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
               for row in [headers, *body]]
    return ["  " + "  ".join(row).rstrip() for row in aligned]


def _pct(part: int, whole: int) -> str:
    share = _ratio(100 * part, whole, CENT)
    return "-" if share is None else f"{share} %"


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
