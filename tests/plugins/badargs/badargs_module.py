"""A plugin whose hookimpl asks for an argument the spec does not have."""

from planwise_core import hookimpl


@hookimpl
def process_year(ctx, yeer):
    return None
