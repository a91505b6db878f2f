"""What both pages share outside their templates: the Jinja2 environment, the read-only database opening
and the atomic page write.

The templates, the stylesheet and the script are package data (``templates/``, ``static/``), read through
the package loader and ``importlib.resources``, so an installed wheel renders the same pages as a checkout.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from planwise_core.errors import PlanwiseError
from planwise_core.fileio import atomic_write_text
from planwise_core.report import formatting

# Nothing is loaded from anywhere: the stylesheet and the script are inlined, charts are inline SVG.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
FILTERS = {"scalar": formatting.scalar_text}  # numbers arrive formatted; configuration values are formatted here


def _escape(value):
    """Autoescaping with the standard library's entities (``&quot;``, ``&#x27;``) rather than markupsafe's
    numeric ones; markup (macros, the inlined static files) passes through."""
    return value if hasattr(value, "__html__") else Markup(html.escape(str(value), quote=True))


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("planwise_core.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, finalize=_escape,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    env.globals.update(csp=CSP, stylesheet=static("report.css"), script=static("report.js"))
    return env


def static(name: str) -> Markup:
    """A file of ``static/``, to inline as it is (package data, never user input)."""
    return Markup(importlib.resources.files("planwise_core.report").joinpath("static", name).read_text("utf-8"))


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def macro(name: str):
    """A macro of ``macros.html`` as a Python callable returning markup (for fragments and tests)."""
    return getattr(environment().get_template("macros.html").module, name)


def write_page(out: Path, page: str) -> Path:
    """Replace ``out`` with ``page`` atomically (a reader never sees half a page); returns ``out``."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(out, page)
    except OSError as exc:  # a full disk, a quota, a folder that cannot be written: the old page is kept
        raise PlanwiseError(f"Cannot write {out}: {exc.strerror or exc}. Any earlier report there was kept; free "
                            "some space (or fix the folder) and run the command again.") from None
