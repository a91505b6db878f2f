"""What every command shares: the global options, run overrides from command-line flags."""

from __future__ import annotations

from pathlib import Path

import attrs
import click

from planwise_core.config import SHORTHANDS, PlanwiseConfig, default_config
from planwise_core.config.checks import FIRST_YEAR, LAST_YEAR
from planwise_core.config.yaml_io import parse_yaml_value
from planwise_core.errors import ConfigError
from planwise_core.config.schema import INVALID_ROW_POLICIES

# The configuration's year range, so a bad --start-year is a usage error naming the option.
YEARS = click.IntRange(FIRST_YEAR, LAST_YEAR)


@attrs.define
class CliState:
    plugin: str | None
    config_path: str | None
    trace: bool

    def load_config(self) -> PlanwiseConfig:
        return default_config(self.config_path or None)

    def plugin_manager(self):
        from planwise_core.manager import enable_tracing, get_plugin_manager

        pm = get_plugin_manager()
        if self.trace:
            enable_tracing(pm)
        return pm


# The run flags that set configuration keys (their paths: config.SHORTHANDS).
RUN_OVERRIDES = ("start_year", "end_year", "seed", "optimization", "max_workers", "batch_size", "fail_fast",
                 "enable_compression", "on_invalid_rows", "date_format", "percent_strings")

ON_INVALID_ROWS = click.option(
    "--on-invalid-rows", type=click.Choice(INVALID_ROW_POLICIES),
    help="A census with invalid rows: refuse it whole, or drop those rows and list them in "
         "<database>.rejects.csv (overrides census.on_invalid_rows; default refuse).")


class ColumnMapping(click.ParamType):
    """``--column NAME=HEADER``: the census column NAME is the file's column HEADER (exactly as written)."""

    name = "NAME=HEADER"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        target, sep, header = str(value).partition("=")
        if not sep or not target.strip():
            self.fail(f"{value!r} is not NAME=HEADER (e.g. --column employee_termination_date='Term Date')",
                      param, ctx)
        if not header.strip():
            self.fail(f"{value!r} gives no header: write the file's column after '=' "
                      f"(e.g. --column {target.strip()}='Term Date')", param, ctx)
        return target.strip(), header


def census_reading_options(f):
    """``--column``, ``--date-format`` and ``--percent-strings``: how to read the census (census.* keys)."""
    f = click.option("--percent-strings", is_flag=True,
                     help="Read deferral rates written as 6% as 0.06 (census.percent_strings).")(f)
    f = click.option("--date-format", help="How the census writes dates, e.g. '%m/%d/%Y' (census.date_format; "
                                           "default YYYY-MM-DD).")(f)
    return click.option("--column", "columns", type=ColumnMapping(), multiple=True,
                        help="The census column NAME is the file's column HEADER, e.g. --column "
                             "employee_termination_date='Term Date' (repeatable; adds to census.columns).")(f)


def _column_overrides(config: PlanwiseConfig, pairs) -> dict:
    """census.columns with the --column pairs added (a pair replaces the configuration's for its column)."""
    given: dict[str, str] = {}
    for target, header in pairs:
        if target in given and given[target] != header:
            raise click.BadParameter(f"{target} is given twice ({given[target]!r} and {header!r}); give it once",
                                     param_hint="'--column'")
        given[target] = header
    return dict(config.census.columns) | given


def with_cli_overrides(config: PlanwiseConfig, options: dict) -> PlanwiseConfig:
    """``config`` with the command's flags, ``--years``, ``--assumptions`` and every ``--set`` applied, validated
    together: one ConfigError lists every problem, each with its key path."""
    overrides = {SHORTHANDS[name]: options[name] for name in RUN_OVERRIDES if options.get(name) not in (None, False)}
    given = {SHORTHANDS[name]: f"--{name.replace('_', '-')}" for name in RUN_OVERRIDES if SHORTHANDS[name] in overrides}
    years = options.get("years")
    if years:
        for flag in ("start_year", "end_year"):
            if options.get(flag) is not None:
                raise click.UsageError(f"--years and --{flag.replace('_', '-')} both give the years; use one")
        overrides["simulation.start_year"], overrides["simulation.end_year"] = years
        given.update({"simulation.start_year": "--years", "simulation.end_year": "--years"})
    if options.get("assumptions"):
        overrides["assumptions"] = str(Path(options["assumptions"]).resolve())
        given["assumptions"] = "--assumptions"
    if options.get("columns"):
        overrides["census.columns"] = _column_overrides(config, options["columns"])
        given["census.columns"] = "--column"
    for key, value in options.get("set_values") or ():
        if key in overrides and not _same_setting(key, overrides[key], value):
            raise click.UsageError(f"{_shown(key)} is given twice on the command line with different values "
                                   f"({given[key]} and --set {_shown(key)}=...); give it once")
        overrides[key], given[key] = value, f"--set {_shown(key)}=..."
    return config.with_overrides("the command line (--set, --years, flags)", **overrides) if overrides else config


def _shown(key: str) -> str:
    return key if len(key) <= 40 else key[:37] + "..."


def _same_setting(key: str, first, second) -> bool:
    if key == "assumptions" and isinstance(first, str) and isinstance(second, str):
        return Path(first).resolve() == Path(second).resolve()
    return type(first) is type(second) and first == second


class YearSpan(click.ParamType):
    """``2025-2029`` (or one year ``2025``) -> (start, end)."""

    name = "YEAR-YEAR"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        first, _, last = str(value).strip().partition("-")
        try:
            span = (int(first), int(last or first))
        except ValueError:
            self.fail(f"{value!r} is not a span of years such as 2025-2029", param, ctx)
        for year in span:
            if not FIRST_YEAR <= year <= LAST_YEAR:
                self.fail(f"{year} is outside {FIRST_YEAR}-{LAST_YEAR}", param, ctx)
        if span[1] < span[0]:
            self.fail(f"{value!r} ends before it starts (write it as {span[1]}-{span[0]})", param, ctx)
        return span


class KeyValue(click.ParamType):
    """``section.key=value``; the value is read as YAML (``0.15``, ``true``, ``null``, ``{2025: 0.03}``)."""

    name = "KEY=VALUE"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        key, sep, text = str(value).partition("=")
        if not sep or not key.strip():
            self.fail(f"{value!r} is not KEY=VALUE (e.g. workforce.total_termination_rate=0.15)", param, ctx)
        try:
            parsed = parse_yaml_value(text, f"--set {_shown(key.strip())}") if text.strip() else None
        except ConfigError as exc:
            self.fail(f"{_shown(key.strip())}: " + "; ".join(exc.problems), param, ctx)
        return key.strip(), parsed


def scenario_options(f):
    """``--years``, ``--assumptions`` and ``--set``: the what-if shortcuts of run and foundation."""
    f = click.option("--set", "set_values", type=KeyValue(), multiple=True,
                     help="Override one configuration key, e.g. --set workforce.total_termination_rate=0.15 "
                          "(repeatable; validated like the file).")(f)
    f = click.option("--assumptions", type=click.Path(file_okay=False),
                     help="Folder of parameter-table CSVs replacing the built-in ones (docs/assumptions.md); "
                          "overrides assumptions: in the config.")(f)
    return click.option("--years", type=YearSpan(),
                        help="Simulated years, e.g. 2025-2029 (overrides simulation.start_year/end_year).")(f)


def _remember(attribute: str):
    """Store an option given after the command name where the global option of the same name goes."""

    def callback(ctx: click.Context, param: click.Parameter, value):
        if value is None:
            return
        state = ctx.find_object(CliState)
        earlier = getattr(state, attribute)
        if earlier is not None and earlier != value:
            raise click.BadParameter(f"given before the command as {earlier!r} and after it as {value!r}; "
                                     "give it once", ctx=ctx, param=param)
        setattr(state, attribute, value)

    return callback


def input_options(f):
    """``--config`` and ``--plugin`` after the command name, the same as the global ones before it."""
    f = click.option("--plugin", expose_value=False, callback=_remember("plugin"),
                     help="Engine plugin to start with (the global --plugin, accepted here too).")(f)
    return click.option("--config", expose_value=False, type=click.Path(dir_okay=False),
                        callback=_remember("config_path"),
                        help="Run configuration YAML (the global --config, accepted here too).")(f)
