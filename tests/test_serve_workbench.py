"""`planwise serve`'s workbench helpers (docs/serve.md, "Pages"): the new-run form's equivalent `planwise run`
command, which the real command line accepts as written, and the About page's clean-up (build folders of
completed runs, runs ended long ago), shown first and done only when confirmed. In process, fake worker."""

from __future__ import annotations

import json
import shlex

import pytest

from helpers.serve import BEARER, ORIGIN, app_client, sign_in, wait_for


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workbench") / "workspace"
    client, gate = app_client(workspace)
    with client:
        csrf = sign_in(client)
        yield client, workspace, gate, csrf


def arguments(command: str) -> list[str]:
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["planwise", "run"]
    return words[2:]


def test_the_new_run_form_shows_the_command_and_the_cli_takes_it(api):
    from planwise_core.cli import cli

    client, workspace, _gate, _csrf = api
    assert client.post("/api/v1/scenarios", headers=BEARER, json={
        "name": "rich", "overrides": {"workforce.total_termination_rate": 0.2}, "plugin": "optimized"}).status_code == 201
    census = client.post("/api/v1/censuses/generate", headers=BEARER, json={"employees": 20, "seed": 3}).json()
    page = client.get("/runs/new").text
    assert 'hx-get="/fragments/command"' in page and '<pre id="command"' in page and "planwise run" in page
    fragment = client.get("/fragments/command", params={
        "scenario": "rich", "census_id": census["id"], "years": "2025-2026", "seed": "7",
        "optimization_level": "medium", "set": "plan.core.rate=0.03\nsimulation.end_year=2026"}).text
    command = fragment.split('aria-live="polite">')[1].split("</pre>")[0].replace("&#39;", "'")
    args = arguments(command)
    assert args == ["--set", "workforce.total_termination_rate=0.2", "--plugin", "optimized", "--census",
                    f"censuses/{census['id']}/census.csv", "--years", "2025-2026", "--seed", "7",
                    "--optimization", "medium", "--set", "plan.core.rate=0.03", "--set", "simulation.end_year=2026",
                    "--database", "my-run.duckdb"]
    import click

    from planwise_core.cli.state import CliState

    parent = click.Context(cli, obj=CliState(plugin=None, config_path=None, trace=False))
    context = cli.commands["run"].make_context("run", list(args), parent=parent)  # the real command line parses it
    assert context.params["seed"] == 7 and context.params["years"]
    odd = client.get("/fragments/command", params={"scenario": "../x", "census_id": "cen_x", "set": "a=it's"}).text
    assert "../x" not in odd and "cen_x" not in odd and "&#39;a=it&#39;&#34;&#39;&#34;&#39;s&#39;" in odd


def test_cleanup_shows_first_then_removes_builds_and_old_runs_only(api):
    client, workspace, gate, csrf = api
    ids = []
    for _ in range(2):
        run = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2025"}).json()
        wait_for(lambda run_id=run["id"]: client.get(f"/api/v1/runs/{run_id}", headers=BEARER).json(), ("completed",))
        ids.append(run["id"])
    build = workspace / "runs" / ids[0] / "sim" / ".simulation.duckdb.build"
    (build / "state").mkdir(parents=True)
    (build / "state" / "year_2025.arrow").write_bytes(b"x" * 5000)
    old = workspace / "runs" / ids[1] / "job.json"
    job = json.loads(old.read_text())
    job["finished_at"] = "2020-01-01T00:00:00"
    old.write_text(json.dumps(job))
    gate.app.state.scheduler.jobs[ids[1]]["finished_at"] = job["finished_at"]
    form = {"csrf_token": csrf, "builds": "on", "older_than_days": "30"}
    preview = client.post("/about/cleanup", data=form, headers={"Origin": ORIGIN})
    assert preview.status_code == 200 and 'id="cleanup-confirm"' in preview.text
    assert "1 build folders and 1 runs" in preview.text and ids[1] in preview.text
    assert build.is_dir() and old.is_file()  # nothing removed before the confirmation
    refused = client.post("/about/cleanup", data={**form, "older_than_days": "-1"}, headers={"Origin": ORIGIN})
    assert refused.status_code == 422 and "whole number" in refused.text
    done = client.post("/about/cleanup", data={**form, "confirm": "yes"}, headers={"Origin": ORIGIN},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/about?freed=")
    assert int(done.headers["location"].split("=")[1]) >= 5000
    assert not build.exists() and (workspace / "runs" / ids[0] / "sim" / "run.json").is_file()
    assert not (workspace / "runs" / ids[1]).exists()
    assert client.get(f"/api/v1/runs/{ids[1]}", headers=BEARER).status_code == 404
    assert "bytes freed" in client.get(done.headers["location"]).text


def test_the_runs_list_shows_each_runs_last_year_headline(api):
    client, workspace, _gate, _csrf = api
    run = client.post("/api/v1/runs", headers=BEARER, json={"years": "2025-2025"}).json()
    wait_for(lambda: client.get(f"/api/v1/runs/{run['id']}", headers=BEARER).json(), ("completed",))
    (workspace / "runs" / run["id"] / "headline.json").write_text(json.dumps(
        {"year": 2025, "end_headcount": 1812, "payroll": 61234567.5, "employer_cost_pct_payroll": 0.042549}))
    row = client.get("/").text.split(f'href="/runs/{run["id"]}"')[1].split("</tr>")[0]
    # each in its unit (outputs/metrics.py): a count with separators, dollars to the cent, a fraction as a percent
    assert "<td>1,812</td><td>$61,234,567.50</td><td>4.25%</td>" in row
