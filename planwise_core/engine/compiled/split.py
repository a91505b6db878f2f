"""A year's yearly models split into a head and a tail, from the DAG (docs/compiled_engine.md, two lanes).

The *head* of year Y is every yearly model that the next year's start population or its checks (the
``year_start`` phase of Y+1) need, directly or through other models, counting also what the next year's head
models themselves read; the *tail* is every other yearly model of Y (the money and NDT layer in this project). Nothing
of Y+1 before its own tail reads a tail table of Y, so Y's tail can run while Y+1's transition and head run.

"Reads" is taken wide, so that a doubt always keeps a model in the head: the models a node refers to (dbt's
``depends_on``, an ephemeral model's own reads in its place) and every model whose name appears as a word in the
node's compiled SQL (a table written by name, a read of the model's own earlier years).

``balanced`` picks, once a run, the first models of the tail to start the head from as well, when the node costs
recorded by earlier runs say that shortens the longer lane (docs/compiled_engine.md, balancing the lanes).
"""

from __future__ import annotations

import re

import attrs

from planwise_core.engine.compiled.cache import Entry, Node

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class Split:
    """A year's yearly nodes in two groups, each in the entry's (DAG) order."""

    head: tuple[Node, ...]
    tail: tuple[Node, ...]


def reads(node: Node, models: set[str]) -> set[str]:
    """The models ``node`` may read: its refs, and every model named as a word in its SQL (itself included)."""
    return set(node.depends_on) | (set(_WORD.findall(node.sql)) & models)


def split_year(yearly: Entry, next_start: Entry, next_yearly: Entry, seeds: tuple[str, ...] = ()) -> Split:
    """Year Y's ``yearly`` nodes split for an overlap with Y+1 (``next_start``, ``next_yearly``: the entries of
    Y+1's two phases). The head is closed under reads in both years' SQL, so it can run alone and first; ``seeds``
    names models put in the head as well (with everything they read), to balance the lanes."""
    models = {node.name for entry in (yearly, next_start, next_yearly) for node in entry.nodes
              if node.kind == "model"}
    graph: dict[str, set[str]] = {}
    for node in (*yearly.nodes, *next_yearly.nodes, *next_start.nodes):
        graph.setdefault(node.name, set()).update(reads(node, models))
    head: set[str] = set()
    todo = [name for node in next_start.nodes for name in graph[node.name]] + [name for name in seeds if name in graph]
    while todo:
        name = todo.pop()
        if name not in head:
            head.add(name)
            todo.extend(graph.get(name, ()))
    return Split(tuple(n for n in yearly.nodes if n.name in head), tuple(n for n in yearly.nodes if n.name not in head))


def balanced(yearly: Entry, next_start: Entry, next_yearly: Entry, cost) -> tuple[str, ...]:
    """The seeds that balance the lanes: the first k models of the tail (in DAG order) moved into the head, for the
    k whose longer lane is the shortest, by ``cost(node)`` (the seconds a node is expected to take, None when
    unknown). A lane is the next year's start and head (the main one) or the year's tail. () when a cost is unknown
    or no move shortens the longer lane by at least 5 % (measured costs are noisy)."""
    tail = split_year(yearly, next_start, next_yearly).tail
    costs = {node: cost(node) for entry in (yearly, next_start) for node in entry.nodes}
    if None in costs.values():
        return ()

    def longer(seeds: tuple[str, ...]) -> float:
        split = split_year(yearly, next_start, next_yearly, seeds)
        main = sum(costs[node] for node in (*next_start.nodes, *split.head))
        return max(main, sum(costs[node] for node in split.tail))

    options = [tuple(node.name for node in tail[:k]) for k in range(len(tail) + 1)]
    best = min(options, key=longer)
    return best if longer(best) < 0.95 * longer(()) else ()
