"""fit_report.md and fit_report.html (docs/fit.md, "The fit report")."""

from __future__ import annotations

from pathlib import Path


def write_reports(build: Path, ctx, collected, manifest: dict) -> None:
    (build / "fit_report.md").write_text(markdown(ctx, collected, manifest), encoding="utf-8")
    from planwise_core.fit.report_html import render_html

    (build / "fit_report.html").write_text(render_html(ctx, collected, manifest), encoding="utf-8")


def _num(value, places: int = 6) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        return f"{value:.{places}f}"
    return str(value)


def markdown(ctx, collected, manifest: dict) -> str:
    lines = ["# Fit report", "", "## Inputs", "", "| as of | file | sha256 | rows | actives | terminated | dropped |",
             "|---|---|---|---|---|---|---|"]
    for s in manifest["inputs"]:
        lines.append(f"| {s['as_of_date']} | {Path(s['file']).name} | {s['sha256'][:12]} | {s['rows']} | "
                     f"{s['actives']} | {s['terminated']} | {s['dropped']} |")
    lines += ["", f"Full-credibility standard: {_num(ctx.n_f, 2)} events; interval level {ctx.options.ci_level}.", "",
              "## What was published", "", "| parameter | published | base | basis | Z | note |",
              "|---|---|---|---|---|---|"]
    for key, p in collected.published.items():
        lines.append(f"| {key} | {_num(p['value'])} | {_num(p['base'])} | {p['basis']} | "
                     f"{_num(p['credibility'], 4)} | {p['note']} |")
    lines += ["", "## Cells", "", "| parameter | dimension | cell | exposure | events | crude | interval | Z | "
              "default | fitted | published |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in collected.cells:
        lines.append(f"| {c['parameter']} | {c['dimension']} | {c['cell']} | {_num(c['exposure'], 2)} | "
                     f"{_num(c['events'], 1)} | {_num(c['crude_rate'])} | {_num(c['ci_low'])}–{_num(c['ci_high'])} | "
                     f"{_num(c['credibility'], 4)} | {_num(c['default_rate'])} | {_num(c['fitted_rate'])} | "
                     f"{_num(c['published_value'])} |")
    lines += _years(collected)
    lines += hire_calendar_lines(collected.extra.get("hire_calendar"))
    lines += ["", "## Data quality and warnings", ""]
    lines += [f"- **{w['code']}** ({w['count']}): {w['message']}" + (f" — first ids: {', '.join(w['ids'])}"
                                                                        if w["ids"] else "")
              for w in collected.warnings] or ["- none"]
    return "\n".join(lines) + "\n"


def hire_calendar_rows(calendar: dict | None) -> list[dict]:
    """One row per twelfth of the study year that has hires: hires, hire-year leavers, share, weight."""
    if not calendar or not calendar.get("strata"):
        return []
    return [{"slice": s["slice"], "hires": s["hires"], "leavers": s["leavers"],
             "share": _num(s["leavers"] / s["hires"]), "weight": f"{s['twelfths']}/12"} for s in calendar["strata"]]


def hire_calendar_lines(calendar: dict | None) -> list[str]:
    """The hire calendar (docs/fit.md, "New-hire terminations"): when the hires came and who left in the year."""
    rows = hire_calendar_rows(calendar)
    if not rows:
        return []
    lines = ["", "## Hire calendar", "",
             f"{calendar['hires']} hires, mean hire day {_num(calendar['mean_hire_day'], 1)} of the study year; "
             f"hire-year share standardised to a uniform calendar {_num(calendar['standardized_share'])} (published "
             f"basis), direct share {_num(calendar['direct_share'])}, "
             f"force view h(mu) {_num(calendar['force_share'])}.",
             "", "| twelfth | hires | hire-year leavers | share | weight |", "|---|---|---|---|---|"]
    lines += [f"| {r['slice']} | {r['hires']} | {r['leavers']} | {r['share']} | {r['weight']} |" for r in rows]
    return lines


def _years(collected) -> list[str]:
    """Each study year: counts, t and its A/E against the published t, promotions, growth (docs/fit.md)."""
    columns = ("k", "start_actives", "leavers", "t", "ae_t", "hires", "hire_leavers", "promotions", "actives_end",
               "growth", "participation", "voluntary_persons", "voluntary_enrolled")
    lines = ["", "## By study year", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for k in sorted(collected.years):
        year = collected.years[k]
        lines.append("| " + " | ".join(_num(year.get(c)) if isinstance(year.get(c), float) else str(year.get(c, ""))
                                       for c in columns) + " |")
    return lines
