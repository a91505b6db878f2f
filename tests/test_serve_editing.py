"""`planwise serve`: the parameter-table grid editor (each problem on its cell, without JavaScript), duplicating
a scenario, the installation's engines and built-in tables, list paging, and the compare page's charts
(docs/serve.md, "Pages" and "The API"). In process, with the quick fake worker."""

from __future__ import annotations

import pytest
import yaml

from helpers.serve import BEARER, ORIGIN, app_client, sign_in


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("editing") / "workspace"
    client, _gate = app_client(workspace)
    with client:
        assert client.post("/api/v1/scenarios", headers=BEARER, json={"name": "grid"}).status_code == 201
        yield client, workspace


def grid_fields(csv_text: str, csrf: str) -> dict:
    """The grid form as a browser without JavaScript posts it: one field per cell."""
    lines = [line.split(",") for line in csv_text.strip().splitlines()]
    fields = {"csrf_token": csrf, "columns": ",".join(lines[0]), "rows": str(len(lines))}  # + the blank row
    for r, row in enumerate(lines[1:]):
        fields.update({f"cell-{r}-{c}": value for c, value in enumerate(row)})
    return fields


def test_a_bad_cell_is_shown_on_its_cell_and_nothing_is_saved_until_fixed(api):
    client, workspace = api
    csrf = sign_in(client)
    text = client.get("/api/v1/scenarios/grid/tables/job_levels", headers=BEARER).text
    fields = grid_fields(text, csrf)
    header = fields["columns"].split(",")
    column = header.index("merit_rate")
    fields[f"cell-1-{column}"] = "abc"  # the second data row
    refused = client.post("/scenarios/grid/tables/job_levels", data=fields, headers={"Origin": ORIGIN})
    assert refused.status_code == 422
    cell = refused.text.split('data-cell="1.merit_rate"')[1].split("</td>")[0]
    assert 'aria-invalid="true"' in cell and "must be a number (got &#39;abc&#39;)" in cell
    assert refused.text.count('<td class="invalid') == 1  # no other cell is blamed
    assert 'class="invalid changed" data-cell="1.merit_rate"' in refused.text  # and it differs from built-in
    assert not (workspace / "scenarios" / "grid" / "tables" / "job_levels.csv").exists()
    fields[f"cell-1-{column}"] = "0.0310"
    fields[f"cell-{len(text.strip().splitlines()) - 1}-0"] = ""  # the blank row stays blank: left out
    saved = client.post("/scenarios/grid/tables/job_levels", data=fields, headers={"Origin": ORIGIN},
                        follow_redirects=False)
    assert saved.status_code == 303
    stored = (workspace / "scenarios" / "grid" / "tables" / "job_levels.csv").read_text().splitlines()
    assert stored[0] == text.splitlines()[0] and stored[2].split(",")[column] == "0.0310"
    assert len(stored) == len(text.strip().splitlines())
    page = client.get("/scenarios/grid/tables/job_levels").text
    assert 'value="0.0310"' in page and "aria-invalid" not in page
    assert page.count(' changed"') == 1 and 'class=" changed" data-cell="1.merit_rate"' in page


def test_a_scenario_is_duplicated_with_its_tables_and_names_are_checked(api):
    client, workspace = api
    copy = client.post("/api/v1/scenarios/grid/duplicate", headers=BEARER, json={"new_name": "grid-copy"})
    assert copy.status_code == 201 and copy.headers["etag"] == '"1"', copy.text
    assert copy.json()["name"] == "grid-copy" and copy.json()["tables"]["job_levels"]["source"] == "replaced"
    assert (workspace / "scenarios" / "grid-copy" / "tables" / "job_levels.csv").read_bytes() == \
        (workspace / "scenarios" / "grid" / "tables" / "job_levels.csv").read_bytes()
    assert yaml.safe_load((workspace / "scenarios" / "grid-copy" / "scenario.yaml").read_text())["name"] == "grid-copy"
    assert client.post("/api/v1/scenarios/grid/duplicate", headers=BEARER,
                       json={"new_name": "grid-copy"}).status_code == 409
    assert client.post("/api/v1/scenarios/grid/duplicate", headers=BEARER,
                       json={"new_name": "../evil"}).status_code == 400
    assert client.post("/api/v1/scenarios/nope/duplicate", headers=BEARER, json={"new_name": "x"}).status_code == 404
    assert not (workspace / "evil").exists() and not (workspace / "scenarios" / "x").exists()
    assert list((workspace / ".serve" / "tmp").iterdir()) == []


def test_engines_and_built_in_tables_are_listed(api):
    client, _ws = api
    engines = [p["name"] for p in client.get("/api/v1/plugins", headers=BEARER).json() if p["engine"]]
    assert "legacy" in engines
    about = client.get("/about", headers=BEARER).text.split('id="plugins"')[1].split("</table>")[0]
    assert "<td>legacy</td><td>engine</td>" in about
    tables = {t["table"]: t for t in client.get("/api/v1/assumptions/tables", headers=BEARER).json()}
    built_in = client.get("/api/v1/scenarios/grid-copy/tables/age_bands", headers=BEARER).text  # a built-in one
    assert [c["name"] for c in tables["age_bands"]["columns"]] == built_in.splitlines()[0].split(",")
    assert tables["job_levels"]["key"] == ["level_id"] and tables["job_levels"]["replaceable"] is True
    assert tables["vesting_schedules"]["replaceable"] is False


def test_lists_are_paged_with_next_cursor(api):
    client, _ws = api
    names = [s["name"] for s in client.get("/api/v1/scenarios", headers=BEARER).json()["items"]]
    first = client.get("/api/v1/scenarios?limit=1", headers=BEARER).json()
    assert [s["name"] for s in first["items"]] == names[:1] and first["next_cursor"]
    second = client.get(f"/api/v1/scenarios?limit=1&cursor={first['next_cursor']}", headers=BEARER).json()
    assert [s["name"] for s in second["items"]] == names[1:2] and second["next_cursor"] is None
    assert client.get("/api/v1/runs?cursor=abc", headers=BEARER).json()["error"]["code"] == "bad_cursor"


def test_the_compare_charts_draw_a_line_per_run_for_each_metric():
    from planwise_core.serve.compare_charts import compare_figures

    def pair(run, first, second):
        return {"run": run, "metrics": [{"key": "end_headcount", "label": "Head count", "unit": "count", "years": [
            {"year": 2025, "first": first[0], "second": second[0]}, {"year": 2026, "first": first[1], "second": second[1]}]}]}

    result = {"baseline": "a", "runs": ["a", "b", "c"], "pairs": [pair("b", (100, 110), (90, 95)),
                                                                  pair("c", (100, 110), (120, 130))]}
    [figure] = compare_figures(result)
    assert figure.name == "compare-end_headcount" and [label for label, _ in figure.legend] == ["a (baseline, dashed)", "b", "c"]
    lines = [m for m in figure.plot.marks if m.tag == "path"]
    assert len(lines) == 3 and "baseline" in lines[-1].css  # the baseline drawn last, over the others
    tips = [m.tip for m in figure.plot.marks if m.tip]
    assert "b, 2026: 95" in tips and "c, 2025: 120" in tips and "a, 2026: 110" in tips


def test_the_scenario_page_duplicates_and_the_table_page_lists_columns_and_rules(api):
    client, workspace = api
    csrf = sign_in(client)
    response = client.post("/scenarios/grid/duplicate", data={"csrf_token": csrf, "new_name": "grid-2"},
                           headers={"Origin": ORIGIN}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/scenarios/grid-2"
    assert (workspace / "scenarios" / "grid-2" / "scenario.yaml").is_file()
    page = client.get("/scenarios/grid-2/tables/job_levels").text
    spec = page.split('id="table-spec"')[1].split("</details>")[0]
    assert "<td>merit_rate</td><td>decimal</td><td>0 to 1</td><td>no</td>" in spec and "Key: level_id" in spec
    assert 'href="/api/v1/scenarios/grid-2/tables/job_levels"' in page
