"""YAML at the node level: safe composition, line numbers, what YAML made of a value, guarded walking.

Only ``yaml.compose_all(..., Loader=yaml.SafeLoader)`` is used: nothing is constructed from tags, every
value keeps its line, and a value YAML resolved to a bool/number/date where text belongs can be told
apart (and reported with its original spelling) from a quoted string.
"""
from __future__ import annotations

from typing import Iterator

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routesim.routes.scenario.model import ScenarioError

YAML_TAG = "tag:yaml.org,2002:"
MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 200_000          # per document, counting every alias expansion

_constructor = SafeConstructor()
_SCALAR_KINDS = {"str", "int", "float", "bool", "null", "timestamp", "value", "merge", "binary"}


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def kind(node: Node) -> str:
    """'str' 'int' 'float' 'bool' 'null' 'timestamp' 'seq' 'map', another yaml.org name, or 'tag'."""
    tag = node.tag or ""
    if isinstance(node, MappingNode):
        return "map" if tag == YAML_TAG + "map" else "tag"
    if isinstance(node, SequenceNode):
        return "seq" if tag == YAML_TAG + "seq" else "tag"
    name = tag[len(YAML_TAG):] if tag.startswith(YAML_TAG) else ""
    return name if name in _SCALAR_KINDS else "tag"


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and kind(node) == "null")


def source_text(node: ScalarNode) -> str:
    """The scalar as written (a local tag included: ``!pri``)."""
    if kind(node) == "tag":
        return f"{node.tag} {node.value}".strip() if node.value else node.tag
    return node.value


def int_value(node: ScalarNode) -> int:
    return _constructor.construct_yaml_int(node)


def float_value(node: ScalarNode) -> float:
    return _constructor.construct_yaml_float(node)


def bool_value(node: ScalarNode) -> bool:
    return _constructor.construct_yaml_bool(node)


def describe(node: Node) -> str:
    """What YAML made of a value, for messages."""
    k = kind(node)
    if k == "map":
        return "a mapping"
    if k == "seq":
        return "a list"
    if k == "null":
        return "null (nothing)"
    if k == "str":
        return f"the text {node.value!r}"
    if k == "tag":
        return f"a value with the YAML tag {node.tag}"
    if k == "int":
        value = int_value(node)
        if ":" in node.value:
            return f"the number {value} (YAML 1.1 reads digits separated by colons as a base-60 number)"
        return f"the number {value}"
    if k == "float":
        return f"the number {float_value(node)!r}"
    if k == "bool":
        return f"the boolean {str(bool_value(node)).lower()}"
    if k == "timestamp":
        return "a date"
    return f"a YAML {k} value"


def compose_documents(text: str, file: str) -> Iterator[Node]:
    """The file's YAML documents as node trees (empty documents skipped), YAML errors as ScenarioError."""
    if len(text) > MAX_BYTES:
        raise ScenarioError(file, 1, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; not a scenario file")
    try:
        for root in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if root is None or (is_null(root) and not root.value and not root.style):
                continue
            check_graph(root, file)
            yield root
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        problem = "; ".join(p for p in (e.context, e.problem) if p)
        if e.context == "while scanning a block scalar" or "'>'" in (e.problem or ""):
            problem += ' (an unquoted > starts a folded text block: quote comparisons, e.g. bytes: ">1000")'
        raise ScenarioError(file, line, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise ScenarioError(file, 1, f"not valid YAML: {e}") from None
    except RecursionError:
        raise ScenarioError(file, 1, "YAML nested too deeply") from None


def check_graph(root: Node, file: str) -> None:
    """Refuse alias cycles (``&a [*a]``) and alias bombs before anything walks the tree."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ScenarioError(file, line_of(node), "a YAML alias refers to a node that contains it (a cycle)")
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        if total > MAX_NODES:
            raise ScenarioError(file, line_of(node), f"document expands to more than {MAX_NODES} values")
        sizes[key] = total
        return total

    try:
        size(root)
    except RecursionError:
        raise ScenarioError(file, line_of(root), "YAML nested too deeply") from None
