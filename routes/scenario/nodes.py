"""YAML at the node level: safe composition, line numbers, what YAML made of a value, guarded walking.

Only PyYAML's safe composer is used (``profiles.yaml_lines.compose_all``: libyaml's C composer where
PyYAML has it, with the same node limit and the same refusal of explicit tags such as ``!!int abc``): nothing is constructed from tags, every
value keeps its line, and a value YAML resolved to a bool/number/date where text belongs can be told
apart (and reported with its original spelling) from a quoted string.
"""
from __future__ import annotations

import re
from typing import Iterator

import yaml
import yaml.reader
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routesim.profiles.yaml_lines import YAML_TAG, ExplicitTag, TooManyNodes, compose_all, reader_problem
from routesim.routes.scenario.limits import MAX_FILE_BYTES, MAX_NODES, MAX_NUMBER_CHARS
from routesim.routes.scenario.model import ScenarioError

MAX_BYTES = MAX_FILE_BYTES   # the name older callers import

_constructor = SafeConstructor()
_SCALAR_KINDS = {"str", "int", "float", "bool", "null", "timestamp", "value", "merge", "binary"}
_SCALAR_KIND_BY_TAG = {YAML_TAG + k: k for k in _SCALAR_KINDS}  # kind() runs for every value: one lookup
_MAP, _SEQ = YAML_TAG + "map", YAML_TAG + "seq"
STR_TAG, NULL_TAG = YAML_TAG + "str", YAML_TAG + "null"  # what the schema walk asks of nearly every value


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def kind(node: Node) -> str:
    """'str' 'int' 'float' 'bool' 'null' 'timestamp' 'seq' 'map', another yaml.org name, or 'tag'."""
    cls = node.__class__
    if cls is ScalarNode:
        return _SCALAR_KIND_BY_TAG.get(node.tag, "tag")
    if cls is MappingNode:
        return "map" if node.tag == _MAP else "tag"
    if cls is SequenceNode:
        return "seq" if node.tag == _SEQ else "tag"
    tag = node.tag or ""
    name = tag[len(YAML_TAG):] if tag.startswith(YAML_TAG) else ""
    return name if name in _SCALAR_KINDS else "tag"


def is_null(node: Node | None) -> bool:
    if node is None:
        return True
    if node.__class__ is ScalarNode:
        return node.tag == NULL_TAG
    return isinstance(node, ScalarNode) and kind(node) == "null"


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


_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_PLAIN_FLOAT = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$")


def yaml11_reading(node: ScalarNode) -> str | None:
    """How YAML 1.1 read an unquoted number that is not plain decimal (``010`` octal 8, ``0x12`` 18, ``1:30``
    base-60 90, ``1_000`` 1000, ``0b11`` 3, ``.inf``), or None for a plain decimal number (or a non-number).
    YAML 1.2 and most readers take these differently or as text, so the format refuses them."""
    k, text = kind(node), node.value
    if k not in ("int", "float") or len(text) > MAX_NUMBER_CHARS:
        return None
    if (k == "int" and _PLAIN_INT.match(text)) or (k == "float" and _PLAIN_FLOAT.match(text)):
        return None
    bare = text.lstrip("+-").lower()
    if ":" in text:
        how = "a base-60 number"
    elif bare.startswith("0x"):
        how = "a hexadecimal number"
    elif bare.startswith("0b"):
        how = "a binary number"
    elif "_" in text:
        how = "a number with its underscores dropped"
    elif k == "int":
        how = "an octal number"
    elif bare in (".inf", ".nan"):
        return f"the special number {bare}"
    else:
        how = "a number"
    value = int_value(node) if k == "int" else float_value(node)
    return f"{how}, {value:g}" if k == "float" else f"{how}, {value}"


def describe(node: Node) -> str:
    """What YAML made of a value, for messages."""
    k = kind(node)
    if k in ("int", "float") and len(node.value) > MAX_NUMBER_CHARS:
        return f"a number written with {len(node.value)} characters"
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
    if len(text) > MAX_BYTES or (len(text) * 4 > MAX_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES):
        raise ScenarioError(file, 1, f"file is larger than {MAX_BYTES // 1024} KiB; not a scenario file")
    expanded = 0  # values of the whole file with every alias expanded: what the schemas will walk
    # Without an alias ("*name") no node is shared: every document is a tree inside the stream's value
    # limit, which compose_all checked, so no cycle, no bomb and no expansion past the limit is possible.
    aliased = "*" in text
    try:
        for root in compose_all(text, MAX_NODES):  # libyaml when present; both readers refuse control characters
            if root is None or (is_null(root) and not root.value and not root.style):
                continue
            if not aliased:
                yield root
                continue
            expanded += check_graph(root, file)
            if expanded > MAX_NODES:
                raise ScenarioError(file, line_of(root), f"the file's documents expand to more than {MAX_NODES} "
                                                         f"values; split the scenarios into several files")
            yield root
    except TooManyNodes as e:
        raise ScenarioError(file, e.line, f"the file holds more than {MAX_NODES} values; split the "
                                          f"scenarios into several files") from None
    except ExplicitTag as e:
        raise ScenarioError(file, e.line, f"the explicit YAML tag {e.short} is not part of the scenario format; "
                                          f"write the plain value ({e.value[:40]!r} without {e.short}), quoting text"
                            ) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        problem = "; ".join(p for p in (e.context, e.problem) if p)
        if e.context == "while scanning a block scalar" or "'>'" in (e.problem or ""):
            problem += ' (an unquoted > starts a folded text block: quote comparisons, e.g. bytes: ">1000")'
        raise ScenarioError(file, line, f"not valid YAML: {problem}") from None
    except yaml.reader.ReaderError as e:
        line = text[: max(0, e.position)].count("\n") + 1
        raise ScenarioError(file, line, f"not valid YAML: {reader_problem(e)}") from None
    except yaml.YAMLError as e:
        raise ScenarioError(file, 1, f"not valid YAML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise ScenarioError(file, 1, "YAML nested too deeply") from None


def check_graph(root: Node, file: str) -> int:
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
        return size(root)
    except RecursionError:
        raise ScenarioError(file, line_of(root), "YAML nested too deeply") from None
