"""Ask dbt for a phase's compiled SQL (``dbt compile`` in this process) and turn it into a cache entry.

dbt stays the single source of every statement: the engine never writes SQL of its own for a model, it takes each
node's ``compiled_code`` (the ephemeral models injected as CTEs) and its materialization from the nodes dbt
compiled, and orders the models by their dependencies (engine/nodes.py). A model the compiled engine cannot run
exactly as the project's materializations would (another materialization, hooks, contracts...) is a compile error:
the year falls back to the optimized engine, which runs it through dbt.
"""

from __future__ import annotations

import contextlib
import threading

from planwise_core.engine.compiled.cache import Entry, Node, ProjectFacts, narrowed
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.nodes import in_dag_order, transition_checks, year_partitioned_models
from planwise_core.engine.project import parsed_manifest
from planwise_core.errors import SimulationError

RUNNABLE = ("table", "scratch_table", "year_partition")  # what engine/compiled/executor.py runs
_UNSUPPORTED = ("grants", "indexes", "partitioned_by", "sorted_by", "unique_key", "incremental_strategy",
                "sql_header")
_RECORDING = threading.Lock()  # one recorded compile at a time in this process


class CompiledSQLError(SimulationError):
    """The compiled engine could not compile or run a statement: the year is retried by the next engine."""


def compile_phase(invoker: InProcessDbt, key: dict, selector: str, with_tests: bool) -> Entry:
    """One ``dbt compile --selector`` with the key's vars (engine/compiled/agnostic.py); the entry, keyed by ``key``
    narrowed to the vars the compile looked up (cache.narrowed; the full key when they could not be recorded)."""
    try:
        with recorded_vars() as reads:
            invoker.invoke("compile", "--selector", selector, dbt_vars=key["vars"])
    except SimulationError as exc:
        raise CompiledSQLError(f"compiled engine: dbt could not compile {selector}: {exc}") from None
    compiled = [r.node for r in invoker.last_result.result.results]
    manifest = parsed_manifest(invoker.project)
    models = {n.unique_id: n for n in compiled if n.resource_type == "model"}
    by_id = dict(models, **{uid: n for uid, n in manifest.nodes.items()
                            if n.resource_type == "model" and n.config.materialized == "ephemeral"})
    named = {node.name: node for node in models.values()}
    nodes = [_model(named[name], _reads(named[name], manifest), key["vars"]) for name in in_dag_order(by_id)]
    if with_tests:
        nodes += [_test(n, _reads(n, manifest)) for n in sorted(compiled, key=lambda n: n.name)
                  if n.resource_type == "test"]
    if reads is not None:  # the vars the entry depends on: those the SQL read, and those the `empty` flags read
        declared = {(node.config.meta or {}).get("empty_unless") for node in models.values()} - {None}
        key = narrowed(key, reads | declared)
    return Entry(key, tuple(nodes), project_facts(invoker))


@contextlib.contextmanager
def recorded_vars():
    """The names of the vars dbt's Jinja looks up while the block runs (a set filled as it runs), or None when this
    dbt offers no place to record them. Every ``var()`` of a model, macro or test asks its ``Var`` context object
    ``has_var`` first (dbt/context/base.py), from whichever of dbt's threads renders the node; the method is
    wrapped for the block and restored after. A lookup by anything else running dbt in this process meanwhile is
    recorded too: more names only narrow a key less (docs/compiled_engine.md, "The cache")."""
    try:
        from dbt.context.base import Var
    except ImportError:
        yield None
        return
    original = Var.__dict__.get("has_var")
    if original is None:
        yield None
        return
    seen: set[str] = set()

    def has_var(self, var_name):
        seen.add(var_name)
        return original(self, var_name)

    with _RECORDING:
        Var.has_var = has_var
        try:
            yield seen
        finally:
            Var.has_var = original


def project_facts(invoker: InProcessDbt) -> ProjectFacts:
    """The answers engines.Engine gives from the manifest, kept with every entry."""
    project = invoker.project
    manifest = parsed_manifest(project)
    models = sorted(n.name for n in manifest.nodes.values() if n.resource_type in ("model", "seed"))
    return ProjectFacts(models, year_partitioned_models(project), transition_checks(project))


def _reads(node, manifest) -> tuple[str, ...]:
    """The names of the models ``node`` reads by ref, an ephemeral model replaced by what it reads (it is
    compiled into the node as a CTE)."""
    reads, todo = set(), list(node.depends_on.nodes)
    while todo:
        parent = manifest.nodes.get(todo.pop())
        if parent is None or parent.resource_type != "model":
            continue
        if parent.config.materialized == "ephemeral":
            todo.extend(parent.depends_on.nodes)
        else:
            reads.add(parent.name)
    return tuple(sorted(reads))


def _model(node, reads: tuple[str, ...], dbt_vars: dict) -> Node:
    config = node.config
    materialized = config.materialized
    problems = [key for key in _UNSUPPORTED if config.get(key)]
    if getattr(config.contract, "enforced", False):
        problems.append("contract")
    if config.pre_hook or config.post_hook:
        problems.append("hooks")
    if materialized not in RUNNABLE or node.language != "sql" or problems:
        what = ", ".join(problems) or f"materialized={materialized!r}, language={node.language!r}"
        raise CompiledSQLError(f"compiled engine: model {node.name} ({what}) is not run by the compiled engine")
    return Node(node.name, "model", node.compiled_code, materialized=materialized, relation=node.relation_name,
                schema=f'"{node.database}"."{node.schema}"', year_column=config.get("year_column", "simulation_year"),
                depends_on=reads, empty=_empty(node, dbt_vars))


def _empty(node, dbt_vars: dict) -> bool:
    """Whether the model has no rows in this configuration: it names, as ``meta.empty_unless``, a boolean var that is
    false here (docs/compiled_engine.md, "Models without rows")."""
    var = (node.config.meta or {}).get("empty_unless")
    if var is None:
        return False
    if not isinstance(dbt_vars.get(var), bool):
        raise CompiledSQLError(f"compiled engine: model {node.name} declares meta.empty_unless {var!r}, which is not "
                               "a boolean var of the project")
    return node.config.materialized == "year_partition" and not dbt_vars[var]


def _test(node, reads: tuple[str, ...]) -> Node:
    config = node.config
    if config.get("store_failures") or config.get("limit") is not None:
        raise CompiledSQLError(f"compiled engine: test {node.name} stores failures or sets a limit, which the "
                               "compiled engine does not implement")
    return Node(node.name, "test", node.compiled_code, severity=str(config.severity).upper(),
                warn_if=config.warn_if, error_if=config.error_if, fail_calc=config.fail_calc, depends_on=reads)
