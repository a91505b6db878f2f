"""The one name used for the plugin manager, the markers and the entry-point group."""

PROJECT = "planwise"
