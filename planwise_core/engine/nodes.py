"""The models each engine step runs, as dbt selects them (selectors.yml), in DAG order.

Python never lists models: a selector names a group of nodes, dbt resolves it against the parsed
manifest, and the order comes from the models' own dependencies (for engines that run them one by one).
"""

from __future__ import annotations

import graphlib
import os

from planwise_core.engine.project import DbtProject, parsed_manifest
from planwise_core.errors import SimulationError

STAGING, BASELINE, FOUNDATION = "staging", "baseline", "foundation"
YEAR_START, YEARLY = "year_start", "yearly"
WHOLE_YEAR = "year"  # year_start and yearly in one `dbt build` (the transition checks, none of the yearly tests)
YEARLY_MODELS = "yearly_models"  # yearly without its tests: what the compiled engine compiles for that phase


def selected_models(project: DbtProject, selector: str) -> tuple[str, ...]:
    """Names of the models ``selector`` selects, parents before children (ties by name).

    Ephemeral models are left out: they are compiled into the models that read them and never run alone.
    """
    from dbt.cli.main import dbtRunner

    manifest = parsed_manifest(project)
    os.environ.update(project.env())
    result = dbtRunner(manifest=manifest).invoke(
        ["ls", *project.common_args(), "--selector", selector, "--resource-type", "model", "--output", "name",
         "--log-level", "none", "--quiet"])
    if not result.success:
        raise SimulationError(f"dbt could not resolve selector {selector!r}: {result.exception}")
    names = set(result.result)
    by_id = {uid: node for uid, node in manifest.nodes.items() if node.resource_type == "model" and node.name in names}
    return in_dag_order(by_id)


def in_dag_order(by_id: dict) -> tuple[str, ...]:
    """Names of the model nodes ``by_id`` (unique id -> node), parents before children (ties by name), the
    ephemeral ones left out."""
    graph = {node.name: {by_id[p].name for p in node.depends_on.nodes if p in by_id} for node in by_id.values()}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered.extend(ready)
        sorter.done(*ready)
    # Ordered with the ephemeral models in the graph, so a model follows what they read; then left out.
    ephemeral = {node.name for node in by_id.values() if node.config.materialized == "ephemeral"}
    return tuple(name for name in ordered if name not in ephemeral)


def transition_checks(project: DbtProject) -> tuple[str, ...]:
    """Names of the dbt tests that check a year's start population (tag year_start)."""
    manifest = parsed_manifest(project)
    return tuple(sorted(n.name for n in manifest.nodes.values() if n.resource_type == "test"
                        and YEAR_START in n.tags and getattr(n, "test_metadata", None) is None))


def year_partitioned_models(project: DbtProject) -> tuple[str, ...]:
    """The year_partition models: they keep one partition per simulation year, replaced when a year re-runs."""
    return tuple(sorted(n.name for n in parsed_manifest(project).nodes.values()
                        if n.resource_type == "model" and n.config.materialized == "year_partition"))
