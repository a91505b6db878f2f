"""Reading YAML input files safely: bounded size and expansion, no duplicate keys, UTF-8 only.

PyYAML's SafeLoader already refuses arbitrary Python objects; what it lacks are limits. An alias
"bomb" (a 1 KB file of nested aliases) composes into a small graph but expands to billions of
values once anything walks it, and a duplicated key silently keeps the last value. This loader
adds both checks to SafeLoader (PyYAML is already a dependency; the checks are a few lines), so
every YAML file PlanWise reads (configurations, scenario files) goes through one place.
"""

from __future__ import annotations

import decimal
import re
from pathlib import Path
from typing import Any

import yaml

from planwise_core.errors import ConfigError, require_path

MAX_YAML_BYTES = 1_000_000
# Values after expanding aliases: the default configuration has about 150.
MAX_YAML_VALUES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlLimitError(yaml.YAMLError):
    """A document that is well-formed YAML but breaks a limit: expansion, duplicate keys, a number too long."""

    def __init__(self, problem: str, mark=None):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _LimitedLoader(yaml.SafeLoader):
    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                marker = repr(key) if not isinstance(key, (str, int, float, bool, type(None))) else key
                if marker in seen:
                    raise YamlLimitError(
                        f"duplicate key {_short(key)} (first on line {seen[marker].start_mark.line + 1}; "
                        "keep one, a later value would silently replace the earlier)", key_node.start_mark)
                seen[marker] = key_node
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than MAX_YAML_VALUES values (or refer to themselves)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise YamlLimitError("an alias refers to a value that contains it (recursive alias)", node.start_mark)
        in_progress.add(key)
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        in_progress.discard(key)
        if total > MAX_YAML_VALUES:
            raise YamlLimitError(f"the aliases expand to more than {MAX_YAML_VALUES:,} values (an alias bomb?); "
                                 "write the values out or use fewer aliases", node.start_mark)
        sizes[key] = total
        return total

    size(root)


def _short(value: Any, width: int = 60) -> str:
    from planwise_core.config.checks import short_repr

    return short_repr(value, width)


_DECIMAL_INTEGER = re.compile(r"[-+]?[0-9]+")


def _int_or_limit(loader, node):
    """An integer scalar. A decimal integer longer than Python converts from text (4,300 digits) is read exactly
    (through Decimal, which has no such limit), so the validator refuses it at its key like any other value out
    of range; any other integer form that Python refuses is a limit problem at its line, never a traceback."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        text = str(node.value).replace("_", "")
        if _DECIMAL_INTEGER.fullmatch(text):
            with decimal.localcontext() as context:
                context.prec = len(text) + 1
                return int(decimal.Decimal(text))
        raise YamlLimitError(f"a number of {len(node.value):,} characters is longer than any value PlanWise "
                             "accepts", node.start_mark) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _int_or_limit)


def yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"YAML syntax error: {exc}"
    return f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax error: {exc.problem}"


def parse_yaml_value(text: str, source: str) -> Any:
    """A command-line value (``--set KEY=VALUE``) read as YAML with the limits of files: an alias bomb, a
    duplicate key, a number too long or an oversized value is a ConfigError; text that is not YAML stays text
    (the key's own check says what it expects)."""
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(source, [f"the value is longer than {MAX_YAML_BYTES:,} characters"])
    try:
        return yaml.load(text, Loader=_LimitedLoader)  # noqa: S506 - a SafeLoader subclass
    except YamlLimitError as exc:
        raise ConfigError(source, [yaml_problem(exc)]) from None
    except RecursionError:
        raise ConfigError(source, ["the YAML is nested too deeply to read"]) from None
    except yaml.YAMLError:
        return text


def parse_yaml(text: str, source: str) -> Any:
    """Parse one YAML document with the limits above; a problem is a ConfigError naming ``source``."""
    try:
        return yaml.load(text, Loader=_LimitedLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise ConfigError(source, [yaml_problem(exc)]) from None
    except RecursionError:
        raise ConfigError(source, ["the YAML is nested too deeply to read"]) from None


def read_text_file(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of a small input file (a BOM is fine); ConfigError when missing, too big or not text."""
    require_path(path, "path", optional=False)
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise ConfigError(source, [f"cannot read {what}: {exc.strerror or exc}"]) from None
    if len(data) > MAX_YAML_BYTES:
        raise ConfigError(source, [f"the {what} is larger than {MAX_YAML_BYTES:,} bytes; a configuration is a "
                                   "few KB (is this the right file?)"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(source, [f"line {line}: the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                                   "save it as UTF-8"]) from None


def load_yaml_file(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file; every problem is a ConfigError naming the file."""
    return parse_yaml(read_text_file(path, what), str(path))
