"""CLI commands that read a finished simulation: report and export."""

from .cli import cli  # noqa: F401
