"""`planwise serve`'s scenarios beyond their overrides (docs/serve.md, "The API"): a base scenario to start from,
the seeds a batch runs it over and its engine plugin; and a parameter table written under its ETag (If-Match),
as CSV or as JSON rows. In process, fake worker."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from helpers.serve import BEARER, ORIGIN, app_client, sign_in, wait_for

TABLE = "/api/v1/scenarios/{}/tables/job_levels"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("fields") / "workspace"
    client, _gate = app_client(workspace)
    with client:
        yield client, workspace


def read_table(client, name: str, fmt: str = "csv"):
    response = client.get(TABLE.format(name) + f"?format={fmt}", headers=BEARER)
    assert response.status_code == 200, response.text
    return response


def test_seeds_and_plugin_are_checked_saved_and_used_by_batches_and_runs(api):
    client, workspace = api
    bad = client.post("/api/v1/scenarios", headers=BEARER, json={"name": "base", "seeds": [1, 1], "plugin": "nope"})
    assert bad.status_code == 422 and sorted(p["key"] for p in bad.json()["error"]["problems"]) == ["plugin", "seeds"]
    assert "installed: legacy" in str(bad.json()) or "installed: " in str(bad.json())
    created = client.post("/api/v1/scenarios", headers=BEARER, json={
        "name": "base", "seeds": [5, 6], "plugin": "optimized", "overrides": {"workforce.total_termination_rate": 0.2}})
    assert created.status_code == 201, created.text
    assert (created.json()["seeds"], created.json()["plugin"], created.json()["base"]) == ([5, 6], "optimized",
                                                                                           "defaults")
    stored = yaml.safe_load((workspace / "scenarios" / "base" / "scenario.yaml").read_text())
    assert stored["seeds"] == [5, 6] and stored["plugin"] == "optimized"
    entry = yaml.safe_load(client.get("/api/v1/batch-file", headers=BEARER).text)["scenarios"][0]
    assert entry["seeds"] == [5, 6] and entry["plugin"] == "optimized"
    batch = client.post("/api/v1/batches", headers=BEARER, json={"scenarios": ["base"], "years": "2025-2025"}).json()
    assert batch["seeds"] == [5, 6] and batch["planned"] == 2  # the scenario's seeds, none in the request
    job = yaml.safe_load((workspace / "batches" / batch["id"] / "job.json").read_text())
    assert job["batch"]["entries"][0]["plugin"] == "optimized"
    run = client.post("/api/v1/runs", headers=BEARER, json={"scenario": "base", "years": "2025-2025"}).json()
    assert run["plugin"] == "optimized"  # the scenario's engine when the request names none
    wait_for(lambda: client.get(f"/api/v1/batches/{batch['id']}", headers=BEARER).json(), ("completed",))
    wait_for(lambda: client.get(f"/api/v1/runs/{run['id']}", headers=BEARER).json(), ("completed",))
    check = client.post("/api/v1/scenarios/base/validate", headers=BEARER, json={"overrides": {}, "seeds": 0})
    assert check.status_code == 200 and [p["key"] for p in check.json()["problems"]] == ["seeds"]


def test_a_scenario_started_from_another_takes_its_overrides_tables_and_settings(api):
    client, workspace = api
    read = read_table(client, "base")
    replaced = read.text.replace("0.0300", "0.0310", 1) if "0.0300" in read.text else read.text
    assert client.put(TABLE.format("base"), content=replaced,
                      headers={**BEARER, "If-Match": read.headers["etag"]}).status_code == 200
    child = client.post("/api/v1/scenarios", headers=BEARER, json={
        "name": "child", "base": "base", "overrides": {"simulation.end_year": 2027}})
    assert child.status_code == 201, child.text
    body = child.json()
    assert body["base"] == "base" and body["seeds"] == [5, 6] and body["plugin"] == "optimized"
    assert body["overrides"] == {"workforce.total_termination_rate": 0.2, "simulation.end_year": 2027}
    assert body["tables"]["job_levels"]["source"] == "replaced"
    assert (workspace / "scenarios" / "child" / "tables" / "job_levels.csv").read_text() == replaced
    missing = client.post("/api/v1/scenarios", headers=BEARER, json={"name": "orphan", "base": "nope"})
    assert missing.status_code == 422 and missing.json()["error"]["problems"][0]["key"] == "base"
    assert not (workspace / "scenarios" / "orphan").exists()
    put = client.put("/api/v1/scenarios/child", headers={**BEARER, "If-Match": '"1"'}, json={"base": "defaults"})
    assert put.status_code == 422 and put.json()["error"]["problems"][0]["key"] == "base"  # fixed at creation


def test_a_table_write_from_a_stale_copy_is_refused(api):
    client, workspace = api
    first = read_table(client, "child")
    etag = first.headers["etag"]
    assert etag.strip('"') == client.get("/api/v1/scenarios/child", headers=BEARER).json()["tables"]["job_levels"][
        "sha256"]
    assert client.put(TABLE.format("child"), content=first.text, headers=BEARER).status_code == 409  # no If-Match
    changed = first.text.replace("\n", "\n", 1)
    saved = client.put(TABLE.format("child"), content=changed, headers={**BEARER, "If-Match": etag})
    assert saved.status_code == 200
    other = first.text.rstrip("\n") + "\n"
    edited = other.replace("0.0310", "0.0320", 1)
    ok = client.put(TABLE.format("child"), content=edited, headers={**BEARER, "If-Match": saved.headers["etag"]})
    assert ok.status_code == 200 and ok.headers["etag"] != saved.headers["etag"]
    stale = client.put(TABLE.format("child"), content=first.text, headers={**BEARER, "If-Match": saved.headers["etag"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_table"
    assert (workspace / "scenarios" / "child" / "tables" / "job_levels.csv").read_text() == edited
    assert client.delete(TABLE.format("child"), headers={**BEARER, "If-Match": etag}).status_code == 409
    assert (workspace / "scenarios" / "child" / "tables" / "job_levels.csv").is_file()


def test_json_rows_read_and_write_the_same_table(api):
    client, workspace = api
    response = read_table(client, "base", "json")
    table = response.json()
    names = [c["name"] for c in table["columns"]]
    first_csv = list(csv.DictReader(io.StringIO(read_table(client, "base").text)))
    assert [list(r) for r in table["rows"]] == [names] * len(first_csv) and len(table["rows"]) == len(first_csv)
    assert table["rows"][0]["level_id"] == int(first_csv[0]["level_id"])
    rows = [dict(r) for r in table["rows"]]
    rows[1]["merit_rate"] = 0.0455
    etag = response.headers["etag"]
    saved = client.put(TABLE.format("base"), json={"rows": rows}, headers={**BEARER, "If-Match": etag})
    assert saved.status_code == 200, saved.text
    stored = list(csv.DictReader(io.StringIO((workspace / "scenarios" / "base" / "tables" / "job_levels.csv")
                                             .read_text())))
    assert stored[1]["merit_rate"] == "0.0455" and list(stored[0]) == names
    rows[0]["colour"] = "red"
    unknown = client.put(TABLE.format("base"), json={"rows": rows}, headers={**BEARER, "If-Match": saved.headers["etag"]})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["problems"][0]["key"] == "assumptions.job_levels[0].colour"
    shape = client.put(TABLE.format("base"), json={"rows": rows, "mode": "x"},
                       headers={**BEARER, "If-Match": saved.headers["etag"]})
    assert shape.status_code == 422 and shape.json()["error"]["problems"][0]["key"] == "mode"


def test_the_pages_edit_seeds_plugin_base_and_refuse_a_stale_table(api):
    client, workspace = api
    csrf = sign_in(client)
    page = client.get("/scenarios").text
    assert 'name="base"' in page and '<option value="child">' in page
    made = client.post("/scenarios", data={"csrf_token": csrf, "name": "grandchild", "base": "child"},
                       headers={"Origin": ORIGIN}, follow_redirects=False)
    assert made.status_code == 303
    edit = client.get("/scenarios/grandchild").text
    assert 'id="scenario-seeds" value="[5, 6]"' in edit and "Started from child" in edit
    form = {"csrf_token": csrf, "revision": "1", "description": "", "seeds": "0", "plugin": ""}
    refused = client.post("/scenarios/grandchild", data=form, headers={"Origin": ORIGIN})
    assert refused.status_code == 422
    assert "a count from 1" in refused.text.split('data-key="seeds">')[1].split("</p>")[0]
    saved = client.post("/scenarios/grandchild", data={**form, "seeds": "3"}, headers={"Origin": ORIGIN},
                        follow_redirects=False)
    assert saved.status_code == 303
    record = client.get("/api/v1/scenarios/grandchild", headers=BEARER).json()
    assert record["seeds"] == 3 and record["plugin"] is None
    grid = client.get("/scenarios/grandchild/tables/job_levels").text
    etag = grid.split('name="etag" value="')[1].split('"')[0]
    text = read_table(client, "grandchild").text
    assert client.put(TABLE.format("grandchild"), content=text.replace("0.0320", "0.0330", 1),
                      headers={**BEARER, "If-Match": etag}).status_code == 200  # another tab saves first
    stale = client.post("/scenarios/grandchild/tables/job_levels", data={"csrf_token": csrf, "etag": etag,
                                                                         "csv": text}, headers={"Origin": ORIGIN})
    assert stale.status_code == 409 and "changed since it was read" in stale.text
