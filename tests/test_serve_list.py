"""`planwise serve --open` and `planwise serve list` (docs/cli.md, "planwise serve"): a real server subprocess whose
browser is a script (the BROWSER variable Python's webbrowser honours) recording the URL it was given; the list
names the running server with its sign-in URL, no token is in the registry or the server's log, and the record
of a server that is gone is dropped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers.serve import TOKEN, start_server

pytestmark = pytest.mark.slow  # a real server process


def planwise(*args: str, env: dict) -> str:
    return subprocess.run([sys.executable, "-m", "planwise_core", *args], env=env, capture_output=True, text=True,
                          check=True, timeout=120).stdout


def test_open_starts_the_browser_and_list_shows_the_running_server(tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    cache = tmp_path / "cache"
    env = {**os.environ, "PLANWISE_CACHE_DIR": str(cache), "BROWSER": str(browser)}
    workspace = tmp_path / "ws"
    proc, url = start_server(workspace, tmp_path / "server.log", "--open", env=env)
    try:
        deadline = time.monotonic() + 30
        while not opened.is_file():
            assert time.monotonic() < deadline, "the browser was not opened"
            time.sleep(0.1)
        assert opened.read_text().strip() == f"{url}/?token={TOKEN}"
        listed = planwise("serve", "list", env={**env, "PLANWISE_SERVE_TOKEN": ""})
        assert str(workspace.resolve()) in listed and f"pid {proc.pid}" in listed
        assert f"Open: {url}/" in listed and "PLANWISE_SERVE_TOKEN" in listed  # its token came from there
        records = list((cache / "serve").glob("*.json"))
        assert [r.name for r in records] == [f"{proc.pid}.json"] and oct(records[0].stat().st_mode)[-3:] == "600"
        assert TOKEN not in records[0].read_text()
        stale = cache / "serve" / "999999.json"
        stale.write_text(json.dumps({**json.loads(records[0].read_text()), "pid": 999999}))
        assert "999999" not in planwise("serve", "list", env=env) and not stale.exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert not list((cache / "serve").glob("*.json"))  # removed at stop
    assert "No planwise server is running" in planwise("serve", "list", env=env)
    assert TOKEN not in (workspace / ".serve" / "serve.log").read_text()


def test_list_prints_the_workspace_token_of_a_server_started_without_the_variable(tmp_path, monkeypatch):
    from planwise_core.serve import registry

    env = {**os.environ, "PLANWISE_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "ws" / ".serve").mkdir(parents=True)
    (tmp_path / "ws" / ".serve" / "token").write_text("file-token\n")
    monkeypatch.setenv("PLANWISE_CACHE_DIR", env["PLANWISE_CACHE_DIR"])
    try:
        registry.record(tmp_path / "ws", "http://127.0.0.1:9", token_from_env=False)  # this process: running
        listed = planwise("serve", "list", env=env)
        assert "Open: http://127.0.0.1:9/?token=file-token" in listed
    finally:
        registry.remove()
