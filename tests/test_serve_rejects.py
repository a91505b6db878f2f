"""`planwise serve`: the rows a census upload leaves out, downloadable from the census page and the API as the
run's loader writes them (line, employee id made safe for a spreadsheet, column, reason), and a run's own
census rejects among its files (docs/serve.md, "Pages" and "The API"). In process, fake worker."""

from __future__ import annotations

import csv
import io

import pytest

from helpers.serve import BEARER, app_client, sign_in, wait_for

HEADER = ("employee_id,employee_ssn,employee_birth_date,employee_hire_date,employee_termination_date,"
          "employee_gross_compensation,employee_deferral_rate,active\n")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("rejects") / "workspace"
    client, _gate = app_client(workspace)
    with client:
        yield client, workspace


def upload(client, text: str) -> dict:
    response = client.put("/api/v1/censuses/upload?name=r&census_date=2024-12-31&on_invalid_rows=drop",
                          content=text.encode(), headers={**BEARER, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_rejected_rows_download_with_their_line_and_reason(api):
    client, workspace = api
    good = "".join(f"E{i:03d},S{i:03d},1980-01-01,2015-03-01,,{60000 + i},0.05,true\n" for i in range(20))
    bad = ('"=HYPERLINK(""http://x"")",SX1,1980-01-01,2015-03-01,,-5,0.05,true\n'
           "B002,SX2,1980-01-01,2015-03-01,,-7,0.05,true\n")
    census = upload(client, HEADER + good + bad)
    assert census["validation"]["dropped"] == 2
    response = client.get(f"/api/v1/censuses/{census['id']}/rejects.csv", headers=BEARER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f'filename="{census["id"]}-rejects.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["row_number"], r["employee_id"], r["column"]) for r in rows] == [
        ("22", "'=HYPERLINK(\"http://x\")", "employee_gross_compensation"),  # header is line 1: 20 good rows
        ("23", "B002", "employee_gross_compensation")]
    assert all(r["reason"] for r in rows)
    page = client.get(f"/censuses/{census['id']}", headers=BEARER).text
    assert f'href="/api/v1/censuses/{census["id"]}/rejects.csv"' in page and "2 rejected rows" in page
    kept = workspace / "censuses" / census["id"] / "rejects.csv"
    kept.unlink()  # a census stored before the file was kept: written again when asked for
    assert client.get(f"/api/v1/censuses/{census['id']}/rejects.csv", headers=BEARER).text == response.text


def test_a_census_that_dropped_nothing_has_no_rejects_file(api):
    client, workspace = api
    census = upload(client, HEADER + "E1,S1,1980-01-01,2015-03-01,,60000,0.05,true\n")
    response = client.get(f"/api/v1/censuses/{census['id']}/rejects.csv", headers=BEARER)
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_rejects"
    assert not (workspace / "censuses" / census["id"] / "rejects.csv").exists()
    assert "rejects-download" not in client.get(f"/censuses/{census['id']}", headers=BEARER).text
    assert client.get("/api/v1/censuses/cen_1/rejects.csv", headers=BEARER).status_code == 400


def test_a_runs_census_rejects_are_among_its_files(api):
    client, workspace = api
    run = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2025"}).json()
    wait_for(lambda: client.get(f"/api/v1/runs/{run['id']}", headers=BEARER).json(), ("completed",))
    missing = client.get(f"/api/v1/runs/{run['id']}/files/census-rejects.csv", headers=BEARER)
    assert missing.status_code == 404
    sign_in(client)
    assert "run-rejects" not in client.get(f"/runs/{run['id']}").text
    listed = "row_number,employee_id,column,reason\n7,E9,employee_birth_date,not a date\n"
    (workspace / "runs" / run["id"] / "sim" / "simulation.duckdb.rejects.csv").write_text(listed)  # the loader's
    response = client.get(f"/api/v1/runs/{run['id']}/files/census-rejects.csv", headers=BEARER)
    assert response.status_code == 200 and response.text == listed
    assert 'id="run-rejects"' in client.get(f"/runs/{run['id']}").text
