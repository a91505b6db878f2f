"""The targets table of issue 27: one row per target (and per engine where the target names one), met or missed."""

from __future__ import annotations

DETAIL = ["case", "engines", "wall_s", "cpu_s", "peak_rss_mb", "foundation_s", "one_time_s", "dbt_invocations",
          "invocations_per_year", "rows", "last_year_s", "end_headcounts"]
NOT_INSTALLED = "n/a (engine not installed)"


def verdict(ok: bool | None) -> str:
    return "not run" if ok is None else ("met" if ok else "**missed**")


def figures(row: dict) -> str:
    """Wall, CPU of the process tree, peak RSS of the tree; the engines that ran the years when not only one."""
    ran = "" if row["engines"] == [row["engine"]] else f" (years run by {', '.join(row['engines'])})"
    return f"{row['wall_s']} s wall, {row['cpu_s']} CPU s, {row['peak_rss_mb']:,} MB{ran}"


def targets(rows: list[dict], floors: list[dict], wanted: list[str], installed: set[str], opts) -> list[dict]:
    warm = {(r["engine"], r["employees"]): r for r in rows if r["plan"] == "on" and not r["tag"] and r["years"] == 5}
    floor = {f["employees"]: f for f in floors}
    top = next((e for e in wanted if e in installed), None)
    out: list[dict] = []

    def add(case, engine, measured, target, ok):
        out.append({"target": case, "engine": engine or "—", "measured": measured, "target value": target,
                    "verdict": verdict(ok) if measured != NOT_INSTALLED else NOT_INSTALLED})

    for engine in wanted:
        row, base = warm.get((engine, 100_000)), floor.get(100_000)
        target = "<= 12 s and <= 2.2x the plain-DuckDB floor of the same run"
        if engine not in installed:
            add("100K x 5, end to end through the CLI, warm", engine, NOT_INSTALLED, target, None)
        elif row and base:
            ratio, cpu_ratio = round(row["wall_s"] / base["floor_s"], 2), round(row["cpu_s"] / base["floor_cpu_s"], 2)
            add("100K x 5, end to end through the CLI, warm", engine,
                f"{figures(row)}; floor {base['floor_s']} s wall, {base['floor_cpu_s']} CPU s: {ratio}x wall, "
                f"{cpu_ratio}x CPU", target, row["wall_s"] <= 12 and ratio <= 2.2)
        else:
            add("100K x 5, end to end through the CLI, warm", engine, "—", target, None)
    for engine in wanted:
        row = warm.get((engine, 10_000))
        measured = NOT_INSTALLED if engine not in installed else (figures(row) if row else "—")
        add("10K x 5, end to end, warm", engine, measured, "<= 6 s", row["wall_s"] <= 6 if row else None)
    big = warm.get((top, 1_000_000))
    add("1M x 5", top, f"{figures(big)}; floor {floor[1_000_000]['floor_s']} s" if big else "— (--with-1m)",
        "<= 75 s, peak RSS <= 3 GB", big["wall_s"] <= 75 and big["peak_rss_mb"] <= 3072 if big else None)
    out.append(cold_target(rows, warm, top))
    out.append(ndt_target(rows, warm, top))
    out.append(legacy_target(rows, warm, wanted))
    return out


def cold_target(rows: list[dict], warm: dict, top: str | None) -> dict:
    cold = next((r for r in rows if r["tag"] == "cold"), None)
    hot = warm.get((top, 10_000))
    target = "<= 1.3x the warm run + the one-time compile"
    if not (cold and hot):
        return {"target": "cold first run (empty cache), 10K x 5", "engine": top or "—", "measured": "—",
                "target value": target, "verdict": verdict(None)}
    limit = round(1.3 * hot["wall_s"] + cold["one_time_s"], 2)
    return {"target": "cold first run (empty cache), 10K x 5", "engine": top,
            "measured": f"{figures(cold)}; warm {hot['wall_s']} s, one-time parse/compile {cold['one_time_s']} s: "
                        f"limit {limit} s", "target value": target, "verdict": verdict(cold["wall_s"] <= limit)}


def ndt_target(rows: list[dict], warm: dict, top: str | None) -> dict:
    """Judged on CPU seconds (the machine is shared: CPU moves less with the other users' load); wall shown."""
    ndt = next((r for r in rows if r["plan"] == "ndt"), None)
    off = warm.get((top, ndt["employees"])) if ndt else None
    target = "<= +10 % over NDT off (CPU s; wall shown)"
    if not (ndt and off):
        return {"target": "NDT on", "engine": top or "—", "measured": "—", "target value": target,
                "verdict": verdict(None)}
    cpu, wall = ndt["cpu_s"] / off["cpu_s"] - 1, ndt["wall_s"] / off["wall_s"] - 1
    return {"target": f"NDT on, {ndt['employees']:,} x 5", "engine": top,
            "measured": f"CPU {ndt['cpu_s']} vs {off['cpu_s']} s: {cpu:+.1%}; wall {ndt['wall_s']} vs "
                        f"{off['wall_s']} s: {wall:+.1%}", "target value": target, "verdict": verdict(cpu <= 0.10)}


def legacy_target(rows: list[dict], warm: dict, wanted: list[str]) -> dict:
    """Legacy's wall per simulated year against the fastest engine's 10K x 5 warm run, per year."""
    legacy = next((r for r in rows if r["engine"] == "legacy" and r["tag"] == "pair"), None)
    fastest = min((r for (e, size), r in warm.items() if size == 10_000 and e != "legacy"),
                  key=lambda r: r["wall_s"], default=None)
    target = ">= 10x slower per year than the fastest engine; identical tables"
    if not (legacy and fastest):
        return {"target": "legacy", "engine": "legacy", "measured": "—", "target value": target,
                "verdict": verdict(None)}
    ratio = round((legacy["wall_s"] / legacy["years"]) / (fastest["wall_s"] / fastest["years"]), 1)
    cpu_ratio = round((legacy["cpu_s"] / legacy["years"]) / (fastest["cpu_s"] / fastest["years"]), 1)
    same = legacy.get("identical_to_optimized")
    return {"target": f"legacy, {legacy['employees']:,} x {legacy['years']}", "engine": "legacy",
            "measured": f"{legacy['wall_s']} s = {ratio}x per year of {fastest['engine']} 10K x 5 "
                        f"({fastest['wall_s']} s); CPU {legacy['cpu_s']} s = {cpu_ratio}x per year; tables {'identical' if same else 'DIFFERENT'} to optimized",
            "target value": target, "verdict": verdict(ratio >= 10 and bool(same))}
