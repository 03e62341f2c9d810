"""The catalog files' reading context: one model or quirk file's problems collected as "FILE:LINE: field 'x':
what; what would be right", its one YAML document vetted (standard tags only, no aliases), and the field
checks the model and quirk parsers share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import yaml
import yaml.reader
import yaml.resolver
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routesim.profiles.platform import VersionRange
from routesim.profiles.provenance import Source
from routesim.profiles.quirks import check_name, suggest
from routesim.profiles.yaml_lines import (
    YAML_TAG, BoundedLoader, ExplicitTag, FileProblem, TooManyNodes, decode_utf8, read_bytes_limited, reader_problem,
)

MAX_CATALOG_FILE_BYTES = 256 * 1024   # one model or quirk file; the bundled ones are a few KiB
MAX_CATALOG_NODES = 20_000            # values per catalog file


# ------------------------------------------------------------------------------ the catalog files' context ---

class CatalogError(ValueError):
    """One or more problems in catalog files; each line reads "FILE:LINE: field 'x': what; what would be right"."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


_RESOLVER = yaml.resolver.Resolver()
_STD_TAGS = {YAML_TAG + t for t in ("str", "int", "float", "bool", "null")}
_MAP_TAG, _SEQ_TAG = YAML_TAG + "map", YAML_TAG + "seq"


class Invalid(Exception):
    """Raised inside a field check; the message is recorded by the context."""


@dataclass
class Ctx:
    """One catalog file being read: its label and the problems found so far."""

    file: str
    errors: list[str] = field(default_factory=list)
    _constructor: SafeConstructor = field(default_factory=SafeConstructor)

    def err(self, node: Node | None, fld: str, msg: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        where = f"field '{fld}': " if fld else ""
        self.errors.append(f"{self.file}:{line}: {where}{msg}")

    def fail(self, node: Node | None, fld: str, msg: str) -> None:
        self.err(node, fld, msg)
        raise Invalid

    def value(self, node: Node, fld: str) -> Any:
        """Plain Python value of a node tree (tags and aliases were already vetted by ``check_tree``)."""
        if node.tag not in _STD_TAGS | {_MAP_TAG, _SEQ_TAG}:
            self.fail(node, fld, f"YAML tag {node.tag!r} is not allowed; write a plain value")
        if isinstance(node, ScalarNode):
            if node.tag in (YAML_TAG + "int", YAML_TAG + "float") and len(node.value) > 40:
                self.fail(node, fld, f"a number written with {len(node.value)} characters; write at most 40")
            return self._constructor.construct_object(node, deep=True)
        if isinstance(node, SequenceNode):
            return [self.value(n, f"{fld}[{i}]") for i, n in enumerate(node.value)]
        return {k: self.value(v, f"{fld}.{k}" if fld else k) for k, (_, v) in self.mapping(node, fld).items()}

    def mapping(self, node: Node, fld: str) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            self.fail(node, fld, f"expected a mapping, got {kind(node)}; write 'key: value' lines")
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            if not (isinstance(k, ScalarNode) and k.tag == YAML_TAG + "str"):
                self.fail(k, fld, f"key {str(k.value)[:40]!r} is not a plain string; quote it")
            if k.value in out:
                prev = out[k.value][0].start_mark.line + 1
                self.fail(k, join(fld, k.value), f"duplicate key (first at line {prev}); keep one")
            out[k.value] = (k, v)
        return out

    def keys(self, m: dict[str, tuple[Node, Node]], fld: str, allowed: Sequence[str],
             required: Sequence[str] = ()) -> None:
        ok = True
        for key, (knode, _) in m.items():
            if key not in allowed:
                hint = suggest(key, allowed)
                right = f"did you mean {hint!r}?" if hint else "known keys: " + ", ".join(allowed)
                self.err(knode, join(fld, key), f"unknown key; {right}")
                ok = False
        anchor = next(iter(m.values()))[0] if m else None
        for key in required:
            if key not in m:
                what = f"the {fld} group" if fld else "the file"
                self.err(anchor, join(fld, key), f"missing; {what} needs it")
                ok = False
        if not ok:
            raise Invalid


def join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b


def kind(node: Node) -> str:
    """What YAML made of a value, for messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        YAML_TAG + "int": "an integer", YAML_TAG + "float": "a number", YAML_TAG + "bool": "a boolean",
        YAML_TAG + "null": "null",
    }.get(node.tag, f"the string {str(node.value)[:60]!r}")


def read_document(file: Any, ctx: Ctx, what: str) -> Node | None:
    """The one YAML document of a catalog file, vetted; None after recording the problem in ``ctx``."""
    try:
        text = decode_utf8(read_bytes_limited(file, MAX_CATALOG_FILE_BYTES, what))
    except FileProblem as e:
        ctx.errors.append(f"{ctx.file}:{e.line}: {e.message}")
        return None
    return compose(text, ctx)


def compose(text: str, ctx: Ctx) -> Node | None:
    loader = None
    try:
        # explicit tags pass here: check_tree refuses them naming the field; the reader refuses control characters
        loader = BoundedLoader(text, MAX_CATALOG_NODES, refuse_explicit_tags=False)
        docs = []
        while loader.check_node():
            docs.append(loader.get_node())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        ctx.errors.append(f"{ctx.file}:{line}: not valid YAML: {e.problem or e.context}; fix the syntax there")
        return None
    except yaml.reader.ReaderError as e:
        line = text[: max(0, e.position)].count("\n") + 1
        ctx.errors.append(f"{ctx.file}:{line}: not valid YAML: {reader_problem(e)}")
        return None
    except yaml.YAMLError as e:
        ctx.errors.append(f"{ctx.file}:1: not valid YAML: {' '.join(str(e).split())}; save the file as UTF-8 text")
        return None
    except ExplicitTag as e:
        ctx.errors.append(f"{ctx.file}:{e.line}: the explicit YAML tag {e.short} is not allowed; write the plain "
                          f"value ({e.value[:40]!r} without {e.short})")
        return None
    except TooManyNodes as e:
        ctx.errors.append(f"{ctx.file}:{e.line}: the file holds more than {e.limit} values; a catalog file "
                          f"describes one model or a list of quirks")
        return None
    except RecursionError:
        ctx.errors.append(f"{ctx.file}:1: YAML nested too deeply; a catalog file is a few levels of mappings")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    docs = [d for d in docs if d is not None]
    if not docs:
        ctx.errors.append(f"{ctx.file}:1: the file is empty; write one mapping")
        return None
    if len(docs) > 1:
        ctx.errors.append(f"{ctx.file}:{docs[1].start_mark.line + 1}: a second YAML document; "
                          f"keep one document per file")
        return None
    try:
        return docs[0] if check_tree(docs[0], ctx, "", set()) else None
    except RecursionError:
        ctx.errors.append(f"{ctx.file}:1: YAML nested too deeply; a catalog file is a few levels of mappings")
        return None


def check_tree(node: Node, ctx: Ctx, fld: str, seen: set[int], at: Node | None = None) -> bool:
    """Reject non-standard tags (``!foo``, ``!!python/object``...) and anchors/aliases before any field check."""
    ok = True
    if node.tag not in _STD_TAGS | {_MAP_TAG, _SEQ_TAG}:
        ctx.err(node, fld, f"YAML tag {node.tag!r} is not allowed; write a plain value")
        return False
    if isinstance(node, ScalarNode):
        if node.tag != YAML_TAG + "str" and _RESOLVER.resolve(ScalarNode, node.value, (True, False)) != node.tag:
            ctx.err(node, fld, f"the YAML tag !!{node.tag[len(YAML_TAG):]} does not fit {str(node.value)[:40]!r}; "
                               f"write a plain value without the tag")
            return False
        return True
    if id(node) in seen:
        ctx.err(at or node, fld, "anchors and aliases are not allowed; write the value out")
        return False
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for i, n in enumerate(node.value):
            ok = check_tree(n, ctx, f"{fld}[{i}]", seen) and ok
    else:
        for k, v in node.value:
            name = k.value if isinstance(k, ScalarNode) else "?"
            ok = check_tree(k, ctx, join(fld, name), seen) and ok
            ok = check_tree(v, ctx, join(fld, name), seen, at=k) and ok
    return ok


# ------------------------------------------------------------------------------------------- value checks ---

def type_error(node: Node, want: str, example: str) -> str:
    return f"expected {want}, got {kind(node)}; write e.g. {example}"


def text(ctx: Ctx, node: Node, fld: str) -> str:
    if not (isinstance(node, ScalarNode) and node.tag == YAML_TAG + "str") or not node.value.strip():
        ctx.fail(node, fld, type_error(node, "a non-empty string", '"AirPods Pro"'))
    return node.value


def integer(ctx: Ctx, node: Node, fld: str, example: str = "0x2014", nullable: bool = False) -> int | None:
    if nullable and node.tag == YAML_TAG + "null":
        return None
    if node.tag != YAML_TAG + "int":
        extra = "; unquote it" if isinstance(node, ScalarNode) and re.match(r"^(0x)?[0-9a-fA-F]+$", str(node.value)) \
            and node.tag == YAML_TAG + "str" else ""
        ctx.fail(node, fld, type_error(node, "an integer" + (" or null" if nullable else ""), example) + extra)
    return ctx.value(node, fld)


def boolean(ctx: Ctx, node: Node, fld: str) -> bool:
    if node.tag != YAML_TAG + "bool":
        ctx.fail(node, fld, type_error(node, "true or false", "true"))
    return ctx.value(node, fld)


def name(ctx: Ctx, node: Node, fld: str, what: str, choices: Sequence[str]) -> str:
    if not (isinstance(node, ScalarNode) and node.tag == YAML_TAG + "str"):
        ctx.fail(node, fld, type_error(node, f"a {what} name", " or ".join(repr(c) for c in choices[:2])))
    try:
        return check_name(what, node.value, choices)
    except ValueError as e:
        ctx.fail(node, fld, str(e))
    raise AssertionError  # unreachable


def listed(ctx: Ctx, node: Node, fld: str, item: Callable[[Ctx, Node, str], Any], unique: bool = True) -> list:
    if not isinstance(node, SequenceNode):
        ctx.fail(node, fld, type_error(node, "a list", "[aac, sbc]"))
    out: list = []
    ok = True
    for i, n in enumerate(node.value):
        try:
            v = item(ctx, n, f"{fld}[{i}]")
        except Invalid:
            ok = False
            continue
        if unique and v in out:
            ctx.err(n, f"{fld}[{i}]", f"{v!r} is listed twice; list it once")
            ok = False
        out.append(v)
    if not ok:
        raise Invalid
    return out


def source(ctx: Ctx, node: Node, fld: str) -> Source:
    value = text(ctx, node, fld)
    try:
        return Source.parse(value)
    except ValueError as e:
        ctx.fail(node, fld, f"{e}; e.g. \"[DEV] capod (product id table)\"")
    raise AssertionError  # unreachable


def version_range(ctx: Ctx, node: Node, fld: str, parse: Callable[[str], VersionRange] = VersionRange.parse,
                  example: str = '">=17.0,<18"') -> VersionRange:
    if not (isinstance(node, ScalarNode) and node.tag == YAML_TAG + "str"):
        ctx.fail(node, fld, type_error(node, "a quoted version range", example))
    try:
        return parse(node.value)
    except ValueError as e:
        ctx.fail(node, fld, f"{e}; e.g. {example}")
    raise AssertionError  # unreachable
