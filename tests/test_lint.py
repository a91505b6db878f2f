"""`make lint`'s SQL configuration (`.sqlfluff`, docs/testing.md "Linting"): every rule left out says why.

Running sqlfluff itself takes about a minute of CPU (the dbt templater compiles every model), so the lint
runs in `make lint` (CI), not here."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sqlfluff_config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".sqlfluff")
    return parser


def test_every_excluded_rule_has_its_reason_in_a_comment():
    excluded = [r.strip() for r in sqlfluff_config()["sqlfluff"]["exclude_rules"].split(",")]
    text = (ROOT / ".sqlfluff").read_text()
    # A reason line: "# LT02 layout.indent: why" (two rules may share one: "# ST03 a.b, ST11 c.d: why").
    reasons = [line for line in text.splitlines() if re.match(r"# [A-Z]{2}\d{2} [a-z]+\.[a-z_.]+[:,]", line)]
    explained = {code for line in reasons for code in re.findall(r"([A-Z]{2}\d{2}) [a-z]+\.[a-z_.]+", line)}
    assert len(excluded) >= 1
    assert [rule for rule in excluded if rule not in explained] == []


def test_the_linter_compiles_the_packaged_dbt_project_with_duckdb():
    config = sqlfluff_config()
    assert config["sqlfluff"]["templater"] == "dbt"
    assert config["sqlfluff"]["dialect"] == "duckdb"
    project = ROOT / config["sqlfluff:templater:dbt"]["project_dir"]
    assert (project / "dbt_project.yml").is_file() and (project / "profiles.yml").is_file()
    # dbt's parse cache must not land in the package directory (package data takes dbt_project/**/*.sql); dbt
    # resolves the path from the project folder.
    target = (project / config["sqlfluff:templater:dbt"]["target_path"]).resolve()
    assert not target.is_relative_to(ROOT / "planwise_core") and target.is_relative_to(ROOT)
