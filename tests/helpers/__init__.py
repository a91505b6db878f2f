"""Helpers shared by every test module (one copy of each; see docs/testing.md).

* :mod:`helpers.cli` - real ``planwise`` processes (clean environment, fixture plugin sites, clean-failure checks);
* :mod:`helpers.common` - sha256 draws, file digests, completed years, HTML sections;
* :mod:`helpers.invariants` - the shared invariant set (workforce and plan money) every simulated run must keep.

The simulation registry and the SQL helpers (``rows``, ``scalar``, ``table_digest``...) live in ``conftest.py``.
"""
