"""Issue 28, N2: nothing read from the parse cache can run code or come from another user (docs/configuration.md).

A pickle planted in the cache (which would create a file when unpickled) is never unpickled: the run parses
again and warns. Signed files that are writable by others, owned by another user or links are ignored; a key
file others can read is not used.
"""

from __future__ import annotations

import logging
import os
import pickle

import pytest

from planwise_core.engine import cache_auth
from planwise_core.engine.project import (DBT_PROJECT_DIR, MANIFEST_PICKLE, PARTIAL_PARSE, DbtProject, _parse,
                                          project_fingerprint)


class _Payload:
    """Unpickling this creates ``marker`` (an ``open(marker, "w")`` call): proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def private(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PLANWISE_CACHE_KEY", str(tmp_path / "keys" / "cache.key"))
    return tmp_path


@pytest.mark.slow
def test_a_planted_pickle_never_runs_and_the_run_parses_again(private, caplog):
    fingerprint = project_fingerprint(DBT_PROJECT_DIR)
    folder = private / "cache" / "dbt-parse" / fingerprint / "results"
    folder.mkdir(parents=True)
    marker = private / "MARKER"
    planted = pickle.dumps(_Payload(marker))
    # Bare, and dressed as a signed file with a made-up signature: neither is unpickled.
    (folder / MANIFEST_PICKLE).write_bytes(cache_auth.MAGIC + b"\0" * 32 + planted)
    (folder / "manifest.pickle").write_bytes(planted)
    (folder / PARTIAL_PARSE).write_bytes(b"\x80garbage")
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        manifest = _parse(DbtProject(private / "a" / "results.duckdb"), fingerprint)
    assert not marker.exists(), "the planted pickle ran"
    assert "model.planwise.fct_yearly_events" in manifest.nodes
    assert any("no valid signature" in r.getMessage() for r in caplog.records), caplog.text
    # The cache now holds this user's signed parse, which the next process loads.
    assert cache_auth.read_authenticated(folder / MANIFEST_PICKLE) is not None


def test_signed_files_round_trip_and_an_altered_one_is_refused(private, caplog):
    path = private / "c.signed"
    assert cache_auth.write_authenticated(path, b"payload", private)
    assert cache_auth.read_authenticated(path) == b"payload"
    assert path.stat().st_mode & 0o777 == 0o600
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        assert cache_auth.read_authenticated(path) is None
    assert "no valid signature" in caplog.text


def test_a_cache_file_writable_by_others_or_a_link_is_ignored(private, caplog):
    path = private / "c.signed"
    assert cache_auth.write_authenticated(path, b"payload", private)
    os.chmod(path, 0o666)
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        assert cache_auth.read_authenticated(path) is None
    assert "writable by other users" in caplog.text
    os.chmod(path, 0o600)
    link = private / "link.signed"
    link.symlink_to(path)
    assert cache_auth.read_authenticated(link) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_cache_file_owned_by_another_user_is_ignored(private, caplog):
    path = private / "c.signed"
    assert cache_auth.write_authenticated(path, b"payload", private)
    os.chown(path, 2001, 2001)
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        assert cache_auth.read_authenticated(path) is None
    assert "owned by another user (uid 2001)" in caplog.text


def test_a_key_others_can_read_is_not_used(private, caplog):
    key = cache_auth.key_path()
    assert cache_auth.user_key() is not None and key.stat().st_mode & 0o777 == 0o600
    os.chmod(key, 0o644)
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        assert cache_auth.user_key() is None
        assert not cache_auth.write_authenticated(private / "x.signed", b"p", private)
    assert "readable by other users" in caplog.text
