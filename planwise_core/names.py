"""The one name used for the plugin manager, the markers and the entry-point group."""

PROJECT = "planwise"


def planwise_version() -> str:
    """The installed planwise distribution's version ("unknown" when run from a tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("planwise")
    except PackageNotFoundError:
        return "unknown"
