"""The keys each JSON request body may hold. A key the server does not know is refused (422, naming the key and
the allowed ones), never dropped in silence: a misspelt ``max_concurent`` would otherwise run with the
default (docs/serve.md, "The API")."""

from __future__ import annotations

import difflib

RUN = ("scenario", "census_id", "years", "start_year", "end_year", "seed", "set", "optimization_level", "plugin",
       "on_invalid_rows")
SCENARIO = ("description", "overrides", "census_id", "seeds", "plugin")
ALLOWED: dict[str, tuple[str, ...]] = {
    "run": RUN,
    "batch": ("name", "scenarios", "seeds", "census_id", "years", "max_concurrent"),
    "ensemble": ("name", "scenario", "seeds", "first_seed", "census_id", "years", "max_concurrent"),
    "fit": ("name", "census_ids"),
    "backtest": ("name", "census_ids", "holdout", "replicates"),
    "fit_save_tables": ("scenario",),
    "scenario_create": ("name", "base") + SCENARIO,
    "scenario_update": SCENARIO,
    "scenario_validate": SCENARIO,
    "scenario_duplicate": ("new_name",),
    "census_generate": ("employees", "seed", "name"),
    "export": ("format", "years"),
    "table_rows": ("rows",),
    "compat": ("start_year", "end_year", "optimization_level", "config_path", "census_id", "seed", "scenario",
               "wait"),
}


class BodyRefused(Exception):
    """A JSON body with keys this endpoint does not take (HTTP 422, one problem per unknown key)."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.status, self.code, self.problems = 422, "unknown_keys", problems


def unknown_keys(body: dict, kind: str) -> list[dict]:
    """One problem per key of ``body`` that a ``kind`` request does not take, with a likely meant key."""
    allowed = ALLOWED[kind]
    problems = []
    for key in sorted(str(k) for k in body if k not in allowed):
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append({"key": key[:64], "message": f"unknown key{hint} (allowed: {', '.join(allowed)})",
                         "severity": "error"})
    return problems


def check(body: dict, kind: str) -> dict:
    """``body`` itself when every key is one a ``kind`` request takes; BodyRefused otherwise."""
    problems = unknown_keys(body, kind)
    if problems:
        names = ", ".join(p["key"] for p in problems)
        raise BodyRefused(f"Unknown key(s) in the request: {names}. A {kind.replace('_', ' ')} request takes "
                          f"{', '.join(ALLOWED[kind])}; nothing was done.", problems)
    return body


def kind_of(request_body: dict, kind: str | None) -> tuple[str, dict]:
    """(kind, the body's own keys) of a job submission: batches and fits arrive as ``{"kind": ..., **body}``."""
    if kind is not None:
        return kind, {k: v for k, v in request_body.items() if k != "kind" or v != kind}
    inferred = request_body.get("kind")
    if inferred not in ALLOWED:
        raise BodyRefused("Unknown key(s) in the request: kind.", [
            {"key": "kind", "message": "unknown key", "severity": "error"}])
    return inferred, {k: v for k, v in request_body.items() if k != "kind"}
