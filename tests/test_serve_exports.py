"""`planwise serve`: a run's exports as background work (docs/serve.md, "Exports"): 202 and an export id at once,
202 while preparing (the file under its name only once whole), the file once ready, an
identical export reused, a bad format or years refused, a left-over export reported failed. On a real result
database of the shared registry (test_report.SPEC: 800 employees, 2025-2027)."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile

import pytest

from helpers.serve import BEARER, ORIGIN, app_client, completed_run, sign_in
from test_report import SPEC

RUN = "run_20260101_000000_e0e0e0"
pytestmark = pytest.mark.slow  # a shared simulation


@pytest.fixture(scope="module")
def api(sims, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("exports") / "workspace"
    from planwise_core.serve.workspace import Workspace

    Workspace.open(workspace)
    completed_run(workspace, sims.get(SPEC).database, RUN)
    client, _gate = app_client(workspace)
    with client:
        yield client, workspace


def fetch(client, workspace, href: str, seconds: float = 120):
    """GET the export until it is ready; while it is preparing, its file under its name is absent or whole."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get(href, headers=BEARER)
        if response.status_code != 202:
            return response
        export = response.json()
        assert export["status"] == "preparing" and response.headers["retry-after"] == "1"
        final = workspace / "runs" / RUN / "exports" / export["id"] / export["file"]
        if final.exists():  # renamed into place, its record not yet rewritten: a whole archive already
            with zipfile.ZipFile(final) as archive:
                assert archive.testzip() is None
        assert time.monotonic() < deadline, "the export never became ready"
        time.sleep(0.1)


def test_a_workbook_is_prepared_in_the_background_then_downloaded_and_reused(api):
    import openpyxl

    client, workspace = api
    response = client.post(f"/api/v1/runs/{RUN}/exports", headers=BEARER, json={"format": "xlsx"})
    assert response.status_code == 202, response.text
    export = response.json()
    assert export["export_id"].startswith("exp_") and response.headers["location"] == export["href"]
    download = fetch(client, workspace, export["href"])
    assert download.status_code == 200
    assert f'filename="{RUN}-results.xlsx"' in download.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True)
    assert "summary" in workbook.sheetnames
    again = client.post(f"/api/v1/runs/{RUN}/exports", headers=BEARER, json={"format": "xlsx"})
    assert again.status_code == 200 and again.json()["export_id"] == export["export_id"]
    assert again.json()["status"] == "ready"
    folder = workspace / "runs" / RUN / "exports" / export["export_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["export.json", "results.xlsx"]  # no work files left
    listed = client.get(f"/api/v1/runs/{RUN}/exports", headers=BEARER).json()["items"]
    assert [e["export_id"] for e in listed] == [export["export_id"]]


def test_a_csv_zip_of_some_years_holds_only_those_years(api):
    client, workspace = api
    export = client.post(f"/api/v1/runs/{RUN}/exports", headers=BEARER,
                         json={"format": "csv", "years": "2026-2027"}).json()
    download = fetch(client, workspace, export["href"])
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    summary = next(n for n in archive.namelist() if n.startswith("summary"))
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open(summary), encoding="utf-8")))
    assert sorted({int(r["simulation_year"]) for r in rows}) == [2026, 2027]


@pytest.mark.parametrize(("body", "key"), [({"format": "pdf"}, "format"), ({"format": "csv", "years": "2020-2021"},
                                            "years"), ({"format": "csv", "years": "soon"}, "years"),
                                           ({"format": "csv", "tables": "x"}, "tables")])
def test_a_bad_request_is_refused_at_its_key_and_nothing_is_started(api, body, key):
    client, workspace = api
    before = sorted((workspace / "runs" / RUN).rglob("export.json"))
    response = client.post(f"/api/v1/runs/{RUN}/exports", headers=BEARER, json=body)
    assert response.status_code == 422 and response.json()["error"]["problems"][0]["key"] == key
    assert sorted((workspace / "runs" / RUN).rglob("export.json")) == before


def test_an_export_a_stopped_server_left_preparing_is_failed_and_asked_again(api):
    client, workspace = api
    stale_id = "exp_20260101_000000_5a1e00"
    folder = workspace / "runs" / RUN / "exports" / stale_id
    folder.mkdir(parents=True)
    record = {"id": stale_id, "run_id": RUN, "format": "parquet", "years": None, "key": "left-over",
              "status": "preparing", "file": "parquet.zip", "created_at": "2026-01-01T00:00:00", "finished_at": None,
              "error": None}
    (folder / "export.json").write_text(json.dumps(record))
    response = client.get(f"/api/v1/runs/{RUN}/exports/{stale_id}", headers=BEARER)
    assert response.status_code == 500 and "ask again" in response.json()["error"]["message"]
    assert client.get(f"/api/v1/runs/{RUN}/exports/exp_20260101_000000_000000", headers=BEARER).status_code == 404
    assert client.get(f"/api/v1/runs/{RUN}/exports/x.zip", headers=BEARER).status_code == 400


def test_the_run_page_asks_for_an_export_and_its_page_follows_it(api):
    client, workspace = api
    csrf = sign_in(client)
    response = client.post(f"/runs/{RUN}/exports", data={"csrf_token": csrf, "format": "parquet"},
                           headers={"Origin": ORIGIN}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(f"/runs/{RUN}/exports/exp_")
    export_id = response.headers["location"].rsplit("/", 1)[1]
    page = client.get(response.headers["location"]).text
    assert ('http-equiv="refresh" content="1"' in page and "Preparing parquet.zip" in page) or "Ready" in page
    assert fetch(client, workspace, f"/api/v1/runs/{RUN}/exports/{export_id}").status_code == 200
    ready = client.get(response.headers["location"]).text
    assert f'content="0; url=/api/v1/runs/{RUN}/exports/{export_id}"' in ready and 'id="export-download"' in ready
