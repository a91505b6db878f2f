"""The plan design in one sentence, from a run's configuration: what a reader must know before any number.

e.g. "match 100 % of the first 3 % and 50 % of the next 2 %, core 3 % with 6-year graded vesting,
escalation 1 %/yr to 10 %" (docs/outputs.md).
"""

from __future__ import annotations

from decimal import Decimal

VESTING = {"immediate": "immediate vesting", "cliff_2": "2-year cliff vesting", "cliff_3": "3-year cliff vesting",
           "graded_3": "3-year graded vesting", "graded_4": "4-year graded vesting",
           "graded_5": "5-year graded vesting", "graded_6": "6-year graded vesting", "custom": "custom vesting"}


def pct(value) -> str:
    """0.035 -> "3.5 %": the shortest exact percentage."""
    text = format(Decimal(str(value)) * 100, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " %"


def match_phrase(match: dict) -> str:
    if not match.get("enabled", True):
        return "no match"
    if match.get("graded_by", "none") != "none":
        return f"match graded by {match['graded_by']}"
    parts, low = [], 0.0
    for i, tier in enumerate(match.get("tiers") or ()):
        first = "the first" if i == 0 else "the next"
        parts.append(f"{pct(tier['rate'])} of {first} {pct(round(tier['deferral_max'] - low, 6))}")
        low = tier["deferral_max"]
    text = "match " + " and ".join(parts)
    vesting = (match.get("vesting") or {}).get("schedule", "immediate")
    return text + ("" if vesting == "immediate" else f" with {VESTING.get(vesting, vesting)}")


def core_phrase(core: dict) -> str | None:
    if not core.get("enabled"):
        return None
    bands = core.get("bands") or ()
    rate = pct(bands[0]["rate"]) if len(bands) == 1 else f"graded by {core.get('graded_by')}"
    vesting = (core.get("vesting") or {}).get("schedule", "graded_6")
    return f"core {rate} with {VESTING.get(vesting, vesting)}"


def plan_sentence(config: dict | None) -> str | None:
    """The sentence, or None without a recorded configuration; "no plan money layer" when the plan is off."""
    if not config:
        return None
    plan = config.get("plan") or {}
    if not plan.get("enabled", True):
        return "plan money layer off"
    parts = [match_phrase(plan.get("match") or {}), core_phrase(plan.get("core") or {})]
    esc = plan.get("auto_escalation") or {}
    if esc.get("enabled"):
        parts.append(f"escalation {pct(esc.get('increment', 0.01))}/yr to {pct(esc.get('cap', 0.10))}")
    return ", ".join(p for p in parts if p)
