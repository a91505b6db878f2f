"""The HTML fit report: tables and inline SVG charts of each band's experience rate and interval against the
default and the fitted rate (docs/fit.md, "The fit report")."""

from __future__ import annotations

import html
from pathlib import Path

from markupsafe import Markup

from planwise_core.fit.report import hire_calendar_rows
from planwise_core.report.page import render

STUDIES = (("termination", "Experienced terminations (force per person-year)"),
           ("promotion", "Promotions (probability)"), ("merit_total", "Merit: total raise by level"),
           ("new_hire_level", "Hiring: level shares"), ("new_hire_age", "Hiring: ages"))
WIDTH, ROW = 560, 22


def _n(value, places=6) -> str:
    return "" if value is None or value == "" else (f"{value:.{places}f}" if isinstance(value, float) else str(value))


def interval_chart(rows: list[dict]) -> Markup:
    """One line per band: the interval as a bar, the experience rate (dot), default (grey tick), fitted (tick)."""
    values = [v for r in rows for v in (r["ci_high"], r["default_rate"], r["fitted_rate"], r["crude_rate"])
              if isinstance(v, float)]
    top = max(values + [1e-9]) * 1.05
    x = lambda v: 110 + (WIDTH - 130) * (v / top)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{ROW * len(rows) + 20}" '
             'role="img" aria-label="experience rate with interval, default and fitted rate by band">']
    for i, r in enumerate(rows):
        y = 12 + i * ROW
        label = html.escape(f"{r['dimension']} {r['cell']}")
        parts.append(f'<text x="0" y="{y + 4}" font-size="11">{label}</text>')
        if isinstance(r["ci_low"], float) and isinstance(r["ci_high"], float):
            parts.append(f'<line x1="{x(r["ci_low"]):.1f}" y1="{y}" x2="{x(r["ci_high"]):.1f}" y2="{y}" '
                         'stroke="#8ab" stroke-width="6"/>')
        for key, colour, shape in (("default_rate", "#999", "tick"), ("fitted_rate", "#c40", "tick"),
                                   ("crude_rate", "#036", "dot")):
            v = r[key]
            if isinstance(v, float):
                parts.append(f'<circle cx="{x(v):.1f}" cy="{y}" r="3.5" fill="{colour}"/>' if shape == "dot" else
                             f'<line x1="{x(v):.1f}" y1="{y - 7}" x2="{x(v):.1f}" y2="{y + 7}" stroke="{colour}" '
                             'stroke-width="2"/>')
    parts.append(f'<text x="110" y="{ROW * len(rows) + 16}" font-size="10">dot: experience; bar: interval; '
                 'grey: default; orange: fitted</text></svg>')
    return Markup("".join(parts))


def _row(c: dict) -> dict:
    return {"dimension": c["dimension"], "cell": c["cell"], "exposure": _n(c["exposure"], 2),
            "events": _n(c["events"], 1), "crude": _n(c["crude_rate"]),
            "interval": f"{_n(c['ci_low'])}–{_n(c['ci_high'])}" if c["ci_low"] is not None else "",
            "z": _n(c["credibility"], 4), "default": _n(c["default_rate"]), "fitted": _n(c["fitted_rate"]),
            "published": _n(c["published_value"]), "note": c["note"] or ""}


def render_html(ctx, collected, manifest: dict) -> str:
    studies = []
    for sid, title in STUDIES:
        rows = [c for c in collected.cells if c["parameter"] == sid]
        if rows:
            charts = [{"caption": title, "svg": interval_chart(rows)}] if sid in ("termination", "promotion",
                                                                                   "merit_total") else []
            studies.append({"id": sid, "title": title, "rows": [_row(c) for c in rows], "charts": charts})
    overall = [c for c in collected.cells if c["dimension"] == "overall"]
    studies.append({"id": "overall", "title": "Rates (t, h, promotion base, raises, enrollment, growth)",
                    "rows": [_row(c) for c in overall], "charts": []})
    inputs = [{"as_of_date": s["as_of_date"], "name": Path(s["file"]).name, "sha": s["sha256"][:12],
               "rows": s["rows"], "actives": s["actives"], "terminated": s["terminated"], "dropped": s["dropped"],
               "columns": ", ".join(s["columns"])} for s in manifest["inputs"]]
    published = [{"key": k, "value": _n(p["value"]), "base": _n(p["base"]), "basis": p["basis"],
                  "z": _n(p["credibility"], 4), "note": p["note"]} for k, p in collected.published.items()]
    merit = sorted({c for y in collected.years.values() for c in y if c.startswith("merit_")}, key=lambda c: int(c[6:]))
    year_columns = ["k", "start_actives", "leavers", "vanished", "rehires", "stayers", "t", "ae_t", "hires",
                    "hire_leavers", "promotions", *merit, "actives_end", "growth", "participation",
                    "voluntary_persons", "voluntary_enrolled"]
    years = [[_n(collected.years[k].get(c)) for c in year_columns] for k in sorted(collected.years)]
    return render("fit_report.html", title="PlanWise fit report", subtitle=f"{len(inputs)} snapshots",
                  charts_total=sum(len(s["charts"]) for s in studies), inputs=inputs, published=published,
                  studies=studies, standard=_n(ctx.n_f, 2), level=ctx.options.ci_level, year_columns=year_columns,
                  years=years, warnings=collected.warnings, calendar=collected.extra.get("hire_calendar"),
                  calendar_rows=hire_calendar_rows(collected.extra.get("hire_calendar")))
