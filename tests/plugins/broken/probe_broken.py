"""A plugin that fails while being imported (as a plugin with a missing dependency would)."""

raise RuntimeError("probe needs the 'frobnicate' package")
