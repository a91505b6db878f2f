"""`planwise serve`: a JSON body with a key the endpoint does not take is refused with a 422 naming the key and
the allowed ones, and nothing is queued or saved (docs/serve.md, "The API"). In process, fake worker."""

from __future__ import annotations

import pytest

from helpers.serve import BEARER, app_client

REFUSED = [  # (path, body, the unknown key, a key the message must list as allowed)
    ("/api/v1/runs", {"years": "2025-2025", "max_concurrent": 2}, "max_concurrent", "census_id"),
    ("/api/v1/batches", {"scenarios": ["default"], "seed": 3}, "seed", "seeds"),
    ("/api/v1/ensembles", {"scenario": "default", "seeds": 2, "first": 7}, "first", "first_seed"),
    ("/api/v1/fits", {"census_ids": [], "holdout": 1}, "holdout", "census_ids"),
    ("/api/v1/backtests", {"census_ids": [], "replicate": 3}, "replicate", "replicates"),
    ("/api/v1/scenarios", {"name": "x", "overides": {}}, "overides", "overrides"),
    ("/api/v1/scenarios/default-copy/validate", {"overrides": {}, "revision": 1}, "revision", "overrides"),
    ("/api/v1/scenarios/default-copy/duplicate", {"new_name": "y", "tables": True}, "tables", "new_name"),
    ("/api/v1/censuses/generate", {"employees": 10, "employes": 10}, "employes", "employees"),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("bodies") / "workspace"
    client, _gate = app_client(workspace)
    with client:
        assert client.post("/api/v1/scenarios", headers=BEARER, json={"name": "default-copy"}).status_code == 201
        yield client, workspace


def contents(workspace):
    return sorted(str(p.relative_to(workspace)) for p in workspace.rglob("*") if ".serve" not in p.parts)


@pytest.mark.parametrize(("path", "body", "key", "allowed"), REFUSED, ids=[r[2] for r in REFUSED])
def test_an_unknown_key_is_refused_by_name_and_nothing_happens(api, path, body, key, allowed):
    client, workspace = api
    before = contents(workspace)
    response = client.post(path, headers=BEARER, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unknown_keys" and key in error["message"]
    assert [p["key"] for p in error["problems"]] == [key]
    assert "allowed: " in error["problems"][0]["message"] and allowed in error["problems"][0]["message"]
    assert contents(workspace) == before


def test_a_near_miss_is_named_with_the_key_meant(api):
    client, _ws = api
    response = client.post("/api/v1/runs", headers=BEARER, json={"scenaro": "default"})
    assert response.status_code == 422
    assert "did you mean scenario?" in response.json()["error"]["problems"][0]["message"]


def test_put_scenario_refuses_unknown_keys_and_keeps_the_revision(api):
    client, workspace = api
    stored = (workspace / "scenarios" / "default-copy" / "scenario.yaml").read_text()
    response = client.put("/api/v1/scenarios/default-copy", headers={**BEARER, "If-Match": '"1"'},
                          json={"overrides": {}, "colour": "red"})
    assert response.status_code == 422 and response.json()["error"]["problems"][0]["key"] == "colour"
    assert (workspace / "scenarios" / "default-copy" / "scenario.yaml").read_text() == stored


def test_the_compatibility_endpoint_names_an_unknown_key_in_its_detail(api):
    client, workspace = api
    before = contents(workspace)
    response = client.post("/api/v1/simulation/run", headers=BEARER,
                           json={"start_year": 2025, "end_year": 2025, "config": "x.yaml"})
    assert response.status_code == 422 and set(response.json()) == {"detail"}
    assert response.json()["detail"].startswith("config: unknown key; did you mean config_path?")
    assert contents(workspace) == before


def test_known_keys_still_pass(api):
    client, _ws = api
    response = client.post("/api/v1/scenarios/default-copy/validate", headers=BEARER,
                           json={"overrides": {"workforce.total_termination_rate": 0.2}, "description": "d"})
    assert response.status_code == 200 and response.json()["valid"] is True
