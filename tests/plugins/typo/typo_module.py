"""A plugin whose hookimpl name is misspelled: the host must refuse it at start-up."""

from planwise_core import hookimpl


@hookimpl
def proces_year(ctx, year):
    return None
