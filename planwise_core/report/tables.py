"""Tables as plain values: cell texts already formatted, rendered by the ``data_table`` macro.

Every chart carries one (its numbers), and the pages' own tables (the per-year summary,
runs, scenarios side by side) use the same type, so they look and print alike.
"""

from __future__ import annotations

from typing import Callable, Sequence

import attrs

from planwise_core.report.formatting import or_dash


@attrs.frozen
class Table:
    headers: tuple[str, ...] = attrs.field(converter=tuple)
    rows: tuple[tuple[str, ...], ...] = attrs.field(converter=lambda rows: tuple(tuple(r) for r in rows))
    numeric: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset)  # right-aligned columns
    row_classes: tuple[str, ...] = attrs.field(default=(), converter=tuple)  # a CSS class per row, "" for none

    def row_class(self, i: int) -> str:
        return self.row_classes[i] if i < len(self.row_classes) else ""


@attrs.frozen
class Column:
    header: str
    values: Sequence
    fmt: Callable[[object], str] = str
    numeric: bool = True


def by_columns(columns: Sequence[Column]) -> Table:
    """A table from equally long columns; a missing value (None) shows as an en dash."""
    rows = [[or_dash(v, c.fmt) for c, v in zip(columns, cells)] for cells in zip(*(c.values for c in columns))]
    return Table([c.header for c in columns], rows, {i for i, c in enumerate(columns) if c.numeric})


def bridge_table(bridges: Sequence[dict], label: str = "year") -> Table | None:
    """The cost bridge (outputs.bridge, docs/cost_bridge.md): per year a row for the match, the core and the net
    cost, the change then its drivers, to the cent; the net row's drivers add up to its change exactly."""
    from planwise_core.outputs.bridge import FACTORS, LABELS

    if not bridges:
        return None
    signed = lambda v: ("-" if v < 0 else "+" if v > 0 else "") + f"${abs(v):,.2f}"  # noqa: E731
    rows, classes = [], []
    for b in bridges:
        for name in ("match", "core"):
            c = b["components"][name]
            rows.append([str(b["year"]), name, signed(c["change"]), *(signed(c["terms"][k]) for k in FACTORS), ""])
            classes.append("")
        rows.append([str(b["year"]), "net cost", signed(b["change"]), *(signed(b["terms"][k]) for k in FACTORS),
                     signed(b["terms"]["forfeitures"])])
        classes.append("change")
    headers = [label, "component", "change", *(LABELS[k] for k in FACTORS), LABELS["forfeitures"]]
    return Table(headers, rows, range(2, len(headers)), classes)
