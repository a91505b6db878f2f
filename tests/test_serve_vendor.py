"""The vendored htmx file is the one recorded, with its license; nothing is loaded from another site; every
template of `planwise serve` parses (docs/serve.md, "Security model")."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jinja2

SERVE = Path(__file__).resolve().parent.parent / "planwise_core" / "serve"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # npm htmx.org 2.0.11 dist/htmx.min.js


def test_vendored_htmx_is_the_recorded_file_with_its_license():
    vendor = SERVE / "static" / "vendor"
    recorded = json.loads((vendor / "VENDORED.json").read_text())["htmx-2.0.11.min.js"]
    digest = hashlib.sha256((vendor / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest == recorded["sha256"] == HTMX_SHA256
    assert "0BSD" in recorded["license"] and "Permission to use" in (vendor / "LICENSE.htmx").read_text()


def test_no_page_or_script_loads_anything_from_another_site():
    offenders = [str(p) for p in (SERVE / "templates").iterdir()
                 if re.search(r"(src|href)=\"(https?:)?//", p.read_text())]
    offenders += [str(p) for p in (SERVE / "static").glob("*.*") if re.search(r"https?://", p.read_text())]
    assert offenders == []


def test_no_inline_script_or_style_in_the_templates():
    for path in (SERVE / "templates").iterdir():
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path.name
        assert "<style" not in text and " style=" not in text, path.name


def test_every_template_parses():
    from planwise_core.serve.pages import environment

    env = environment()
    for path in (SERVE / "templates").iterdir():
        assert isinstance(env.get_template(path.name), jinja2.Template)
