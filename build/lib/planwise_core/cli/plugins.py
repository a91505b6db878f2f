"""The plugins command: what is installed, its hooks and versions."""

from __future__ import annotations

import json

import click

from planwise_core.cli.state import CliState


@click.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Also show each hookimpl's function, arguments and flags.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def plugins_cmd(state: CliState, show_all, as_json):
    """List plugins with their hooks and distribution versions."""
    from planwise_core.manager import describe_plugins

    rows = describe_plugins(state.plugin_manager(), detail=show_all)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        kind = "engine" if r["engine"] else "plugin"
        click.echo(f"{r['name']:<12} {kind:<7} {r['distribution']} {r['version']}  hooks: {', '.join(r['hooks'])}")
        for hook, impl in r.get("hookimpls", {}).items():
            flags = f" [{', '.join(impl['flags'])}]" if impl["flags"] else ""
            click.echo(f"    {hook}: {impl['function']}({', '.join(impl['argnames'])}){flags}")
