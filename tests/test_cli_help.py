"""`planwise` alone and each command's --help (issue 17): the workflow, exit 0, and an example that parses."""

from __future__ import annotations

import shlex

import click
from click.testing import CliRunner

from planwise_core.cli import EXAMPLES, cli


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def test_planwise_alone_prints_the_help_and_the_workflow_and_exits_0():
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 0, result.output
    assert "Commands:" in result.output and "A typical session:" in result.output
    steps = [line.split()[1] for line in result.output.splitlines() if line.strip().startswith("planwise ")]
    assert steps == ["census", "run", "summary", "report", "export"]


def test_every_commands_help_ends_with_an_example_that_its_options_accept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files the examples name, so that options checking existence accept them
    (tmp_path / "output").mkdir()
    (tmp_path / "my_tables").mkdir()
    for name in ("output/planwise.duckdb", "output/baseline.duckdb", "output/high_turnover.duckdb", "census.csv",
                 "scenarios.yaml", "my_config.yaml"):
        (tmp_path / name).write_text("")
    for path, command in _commands(cli):
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, path
        example = result.output.split("Example:")[1].strip().splitlines()[0]
        words = shlex.split(example)
        assert words[: 1 + len(path)] == ["planwise", *path], (path, example)
        if not isinstance(command, click.Group):  # parse (not run) the example's options
            command.make_context(path[-1], words[1 + len(path):], obj=None)
    assert set(EXAMPLES) == set(cli.commands)
