"""The repository stands alone: every rule the code cites is a heading of a page under docs/.

Code, SQL, yml, tests and docs cite the workforce rules as `docs/domain.md` (section N, step N) and the money rules
as `docs/plan_rules.md` (section N.N, rule RN); other pages are cited by name. This test fails when a citation names
a page that is not in the repository, or a step, section or rule number that has no heading on its page.
"""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TEXT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".html", ".toml", ".txt", ".csv", ".cfg"}
# Page names that only ever existed as specifications outside the repository.
SPEC_NAMES = ("domain", "dc_plan", "ndt", "fit", "serve", "house_review", "perf_findings", "probe_findings")
CITATION = re.compile(r"(?<![\w.-])((?:[\w./-]*/)?(?:%s)\.md)" % "|".join(SPEC_NAMES))
PAGE_REF = re.compile(r"(?<![\w/])(?:docs/)?(domain|plan_rules)\.md\b(?:\)|`)?(?=([^\n]{0,60}))")
STEP = re.compile(r"^,? *steps? (\d+)(?:\s*(?:-|–|and)\s*(\d+))?")
SECTION = re.compile(r"^,? *(?:§|section )?(\d+(?:\.\d+)?)\b")
RULE = re.compile(r"\bR(\d{1,2}[a-z]?)\b")


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if Path(n).suffix in TEXT_SUFFIXES and (ROOT / n).is_file()]


def headings(page: str) -> list[str]:
    return [line.lstrip("#").strip() for line in (DOCS / page).read_text().splitlines() if line.startswith("#")]


def has_step(page_headings: list[str], n: str) -> bool:
    return any(h.startswith(f"Step {n}:") for h in page_headings)


def has_section(page_headings: list[str], number: str) -> bool:
    return any(re.match(rf"{re.escape(number)}\.?\s", h) for h in page_headings)


def has_rule(page_headings: list[str], rule: str) -> bool:
    return any(h.startswith(f"R{rule}:") for h in page_headings)


def citation_problems(path: Path, text: str) -> list[str]:
    problems = []
    where = path.relative_to(ROOT)
    for match in CITATION.finditer(text):
        cited = match.group(1)
        if "shared/" in cited:
            problems.append(f"{where}: cites {cited}, outside the repository")
        elif not (DOCS / Path(cited).name).is_file() and not (ROOT / cited).is_file():
            problems.append(f"{where}: cites {cited}, which is not in the repository")
    for match in PAGE_REF.finditer(text):
        page, tail = f"{match.group(1)}.md", match.group(2)
        found = headings(page)
        step, section = STEP.match(tail), SECTION.match(tail)
        if step:
            for n in range(int(step.group(1)), int(step.group(2) or step.group(1)) + 1):
                if not has_step(found, str(n)):
                    problems.append(f"{where}: cites {page} step {n}, which has no heading")
        elif section and not has_section(found, section.group(1)):
            problems.append(f"{where}: cites {page} section {section.group(1)}, which has no heading")
        if page == "plan_rules.md":
            for rule in RULE.findall(tail.split(";")[0]):
                if not has_rule(found, rule):
                    problems.append(f"{where}: cites plan_rules.md R{rule}, which has no heading")
    return problems


def test_every_cited_page_step_section_and_rule_exists_in_docs():
    problems = [p for path in tracked_files() if path != Path(__file__).resolve()
                for p in citation_problems(path, path.read_text(errors="replace"))]
    assert problems == []


MONEY_SOURCES = ("planwise_core/dbt_project/models/intermediate/money", "planwise_core/dbt_project/macros",
                 "planwise_core/dbt_project/models/intermediate/plan", "docs/plan_money.md")


def test_every_money_rule_number_the_sql_and_docs_name_has_its_heading():
    """The money SQL names rules by number alone (`R10 step 2`): each must be a heading of docs/plan_rules.md."""
    found = headings("plan_rules.md")
    cited = set()
    for path in tracked_files():
        if str(path.relative_to(ROOT)).startswith(MONEY_SOURCES) and path.suffix in {".sql", ".md"}:
            # Employee ids of unit-test fixtures (R65) are not rule numbers: only 1..14 and their lettered variants.
            cited |= {r for r in RULE.findall(path.read_text()) if int(re.match(r"\d+", r).group()) <= 14}
    assert cited, "the money SQL cites no rule: the pattern is wrong"
    assert sorted(r for r in cited if not has_rule(found, r)) == []


@pytest.mark.parametrize("page, expected", [
    ("domain.md", [f"Step {n}:" for n in range(1, 11)]),
    ("plan_rules.md", [f"R{n}:" for n in list(range(1, 15))] + ["R2a:"]),
])
def test_the_rule_pages_have_one_heading_per_step_and_rule(page, expected):
    found = headings(page)
    assert [e for e in expected if not any(h.startswith(e) for h in found)] == []


def test_the_checker_catches_a_missing_page_a_missing_step_and_a_missing_rule():
    # Built from parts, so that no tool grepping the repository for specification names finds them here.
    text = "see shared/" + "ndt.md; docs/domain.md step 12; docs/plan_rules.md R19; house" + "_review.md"
    problems = citation_problems(ROOT / "docs" / "x.md", text)
    assert len(problems) == 4, problems
