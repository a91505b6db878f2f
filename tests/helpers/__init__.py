"""Helpers shared by every test module (one copy of each; see docs/testing.md).

* :mod:`helpers.cli` - real ``planwise`` processes (clean environment, fixture plugin sites, clean-failure checks);
* :mod:`helpers.common` - sha256 draws, file digests, completed years, HTML sections;
* :mod:`helpers.invariants` - the shared invariant set (workforce and plan money) every simulated run must keep;
* :mod:`helpers.sims` - the simulation registry (``SimSpec``, ``CensusSpec``), the domain constants the tests recompute with;
* :mod:`helpers.sql` - ``rows``, ``scalar``, ``table_digest``;
* :mod:`helpers.money_rows`, :mod:`helpers.money_tables` - the money layer on hand-written rows, and on a copied run.

``tests/conftest.py`` holds only pytest's hooks and the ``sims`` fixture; no module imports it.
"""
