"""Linking consecutive snapshots (docs/fit.md, "Linking"): exposure arithmetic and the edge cases, on a small
hand-made history whose every outcome is written out below."""

from __future__ import annotations

from datetime import date

import pytest

from helpers.histories import write_snapshot
from planwise_core.assumptions import load_assumptions, resolve_assumptions
from planwise_core.config import PlanwiseConfig
from planwise_core.fit import FitError, fit_history
from planwise_core.fit.history import load_history, resolve_snapshots
from planwise_core.fit.linking import build_links

D0, D1 = date(2023, 12, 31), date(2024, 12, 31)
BASE = {"birth": "1980-05-05", "hire": "2015-01-01", "pay": "60000.00", "level": 1}


def person(pid, **over):
    return dict(BASE, id=pid, **over)


START = [person("S"), person("L"), person("V", birth="1970-01-01", hire="2001-01-01"), person("R"), person("T"),
         person("H"), person("P"), person("DM", level=3, pay="130000.00"), person("B"),
         person("Z", hire="2023-06-01"), person("F29", birth="1980-02-29", hire="2016-02-29"),
         person("OLD", term="2023-05-01")]
END = [person("S", pay="61000.00"), person("L", term="2024-04-01"), person("R", hire="2024-07-01"),
       person("T", term="2023-11-30"), person("H", hire="2014-06-01"), person("P", level=3, pay="70000.00"),
       person("DM", level=2, pay="131000.00"), person("B", pay="180000.00"), person("Z"),
       person("F29", pay="62000.00"), person("X", birth="1970-01-01", hire="2001-01-01"),
       person("N", hire="2024-12-31"), person("NL", hire="2024-10-01", term="2024-11-30")]
# start active -> (outcome, exposure in years)
EXPECTED = {"S": ("stayer", 1), "L": ("dated", 92 / 366), "V": ("vanished", 0.5), "R": ("rehire", 182 / 366),
            "T": ("retro", 0), "H": ("stayer", 1), "P": ("stayer", 1), "DM": ("stayer", 1), "B": ("stayer", 1),
            "Z": ("stayer", 1), "F29": ("stayer", 1)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("linking") / "h"
    write_snapshot(base, D0, START)
    write_snapshot(base, D1, END)
    return base


@pytest.fixture(scope="module")
def linked(folder):
    config = PlanwiseConfig()
    aset = resolve_assumptions(config)
    history = load_history(resolve_snapshots(folder), "refuse", None)
    load_assumptions(history.con, aset)
    build_links(history, 1.0, True)
    yield history.con
    history.con.close()


def test_exposure_arithmetic_and_outcomes(linked):
    rows = {r[0]: r[1:] for r in linked.execute("SELECT employee_id, outcome, half_days, L, age, tenure FROM link")
            .fetchall()}
    assert set(rows) == set(EXPECTED)  # OLD left before the year: not a start active
    for pid, (outcome, years) in EXPECTED.items():
        assert rows[pid][0] == outcome, pid
        assert rows[pid][1] / (2 * rows[pid][2]) == pytest.approx(years, abs=1e-12), pid
    total = sum(r[1] / (2 * r[2]) for r in rows.values())
    assert total <= len(rows)
    stayers = sum(r[0] == "stayer" for r in rows.values())
    leavers = sum(r[0] in ("dated", "vanished", "rehire") for r in rows.values())
    assert stayers + leavers + sum(r[0] == "retro" for r in rows.values()) == len(rows)
    assert rows["F29"][3:] == (43, 7)  # Feb 29: a completed year only from Mar 1 on (Dec 31: completed)
    assert rows["Z"][4] == 0


def test_hires_reappearances_and_id_changes(linked):
    hires = dict(linked.execute("SELECT employee_id, days FROM hires").fetchall())
    assert hires == {"R": 183, "N": 0, "NL": 60}  # the rehire's new spell is a hire; hired on the as-of day: 0
    assert linked.execute("SELECT employee_id FROM reappear").fetchall() == [("X",)]
    assert linked.execute("SELECT old_id, new_id FROM idchange").fetchall() == [("V", "X")]


def test_fit_reports_each_edge(folder, tmp_path):
    result = fit_history(folder, tmp_path / "fit")
    codes = {w["code"]: w for w in result.warnings}
    for code in ("W-VANISH", "W-REHIRE", "W-RETRO", "W-HIREDATE", "W-REAPPEAR", "W-IDCHANGE", "W-MULTIPROMO",
                 "W-DEMOTION", "W-PAYBREAK"):
        assert code in codes, code
    assert codes["W-IDCHANGE"]["ids"] == ["V -> X"]
    assert codes["W-PAYBREAK"]["ids"] == ["B"]


def test_every_problem_of_every_snapshot_at_once(tmp_path):
    write_snapshot(tmp_path / "h", D0, [person("A", birth="not a date")])
    write_snapshot(tmp_path / "h", D1, [person("A", pay="-5")])
    (tmp_path / "h" / "notes_2024-01-01_2025-01-01.csv").write_text("x\n")
    with pytest.raises(FitError) as info:
        fit_history(tmp_path / "h", tmp_path / "out")
    text = str(info.value)
    assert "notes_2024-01-01_2025-01-01.csv" in text
    with pytest.raises(FitError) as info:
        fit_history(None, tmp_path / "out", snapshots=[f"{D0}={tmp_path / 'h' / 'census_2023-12-31.csv'}",
                                                       f"{D1}={tmp_path / 'h' / 'census_2024-12-31.csv'}"])
    text = str(info.value)
    assert "census_2023-12-31.csv" in text and "census_2024-12-31.csv" in text
    assert not (tmp_path / "out").exists()


def test_dates_must_be_consecutive_years(tmp_path):
    for when in (D0, date(2025, 12, 31), date(2026, 6, 30)):
        write_snapshot(tmp_path / "h", when, [person("A")])
    with pytest.raises(FitError) as info:
        fit_history(tmp_path / "h", tmp_path / "out")
    assert "same month and day" in str(info.value) and "not one calendar year apart" in str(info.value)
