"""The compare page's charts: one line chart per headline metric, a line per run, the baseline dark and
dashed (drawn last, so a run equal to it cannot hide it), drawn by the report's own SVG helpers."""

from __future__ import annotations

from planwise_core.report.charts import PALETTE, Figure, Line, line_chart

BASELINE_COLOR = "#1f2d3d"


def _number(value):
    return value if value is None or isinstance(value, (int, float)) else float(value)


def series(result: dict) -> dict:
    """{metric key: {label, unit, runs: {run id: {year: value}}}} from ``runs.compare``'s pairs."""
    out: dict = {}
    for pair in result["pairs"]:
        for metric in pair["metrics"]:
            entry = out.setdefault(metric["key"], {"label": metric["label"], "unit": metric["unit"], "runs": {}})
            entry["runs"].setdefault(result["baseline"], {}).update(
                {row["year"]: _number(row["first"]) for row in metric["years"]})
            entry["runs"][pair["run"]] = {row["year"]: _number(row["second"]) for row in metric["years"]}
    return out


def tick_labels(unit: str):
    def labels(ticks: list[float]) -> list[str]:
        top = max(abs(t) for t in ticks) or 1
        if unit == "money":
            scale, suffix = (1e6, "M") if top >= 1e6 else (1e3, "k") if top >= 1e3 else (1, "")
            return [f"${t / scale:,.2f}{suffix}" for t in ticks]
        if unit == "fraction":
            return [f"{t * 100:.2f}%" for t in ticks]
        return [f"{t:,.0f}" if top >= 100 else f"{t:,.1f}" for t in ticks]
    return labels


def compare_figures(result: dict) -> list[Figure]:
    from planwise_core.outputs.headline import fmt_value

    base, figures = result["baseline"], []
    for key, entry in series(result).items():
        years = sorted({y for by_year in entry["runs"].values() for y in by_year})
        colors = dict(zip([r for r in result["runs"] if r != base], PALETTE * len(result["runs"])))
        colors[base] = BASELINE_COLOR
        lines = []
        for run in [r for r in result["runs"] if r != base and r in entry["runs"]] + [base]:
            values = [entry["runs"][run].get(y) for y in years]
            tips = [f"{run}, {y}: {fmt_value(v, entry['unit'])}" for y, v in zip(years, values)]
            lines.append(Line(run, values, colors[run], tips, dashed=run == base, css="baseline" if run == base else ""))
        legend = [(f"{r} (baseline, dashed)" if r == base else r, colors[r]) for r in result["runs"]
                  if r in entry["runs"]]
        figures.append(Figure(f"compare-{key}", entry["label"], line_chart(years, lines,
                                                                            labels=tick_labels(entry["unit"])), legend))
    return figures
