"""The scorecard (docs/fit.md, "Backtest: scorecard"): actuals.csv, scorecard.csv/.json/.md and an HTML page with
a fan chart of each headline metric against the actual value, both arms side by side."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
from importlib.metadata import version
from pathlib import Path

from markupsafe import Markup

from planwise_core.fit.backtest.metrics import family, period_order
from planwise_core.fit.backtest.scoring import HEADLINE, MATERIALITY, score, skill
from planwise_core.fileio import atomic_write_text

COLUMNS = ("metric", "family", "period", "arm", "actual", "p10", "p50", "p90", "mean", "min", "max", "inside80",
           "error", "pct_error", "crps", "rel_crps", "status", "conditioned")


def score_all(actuals: dict, simulated: dict, materiality: dict, conditioned: set) -> tuple[list[dict], list]:
    rows, not_observable = [], []
    for year in sorted(actuals, key=period_order):
        for metric in sorted(actuals[year]):
            actual = actuals[year][metric]
            if actual is None:
                not_observable.append({"metric": metric, "period": year, "reason": "not in the snapshots"})
                continue
            by_arm = {}
            for arm in ("fitted", "built-in"):
                values = [v[year][metric] for name, v in sorted(simulated.items()) if name.startswith(arm + "-")]
                values = [float(x) for x in values if x is not None]
                if not values:
                    continue
                m = materiality.get(family(metric), MATERIALITY[family(metric)])
                row = {"metric": metric, "family": family(metric), "period": year, "arm": arm,
                       "actual": float(actual), **score(values, float(actual), m),
                       "conditioned": metric in conditioned, "values": sorted(values)}
                by_arm[arm] = row
                rows.append(row)
            if len(by_arm) == 2:
                by_arm["fitted"]["skill"] = skill(by_arm["fitted"]["crps"], by_arm["built-in"]["crps"])
    return rows, not_observable


def _csv(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else (f"{row[c]:.6f}" if isinstance(row[c], float) else row[c])
                         for c in columns])
    return buffer.getvalue()


def write_scorecard(out: Path, payload: dict, rows: list[dict], actuals: dict) -> dict:
    actual_rows = [{"metric": m, "period": y, "value": v, "observable": v is not None,
                    "reason": "" if v is not None else "not in the snapshots"}
                   for y in sorted(actuals, key=period_order) for m, v in sorted(actuals[y].items())]
    atomic_write_text(out / "actuals.csv", _csv(("metric", "period", "value", "observable", "reason"), actual_rows))
    atomic_write_text(out / "scorecard.csv", _csv(COLUMNS, rows))
    payload = dict(payload, schema_version="1.0", planwise_version=version("planwise"),
                   metrics=[{k: v for k, v in r.items()} for r in rows])
    canonical = json.dumps(payload, sort_keys=True, default=str)
    payload["fingerprint"] = hashlib.sha256(canonical.encode()).hexdigest()
    atomic_write_text(out / "scorecard.json", json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    atomic_write_text(out / "scorecard.md", markdown(payload, rows))
    atomic_write_text(out / "scorecard.html", page(payload, rows))
    return payload


def headline_line(summary: dict) -> str:
    cov = summary["coverage80"]
    rel = summary["mean_rel_crps"]
    skill_text = "n/a" if summary["median_skill"] is None else f"{summary['median_skill']:.3f}"
    return (f"verdict {summary['verdict']}: {summary['counts']['PASS']} PASS, {summary['counts']['WARN']} WARN, "
            f"{summary['counts']['FAIL']} FAIL of {summary['scored']} scored; coverage80 "
            f"{'n/a' if cov is None else f'{cov:.2f}'}; mean rel CRPS fitted "
            f"{_f(rel.get('fitted'))} vs built-in {_f(rel.get('built-in'))}; median skill {skill_text}")


def _f(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def markdown(payload: dict, rows: list[dict]) -> str:
    s = payload["summary"]
    lines = ["# Backtest scorecard", "", f"**{headline_line(s)}**", "", "Reasons:", *[f"- {r}" for r in s["reasons"]],
             "", "## Headline metrics", "", "| metric | period | arm | actual | P10 | P50 | P90 | CRPS | status |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [_md_row(r) for r in rows if r["metric"] in HEADLINE]
    lines += ["", "## Every metric", "", "| metric | period | arm | actual | P10 | P50 | P90 | CRPS | status |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [_md_row(r) for r in rows]
    lines += ["", "## Not scored", "", *[f"- {m['metric']} ({m['period']}): {m['reason']}"
                                         for m in payload["not_observable"]],
              *[f"- {m}: conditioned (the actual headcount was imposed)" for m in payload["conditioned"]],
              "- not propagated: multipliers, distributions and hiring ranges (no parameter draws)",
              "", "## Fit warnings", "", *[f"- {w['code']} ({w['count']}): {w['message']}" for w in payload["warnings"]]]
    return "\n".join(lines) + "\n"


def _md_row(r: dict) -> str:
    return (f"| {r['metric']} | {r['period']} | {r['arm']} | {r['actual']:.4f} | {r['p10']:.4f} | {r['p50']:.4f} | "
            f"{r['p90']:.4f} | {r['crps']:.4f} | {r['status']}{' (conditioned)' if r['conditioned'] else ''} |")


def fan_chart(fitted: dict | None, builtin: dict | None) -> Markup:
    """P10-P90 bars with P50 tick for both arms, the actual as a line across."""
    arms = [(n, r) for n, r in (("fitted", fitted), ("built-in", builtin)) if r]
    values = [v for _, r in arms for v in (r["p10"], r["p90"], r["actual"], r["min"], r["max"])]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    y = lambda v: 90 - 80 * (v - low) / span  # noqa: E731
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="220" height="100" role="img">']
    for i, (name, r) in enumerate(arms):
        x = 40 + i * 90
        parts.append(f'<rect x="{x}" y="{y(r["p90"]):.1f}" width="40" height="{max(1, y(r["p10"]) - y(r["p90"])):.1f}"'
                     f' fill="{"#8ab" if name == "fitted" else "#ccc"}"/>')
        parts.append(f'<line x1="{x}" x2="{x + 40}" y1="{y(r["p50"]):.1f}" y2="{y(r["p50"]):.1f}" stroke="#036"/>')
        parts.append(f'<text x="{x}" y="99" font-size="9">{html.escape(name)}</text>')
    actual = arms[0][1]["actual"]
    parts.append(f'<line x1="30" x2="210" y1="{y(actual):.1f}" y2="{y(actual):.1f}" stroke="#c40" '
                 'stroke-dasharray="4 2"/></svg>')
    return Markup("".join(parts))


def page(payload: dict, rows: list[dict]) -> str:
    from planwise_core.report.page import render

    charts = []
    for metric in HEADLINE:
        for period in sorted({r["period"] for r in rows if r["metric"] == metric}, key=period_order):
            pick = {r["arm"]: r for r in rows if r["metric"] == metric and r["period"] == period}
            charts.append({"metric": metric, "period": period, "svg": fan_chart(pick.get("fitted"),
                                                                               pick.get("built-in")),
                           "status": pick["fitted"]["status"] if "fitted" in pick else ""})
    return render("backtest_report.html", title="PlanWise backtest", subtitle=headline_line(payload["summary"]),
                  charts_total=len(charts), charts=charts, summary=payload["summary"], rows=rows,
                  not_observable=payload["not_observable"], warnings=payload["warnings"])
