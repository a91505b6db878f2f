"""One problem of an input (a configuration key, a parameter-table cell), located by its key path.

The configuration validator and the parameter-table validator both report :class:`Problem` objects besides their
text lines (which the CLI prints unchanged), so a program - a web form, a JSON API - can put each message next to
the field it is about. See docs/configuration.md ("Problems as data").
"""

from __future__ import annotations

import re
from typing import Any

import attrs

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)
TOP_LEVEL = "(top level)"
_INDEX = re.compile(r"\[(\d+)\]")


def dotted(path: tuple) -> str:
    """``("plan", "match", "tiers", 1, "rate")`` -> ``"plan.match.tiers[1].rate"``; ``()`` -> ``"(top level)"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or TOP_LEVEL


def split_key(key: str) -> tuple[str | int, ...]:
    """The inverse of :func:`dotted` for a key path as the validators write it: ``"a.b[2].c"`` -> ``("a", "b", 2, "c")``."""
    if key == TOP_LEVEL:
        return ()
    path: list[str | int] = []
    for part in key.split("."):
        name, *rest = _INDEX.split(part)  # "tiers[1]" -> ["tiers", "1", ""]
        if name:
            path.append(name)
        path += [int(index) for index in rest[::2]]
    return tuple(path)


@attrs.frozen
class Problem:
    """``path``: the keys and list indices leading to the value at fault; ``key``: the same as one dotted string
    (exactly as the text messages print it); ``severity``: ``error`` (refused) or ``warning`` (accepted)."""

    path: tuple[str | int, ...] = attrs.field(converter=tuple)
    message: str
    severity: str = attrs.field(default=ERROR, validator=attrs.validators.in_(SEVERITIES))
    key: str = attrs.field(default=attrs.Factory(lambda self: dotted(self.path), takes_self=True))

    @classmethod
    def at(cls, key: str, message: str, severity: str = ERROR) -> "Problem":
        """A problem at a dotted key path, e.g. ``Problem.at("plan.match.tiers[1].rate", "must be ...")``."""
        return cls(split_key(key), message, severity, key)

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"key", "path", "message", "severity"}``."""
        return {"key": self.key, "path": list(self.path), "message": self.message, "severity": self.severity}
