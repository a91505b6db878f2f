"""`planwise serve`'s security rules (docs/serve.md, "Security model"), each with a test; the route table is
iterated, so a route added later is covered automatically. In process, with the quick fake worker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.serve import BEARER, ORIGIN, TOKEN, app_client, route_table, sign_in, threaded_server, wait_for

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "snapshots" / "serve_openapi.json"
PUBLIC = {"/api/v1/health", "/login"}
RUN_ID, CEN_ID = "run_20260101_000000_abcdef", "cen_20260101_000000_abcdef"
BAD_IDS = ["..", "%2e%2e", "..%2F..%2Fsecrets", "..\\evil", "RUN_20260101_000000_ABCDEF",
           "run_20260101_000000_abcdeg", "run_20260101_000000_abcdef%0a", "{id}"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("ws") / "workspace"
    client, gate = app_client(workspace, stream_seconds=1.0)
    with client:
        run = client.post("/api/v1/runs", json={"years": "2025-2025"}, headers=BEARER).json()
        wait_for(lambda: client.get(f"/api/v1/runs/{run['id']}", headers=BEARER).json(), ("completed",))
        yield client, gate, workspace, run["id"]


def routes(gate):
    """(method, concrete path) of every route of the app, with canonical ids filled in."""
    fill = {"run_id": RUN_ID, "census_id": CEN_ID, "name": "default", "table": "job_levels", "export_id": "exp_20260101_000000_abcdef"}
    for route in route_table(gate.app):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: fill.get(m[1], "x"), route.path)
        for method in sorted(route.methods - {"HEAD"}):
            yield method, path


def test_every_route_but_health_and_login_needs_credentials(served):
    client, gate, _ws, _run = served
    anonymous = type(client)(gate, base_url=ORIGIN)
    checked = 0
    for method, path in routes(gate):
        response = anonymous.request(method, path, follow_redirects=False)
        if path in PUBLIC:
            assert response.status_code != 303 and "unauthorized" not in response.text, (method, path)
            continue
        checked += 1
        expected = (303,) if method == "GET" and not path.startswith("/api/") else (401,)
        assert response.status_code in expected, (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login?next=")
    assert checked > 40


def test_a_foreign_host_is_421_on_every_route_and_a_missing_host_is_400(served):
    client, gate, _ws, _run = served
    for method, path in list(routes(gate)) + [("GET", "/static/app.css")]:
        response = client.request(method, path, headers={"Host": "evil.example:80", **BEARER})
        assert response.status_code == 421, (method, path)
    raw = client.request("GET", "/api/v1/health", headers={"Host": ""})
    assert raw.status_code in (400, 421)


@pytest.mark.parametrize("token", ["wrong", "café" + TOKEN[4:], TOKEN + "x", TOKEN[:-1]])
def test_a_wrong_or_non_ascii_token_is_401_never_500(served, token):
    client, gate, _ws, _run = served
    anonymous = type(client)(gate, base_url=ORIGIN)
    header = {"Authorization": f"Bearer {token}".encode("utf-8")}
    assert anonymous.get("/api/v1/runs", headers=header).status_code == 401
    assert anonymous.get(f"/?token={token}", follow_redirects=False).status_code == 401


def test_the_token_in_the_url_becomes_an_httponly_cookie_and_leaves_the_address(served):
    client, gate, _ws, _run = served
    browser = type(client)(gate, base_url=ORIGIN)
    response = browser.get(f"/runs/new?token={TOKEN}&scenario=a", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/runs/new?scenario=a"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and TOKEN not in cookie
    assert browser.get("/runs/new").status_code == 200
    forged = type(client)(gate, base_url=ORIGIN, cookies={"planwise_80": "abc." + "0" * 64})
    assert forged.get("/api/v1/runs").status_code == 401


def test_unsafe_cookie_requests_need_the_csrf_token_and_this_origin(served):
    client, gate, _ws, _run = served
    browser = type(client)(gate, base_url=ORIGIN)
    csrf = sign_in(browser)
    body = {"name": "csrf-probe", "description": ""}
    assert browser.post("/scenarios", data=body, headers={"Origin": ORIGIN}).status_code == 403
    assert browser.post("/scenarios", data={**body, "csrf_token": "nope"}, headers={"Origin": ORIGIN}).status_code == 403
    other = browser.post("/scenarios", data={**body, "csrf_token": csrf}, headers={"Origin": "http://testserver:9999"})
    assert other.status_code == 403
    assert browser.post("/scenarios", data={**body, "csrf_token": csrf}).status_code == 403  # no Origin at all
    ok = browser.post("/scenarios", data={**body, "csrf_token": csrf}, headers={"Origin": ORIGIN},
                      follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/scenarios/csrf-probe"
    api = browser.post("/api/v1/scenarios/csrf-probe/validate", json={"overrides": {}},
                       headers={"Origin": ORIGIN, "X-CSRF-Token": csrf})
    assert api.status_code == 200
    # Scripts with the bearer token are not ambient authority: no CSRF token needed.
    assert client.post("/api/v1/scenarios/csrf-probe/validate", json={"overrides": {}}, headers=BEARER).status_code == 200


def test_cross_site_requests_are_refused_and_no_cors_header_is_sent(served):
    client, _gate, _ws, run_id = served
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.get(f"/api/v1/runs/{run_id}/events", headers={**BEARER, **headers})
        assert response.status_code == 403
    response = client.get("/api/v1/runs", headers={**BEARER, "Origin": "http://evil.example"})
    assert response.status_code == 403
    assert not any(k.lower().startswith("access-control-") for k in response.headers)


def test_security_headers_on_every_response(served):
    client, gate, _ws, run_id = served
    for path in ("/api/v1/health", "/login", "/static/app.css", "/api/v1/runs", "/nothing-here", "/"):
        response = client.get(path, headers=BEARER)
        headers = response.headers
        assert headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'"), path
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert (headers.get("cache-control") == "no-store") == (not path.startswith("/static/")), path
        assert "server" not in headers or "uvicorn" not in headers["server"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_are_400_before_any_path_is_built(served, bad):
    client, _gate, _ws, _run = served
    for path in (f"/api/v1/runs/{bad}", f"/api/v1/runs/{bad}/log", f"/api/v1/censuses/{bad}",
                 f"/api/v1/runs/{bad}/files/run.json"):
        response = client.get(path, headers=BEARER)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert "Traceback" not in response.text


def test_unknown_well_formed_ids_are_404_and_a_symlinked_run_folder_is_never_followed(served, tmp_path):
    client, _gate, workspace, _run = served
    assert client.get(f"/api/v1/runs/{RUN_ID}", headers=BEARER).status_code == 404
    assert client.get(f"/api/v1/censuses/{CEN_ID}", headers=BEARER).status_code == 404
    outside = tmp_path / "outside"
    (outside / "sim").mkdir(parents=True)
    (outside / "sim" / "run.log").write_text("secret")
    link = workspace / "runs" / "run_20260101_000000_bbbbbb"
    link.symlink_to(outside)
    try:
        response = client.get("/api/v1/runs/run_20260101_000000_bbbbbb/log", headers=BEARER)
        assert response.status_code == 404 and "secret" not in response.text
    finally:
        link.unlink()


@pytest.mark.parametrize("config_path", ["/etc/passwd", "../x.yaml", "config/../../x.yaml", "a\\..\\b.yaml",
                                         "runs", "escape.yaml", "big.yaml", "nul\x00.yaml"])
def test_the_compatibility_config_path_must_stay_inside_the_workspace(served, config_path, tmp_path):
    client, _gate, workspace, _run = served
    (tmp_path / "x.yaml").write_text("simulation: {start_year: 2025, end_year: 2025}\n")
    if not (workspace / "escape.yaml").is_symlink():
        (workspace / "escape.yaml").symlink_to(tmp_path / "x.yaml")
    (workspace / "big.yaml").write_text("# " + "x" * (2 * 1024 * 1024))
    response = client.post("/api/v1/simulation/run", headers=BEARER,
                           json={"start_year": 2025, "end_year": 2025, "config_path": config_path})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("config_path must name a YAML file inside the workspace")


def test_uploads_over_the_limit_are_refused_while_streaming_and_leave_nothing(tmp_path):
    """Over a real socket (the in-process client hands the app the whole body at once)."""
    import http.client

    _client, gate = app_client(tmp_path / "ws", max_upload_bytes=100_000)
    read = {"bytes": 0}
    inner = gate.app

    async def counting(scope, receive, send):
        async def counted():
            message = await receive()
            read["bytes"] += len(message.get("body", b""))
            return message
        return await inner(scope, counted, send)
    gate.app = counting
    server, thread, url = threaded_server(gate)
    try:
        port = int(url.rsplit(":", 1)[1])
        gate.settings.allowed_hosts = (f"127.0.0.1:{port}",)
        for path in ("/api/v1/censuses/upload?name=big", "/api/v1/censuses"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            kind = "text/csv" if "upload" in path else "multipart/form-data; boundary=B"
            conn.putrequest("PUT" if "upload" in path else "POST", path)
            for key, value in {**BEARER, "Content-Type": kind, "Transfer-Encoding": "chunked"}.items():
                conn.putheader(key, value)
            conn.endheaders()
            status = _send_until_refused(conn, b'--B\r\nContent-Disposition: form-data; name="file"; '
                                               b'filename="a.csv"\r\n\r\n' if "upload" not in path else b"")
            assert status == 413, path
            assert read["bytes"] < 100_000 + 1024 * 1024
            read["bytes"] = 0
        declared = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        declared.request("PUT", "/api/v1/censuses/upload", body=b"a" * 200_000, headers=BEARER)
        assert declared.getresponse().status == 413
        assert list((tmp_path / "ws" / ".serve" / "tmp").iterdir()) == []
    finally:
        server.should_exit = True
        thread.join(10)


def _send_until_refused(conn, head: bytes) -> int:
    """Send 64 MiB in 64 KiB chunks until the server answers; its status."""
    chunk = b"a" * 65536
    try:
        if head:
            conn.send(b"%x\r\n%s\r\n" % (len(head), head))
        for _ in range(1024):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except OSError:
        pass  # the server answered and closed: expected
    return conn.getresponse().status


def test_multipart_rules_one_file_csrf_first_and_type_by_content(tmp_path):
    client, gate = app_client(tmp_path / "ws")
    with client:
        csrf = sign_in(client)
        headers = {"Origin": ORIGIN}
        two = client.post("/api/v1/censuses", headers=headers, data={"csrf_token": csrf},
                          files=[("file", ("a.csv", b"x\n")), ("file2", ("b.csv", b"y\n"))])
        assert two.status_code == 400
        late = client.post("/api/v1/censuses", headers=headers, files={"file": ("a.csv", b"x\n")},
                           data={"csrf_token": csrf})  # httpx puts data fields first: send the token after
        assert late.status_code != 403
        after = client.post("/api/v1/censuses", headers={**headers, "Content-Type": "multipart/form-data; boundary=B"},
                            content=b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
                                    b'x\n\r\n--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                                    + csrf.encode() + b"\r\n--B--\r\n")
        assert after.status_code == 403
        png = client.put("/api/v1/censuses/upload", content=b"\x89PNG\r\n\x1a\n\x00\x00", headers=BEARER)
        assert png.status_code == 415
        assert list((tmp_path / "ws" / ".serve" / "tmp").iterdir()) == []


def test_no_absolute_workspace_path_in_any_answer(served):
    client, gate, workspace, run_id = served
    bodies = [client.request(m, p, headers=BEARER).text for m, p in routes(gate) if m == "GET" and "{" not in p]
    bodies += [client.get(f"/api/v1/runs/{run_id}", headers=BEARER).text,
               client.get(f"/runs/{run_id}", headers=BEARER).text]
    assert bodies and not [b for b in bodies if str(workspace.resolve()) in b or str(Path.home()) + "/" in b]


def test_an_unexpected_error_is_a_500_with_a_request_id_and_no_traceback(tmp_path, monkeypatch):
    from planwise_core.serve import scenarios

    client, _gate = app_client(tmp_path / "ws", raise_server_exceptions=False)
    monkeypatch.setattr(scenarios, "listing", lambda ws: 1 / 0)
    with client:
        response = client.get("/api/v1/scenarios", headers=BEARER)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["request_id"] and "Traceback" not in response.text and "ZeroDivision" not in response.text


def test_gets_never_change_state(served):
    client, gate, workspace, _run = served
    before = {p: p.read_bytes() for p in workspace.rglob("*.json") if ".serve" not in p.parts}
    for method, path in routes(gate):
        if method == "GET" and "events" not in path:
            client.get(path, headers=BEARER)
    after = {p: p.read_bytes() for p in workspace.rglob("*.json") if ".serve" not in p.parts}
    changed = [p for p in before if after.get(p) != before[p] and p.name != "profile.json"]
    assert changed == []


def test_read_only_refuses_every_unsafe_route(tmp_path):
    client, gate = app_client(tmp_path / "ws", read_only=True)
    with client:
        for method, path in routes(gate):
            if method not in ("GET",) and path != "/logout" and path not in PUBLIC:
                assert client.request(method, path, headers=BEARER).status_code == 403, (method, path)


def test_no_websocket_upgrade(served):
    client, _gate, _ws, _run = served
    response = client.get("/api/v1/events", headers={**BEARER, "Connection": "Upgrade", "Upgrade": "websocket"})
    assert response.status_code != 101


def test_openapi_matches_the_snapshot(served):
    client, _gate, _ws, _run = served
    spec = client.get("/api/v1/openapi.json", headers=BEARER).json()
    summary = sorted(f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item)
    expected = json.loads(SNAPSHOT.read_text())
    assert summary == expected, ("the API changed; if on purpose, update tests/snapshots/serve_openapi.json: "
                                 f"added {sorted(set(summary) - set(expected))}, removed {sorted(set(expected) - set(summary))}")


def test_a_non_loopback_host_needs_allow_remote(tmp_path):
    from click.testing import CliRunner

    from planwise_core.cli import cli

    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "ws"), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--allow-remote" in result.output
    assert not (tmp_path / "ws").exists()  # refused before anything was created


def test_the_token_file_is_private_and_a_new_token_signs_everyone_out(tmp_path, monkeypatch):
    from planwise_core.serve.security import cookie_name, session_cookie
    from planwise_core.serve.settings import Settings, load_token

    monkeypatch.delenv("PLANWISE_SERVE_TOKEN", raising=False)
    first = load_token(tmp_path)
    assert (tmp_path / "token").stat().st_mode & 0o777 == 0o600 and len(first) >= 32
    assert load_token(tmp_path) == first
    second = load_token(tmp_path, new=True)
    assert second != first
    old = Settings(workspace=tmp_path, token=first)
    value = session_cookie(old, 80).split(";")[0].split("=", 1)[1]
    ident, signature = value.split(".")
    assert signature == old.sign("cookie:" + ident) != Settings(workspace=tmp_path, token=second).sign("cookie:" + ident)
    assert cookie_name(80) == "planwise_80"


INJECTION = "'; drop table batch_bands; --"


def test_rule_12_no_sql_is_built_from_request_values(tmp_path):
    """Ids and names are checked before use; the one server query (a batch's bands) binds its values and
    takes its metric from the library's list; the tables are intact afterwards."""
    from urllib.parse import quote

    client, _gate = app_client(tmp_path / "ws")
    with client:
        assert client.get(f"/api/v1/censuses/{quote(INJECTION)}", headers=BEARER).status_code == 400
        assert client.post("/api/v1/scenarios", headers=BEARER, json={"name": INJECTION}).status_code == 400
        assert client.post("/api/v1/runs", headers=BEARER, json={"scenario": INJECTION}).status_code == 400
        assert client.post("/api/v1/runs", headers=BEARER, json={"census_id": INJECTION}).status_code in (400, 404)
        assert client.get("/api/v1/runs", params={"status": INJECTION}, headers=BEARER).json()["items"] == []
        batch = client.post("/api/v1/ensembles", headers=BEARER, json={"seeds": 2, "years": "2025-2025"}).json()
        wait_for(lambda: client.get(f"/api/v1/batches/{batch['id']}", headers=BEARER).json(), ("completed",))
        bands = f"/api/v1/batches/{batch['id']}/bands"
        refused = client.get(bands, params={"metric": INJECTION}, headers=BEARER)
        assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["key"] == "metric"
        assert client.get(bands, params={"scenario": INJECTION}, headers=BEARER).json()["items"] == []
        rows = client.get(bands, params={"metric": "end_headcount"}, headers=BEARER).json()["items"]
        assert [(r["scenario"], r["runs"]) for r in rows] == [("default", 2)]  # batch_bands is still there


def test_rule_13_script_like_ids_and_names_are_shown_as_text(tmp_path):
    """Ids the census validator names in its messages (here: duplicates, dropped) and a census name hold
    markup and template syntax; every page shows them as text."""
    client, _gate = app_client(tmp_path / "ws")
    header = ("employee_id,employee_ssn,employee_birth_date,employee_hire_date,employee_termination_date,"
              "employee_gross_compensation,employee_deferral_rate,active\n")
    hostile = ["<script>alert(1)</script>", "{{ 1+1 }}", '=HYPERLINK(""http://evil.example"")']
    rows = [f'"{e}",S{i}{n},1980-01-01,2015-03-01,,60000,0.05,true\n' for i, e in enumerate(hostile) for n in (1, 2)]
    rows += [f"E{i},T{i},1980-01-01,2015-03-01,,60000,0.05,true\n" for i in range(5)]
    with client:
        census = client.put("/api/v1/censuses/upload", params={"name": "<img src=x onerror=alert(1)>",
                                                               "on_invalid_rows": "drop"},
                            content=(header + "".join(rows)).encode(), headers={**BEARER, "Content-Type": "text/csv"})
        assert census.status_code == 201, census.text
        assert census.json()["validation"]["dropped"] == 6
        for path in (f"/censuses/{census.json()['id']}", "/censuses", "/runs/new", "/batches"):
            page = client.get(path, headers=BEARER).text
            assert "<script>alert" not in page and "<img src=x" not in page, path
            assert "&lt;img src=x onerror=alert(1)&gt;" in page, path
        report = client.get(f"/censuses/{census.json()['id']}", headers=BEARER).text
        assert "&#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;" in report
        assert "&#39;{{ 1+1 }}&#39;" in report and "&#39;2&#39;" not in report  # not evaluated as a template
        assert "=HYPERLINK(" in report


@pytest.mark.parametrize("multipart", [False, True], ids=["raw", "multipart"])
def test_a_client_leaving_mid_upload_leaves_no_partial_file(tmp_path, multipart):
    """Over a real socket: the client sends part of a declared body, waits until the server writes it to a
    part file, then closes the connection; the part file is removed and no census is kept."""
    import socket
    import time

    _client, gate = app_client(tmp_path / "ws")
    server, thread, url = threaded_server(gate)
    tmp = tmp_path / "ws" / ".serve" / "tmp"
    try:
        port = int(url.rsplit(":", 1)[1])
        gate.settings.allowed_hosts = (f"127.0.0.1:{port}",)
        head = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
                if multipart else b"")
        target, kind = (b"POST /api/v1/censuses", b"multipart/form-data; boundary=B") if multipart else \
            (b"PUT /api/v1/censuses/upload?name=cut", b"text/csv")
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(target + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                     b"Content-Type: %s\r\nContent-Length: 5000000\r\n\r\n" % (port, TOKEN.encode(), kind))
        sock.sendall(head + b"employee_id,x\n" * 20_000)
        deadline = time.monotonic() + 10
        while not list(tmp.glob("*.part")):
            assert time.monotonic() < deadline, "the upload never reached a part file"
            time.sleep(0.05)
        sock.close()
        deadline = time.monotonic() + 10
        while list(tmp.iterdir()):
            assert time.monotonic() < deadline, f"left behind: {list(tmp.iterdir())}"
            time.sleep(0.05)
        assert not list((tmp_path / "ws" / "censuses").glob("cen_*"))
    finally:
        server.should_exit = True
        thread.join(10)
