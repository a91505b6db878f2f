"""The configuration schema as data (planwise_core.config.describe): complete, documented, and what the validator
really enforces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from planwise_core.config import DEFAULT_CONFIG_PATH, check_configuration
from planwise_core.config.describe import config_schema
from planwise_core.config.descriptions import DESCRIPTIONS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
SCHEMA = config_schema()
LEAVES = {k: v for k, v in SCHEMA.items() if v["type"] not in ("section", "records") and "[]" not in k}


def _shipped() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def _with(key: str, value) -> dict:
    config = _shipped()
    *parents, leaf = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return config


def test_every_key_has_a_description_and_no_description_is_stale():
    assert set(SCHEMA) == set(DESCRIPTIONS)
    assert [k for k, v in SCHEMA.items() if len(v["description"]) < 10] == []


def _documented() -> set[str]:
    """Every key path written in backticks in the first cell of a docs/configuration.md table row, with
    ``a.{b, c}`` expanded."""
    found = set()
    for cell in re.findall(r"^\| `([^`]+)`", DOCS.read_text(encoding="utf-8"), flags=re.M):
        braces = re.search(r"\{([^}]+)\}", cell)
        parts = [p.strip() for p in braces[1].split(",")] if braces else [""]
        found |= {cell[:braces.start()] + p + cell[braces.end():] if braces else cell for p in parts}
    return found


def test_docs_configuration_lists_every_key():
    documented, text = _documented(), DOCS.read_text(encoding="utf-8")
    missing = [k for k in LEAVES if k not in documented
               and not any(d.endswith(".*") and k.startswith(d[:-1]) for d in documented)]
    assert missing == []
    for key, entry in SCHEMA.items():  # a list's record fields are named in the list's row
        if entry["type"] == "records" and "[]" not in key:
            row = next(line for line in text.splitlines() if line.startswith(f"| `{key}`"))
            assert all(field in row for field in entry["fields"]), (key, entry["fields"])


def test_schema_is_json_and_its_defaults_are_the_shipped_file():
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA
    shipped = _shipped()
    for key, entry in LEAVES.items():
        node = shipped
        for part in key.split("."):
            node = node[part] if isinstance(node, dict) and part in node else KeyError
        if node is not KeyError:  # the file writes some sections inline or leaves them out
            expected = {str(k): v for k, v in node.items()} if isinstance(node, dict) else node
            assert entry["default"] == expected, key


def test_a_few_entries_by_hand():
    assert {k: SCHEMA["workforce.new_hire_termination_rate"][k] for k in
            ("type", "default", "min", "max", "min_exclusive", "max_exclusive", "by_year", "required")} == {
        "type": "number", "default": 0.25, "min": 0, "max": 1, "min_exclusive": False, "max_exclusive": True,
        "by_year": True, "required": False}
    assert SCHEMA["plan.match.vesting.schedule"]["choices"] == [
        "immediate", "cliff_2", "cliff_3", "graded_3", "graded_4", "graded_5", "graded_6", "custom"]
    assert SCHEMA["plan.core.vesting.schedule"]["default"] == "graded_6"
    assert SCHEMA["simulation.census_date"] | {"description": ""} == {
        "key": "simulation.census_date", "type": "date", "default": None, "required": False, "nullable": True,
        "description": ""}
    assert SCHEMA["plan.match.tiers"]["fields"] == ["deferral_max", "rate"]
    assert SCHEMA["plan.match.tiers[].rate"]["max"] == 10
    assert SCHEMA["simulation"]["required"] and SCHEMA["random_seed"]["required"]


def _out_of_range(entry) -> list:
    values = []
    if entry.get("min") is not None:
        values.append(entry["min"] if entry["min_exclusive"] else entry["min"] - 1)
    if entry.get("max") is not None:
        values.append(entry["max"] if entry["max_exclusive"] else entry["max"] + 1)
    return values


@pytest.mark.parametrize("key", [k for k, v in LEAVES.items() if "min" in v or "choices" in v])
def test_the_validator_refuses_what_the_schema_excludes(key):
    entry = LEAVES[key]
    bad = _out_of_range(entry) + (["not-a-choice"] if "choices" in entry else [])
    assert bad
    for value in bad:
        errors = check_configuration(_with(key, value)).items
        assert any(p.key == key and p.severity == "error" for p in errors), (key, value, errors)
