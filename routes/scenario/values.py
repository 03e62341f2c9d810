"""Small composable schemas that turn YAML nodes into normalised values, or raise ScenarioError.

A schema's ``parse(node, at)`` gets the value's node (``None`` when it is absent, e.g. a bare step) and
an ``At``: where we are (a dotted path naming the key, the file, a fallback line) and the scenario
context (declared accessories, other apps, calls seen so far, the model catalog ids).
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterable, NoReturn

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routesim.routes.phone.vocabulary import UnknownName, Vocabulary
from routesim.routes.scenario.model import Comparison, ScenarioError
from routesim.routes.scenario.limits import MAX_DURATION_S, MAX_NUMBER_CHARS
from routesim.routes.scenario.nodes import (
    STR_TAG, YAML_TAG, bool_value, describe, float_value, int_value, is_null, kind, line_of, source_text,
    yaml11_reading,
)

MISSING: Any = object()
MERGE_TAG = YAML_TAG + "merge"


def close_match(name: str, pool: Iterable[str]) -> str | None:
    pool = list(pool)
    match = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if match:
        return match[0]
    lowered = {p.lower(): p for p in pool}
    return lowered.get(name.lower())


def did_you_mean(name: str, pool: Iterable[str]) -> str:
    match = close_match(name, pool)
    return f"; did you mean {match!r}?" if match else ""


def one_of(values: Iterable[str]) -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


# ---------------------------------------------------------------- context and position

@dataclass
class Context:
    file: str
    model_ids: Collection[str] = ()
    accessories: dict[str, Any] = field(default_factory=dict)
    others: dict[str, Any] = field(default_factory=dict)
    calls: set[str] = field(default_factory=set)


class At:
    """Where a value is: the context, its dotted path (``steps[3].connect``) and its line. One is made for
    every value of a file, and the path is needed only for a message, so it is spelled out on first use."""

    __slots__ = ("ctx", "line", "_path", "_parent", "_step", "_index")

    def __init__(self, ctx: Context, path: str, line: int):
        self.ctx, self.line, self._path = ctx, line, path
        self._parent: At | None = None
        self._step: Any = ""
        self._index = False

    @property
    def path(self) -> str:
        if self._path is None:
            parent, step = self._parent.path, self._step
            if self._index:
                self._path = f"{parent}[{step}]"
            else:
                self._path = f"{parent}.{step}" if parent else step
        return self._path

    def _child(self, step: Any, index: bool, line: int) -> "At":
        at = _new_at(At)  # without __init__: one is made for nearly every value of a file
        at.ctx, at.line, at._path = self.ctx, line, None  # the path follows from the parent
        at._parent, at._step, at._index = self, step, index
        return at

    def key(self, name: str, node: Node | None = None) -> "At":
        return self._child(name, False, line_of(node) if node is not None else self.line)

    def item(self, index: int, node: Node) -> "At":
        return self._child(index, True, line_of(node))

    def fail(self, message: str, node: Node | None = None) -> NoReturn:
        line = line_of(node) if node is not None else self.line
        where = f"{self.path}: " if self.path else ""
        raise ScenarioError(self.ctx.file, line, where + message)


_new_at = object.__new__


def pairs(node: MappingNode, at: At) -> list[tuple[str, Node, Node]]:
    """A mapping's (key, key node, value node) in order; keys are text, unique; ``<<`` merges honoured."""
    explicit: list[tuple[str, Node, Node]] = []
    merged: list[tuple[str, Node, Node]] = []
    seen: dict[str, Node] = {}  # key -> its key node, whose line only a message needs
    for key_node, value_node in node.value:
        tag = key_node.tag
        if tag == STR_TAG and key_node.__class__ is ScalarNode:
            key = key_node.value  # what KEY.parse gives a plain text key, without the schema walk
        elif tag == MERGE_TAG:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    at.fail("a YAML merge (<<) needs a mapping or a list of mappings", source)
                merged.extend(pairs(source, at))
            continue
        else:
            key = KEY.parse(key_node, at)
        if key in seen:
            at.fail(f"key {key!r} appears twice (first on line {line_of(seen[key])})", key_node)
        seen[key] = key_node
        explicit.append((key, key_node, value_node))
    for key, key_node, value_node in merged:
        if key not in seen:
            seen[key] = key_node
            explicit.append((key, key_node, value_node))
    return explicit


# ---------------------------------------------------------------- schemas

class Schema:
    expected = "a value"

    def parse(self, node: Node | None, at: At) -> Any:
        if is_null(node):
            return self.missing(at, node)
        return self.convert(node, at)

    def missing(self, at: At, node: Node | None) -> Any:
        at.fail(f"needs a value: {self.expected}", node)

    def convert(self, node: Node, at: At) -> Any:
        raise TypeError(f"{type(self).__name__} must define convert()")  # every concrete schema does

    def mismatch(self, node: Node, at: At) -> NoReturn:
        at.fail(f"expected {self.expected}, got {describe(node)}", node)


class Text(Schema):
    """A string. YAML's bool/number/date/tag readings of unquoted text are refused with 'quote it'."""

    expected = "text"

    one_line = False
    is_key = False

    def __init__(self, what: str | None = None, *, one_line: bool = False, is_key: bool = False):
        if what:
            self.expected = what
        self.one_line, self.is_key = one_line, is_key

    def convert(self, node: Node, at: At) -> Any:
        if node.__class__ is ScalarNode and node.tag == STR_TAG or kind(node) == "str":
            return self.from_text(node.value, at, node)
        if isinstance(node, ScalarNode):
            text = source_text(node)
            try:
                self.from_text(text, at, node)
            except ScenarioError:
                self.mismatch(node, at)
            reading = "a tag, not as text" if kind(node) == "tag" else f"{describe(node)}, but this is {self.expected}"
            at.fail(f"YAML reads the unquoted {text} as {reading}; quote it: {self.quoted(text, at)}", node)
        self.mismatch(node, at)

    def quoted(self, text: str, at: At) -> str:
        if self.is_key:
            return f'"{text}":'
        if at.path.endswith("]") or not at.path:
            return f'"{text}"'
        return f'{at.path.rsplit(".", 1)[-1]}: "{text}"'

    def from_text(self, text: str, at: At, node: Node) -> Any:
        if self.one_line and "\n" in text.strip():
            at.fail("must be a single line", node)
        return text


KEY = Text("a key", is_key=True)


class Choice(Text):
    def __init__(self, *values: str):
        self.values = values
        self.expected = one_of(values)

    def from_text(self, text: str, at: At, node: Node) -> Any:
        if text not in self.values:
            at.fail(f"{text!r} is not one of {self.expected}{did_you_mean(text, self.values)}", node)
        return text


class Name(Text):
    """A name from a routes.vocabulary Vocabulary; the result is canonical."""

    def __init__(self, vocab: Vocabulary, allowed: Collection[str] | None = None):
        self.vocab, self.allowed = vocab, allowed
        self.expected = f"a {vocab.kind}" + (f" ({one_of(allowed)})" if allowed else "")

    def from_text(self, text: str, at: At, node: Node) -> Any:
        try:
            name = self.vocab.resolve(text)
        except UnknownName as e:
            tail = "" if e.suggestion or len(self.vocab.canonical) > 16 else f"; one of {', '.join(self.vocab.canonical)}"
            at.fail(f"{e}{tail}", node)
        if self.allowed is not None and name not in self.allowed:
            at.fail(f"{text!r} is not accepted here; expected {one_of(self.allowed)}", node)
        return name


def require_plain_id(what: str, text: str, at: At, node: Node) -> None:
    """Ids name things in steps, expectations and reports: an empty or space-padded one reads as nothing."""
    if not text.strip() or text != text.strip():
        at.fail(f"{what} id {text!r} must be non-empty with no surrounding spaces", node)


class Ref(Text):
    """An id declared elsewhere in the scenario (accessories, others, calls), or a fixed built-in name."""

    def __init__(self, what: str, table: str, builtins: tuple[str, ...] = (), introduce: bool = False):
        self.what, self.table, self.builtins, self.introduce = what, table, builtins, introduce
        self.expected = f"{what} id" + (f" or {one_of(builtins)}" if builtins else "")

    def from_text(self, text: str, at: At, node: Node) -> Any:
        known = getattr(at.ctx, self.table)
        if text in self.builtins:
            return text
        if self.introduce:
            require_plain_id(self.what, text, at, node)
            known.add(text)
            return text
        if text not in known:
            pool = [*known, *self.builtins]
            if self.table == "calls":
                where = "no earlier step (callkit.reportIncoming, callkit.startCall, cellular.incoming) introduced it"
            else:
                where = f"not declared in `{self.table}`"
            listed = f" (known: {', '.join(pool)})" if pool else ""
            at.fail(f"unknown {self.what} {text!r}: {where}{listed}{did_you_mean(text, pool)}", node)
        return text


class Bool(Schema):
    expected = "true or false"

    def convert(self, node: Node, at: At) -> Any:
        if kind(node) != "bool":
            self.mismatch(node, at)
        return bool_value(node)


class Number(Schema):
    """An int or float from YAML (not a quoted string); returns float unless integer=True."""

    def __init__(self, *, minimum: float | None = None, maximum: float | None = None,
                 positive: bool = False, integer: bool = False):
        self.minimum, self.maximum, self.positive, self.integer = minimum, maximum, positive, integer
        noun = "a whole number" if integer else "a number"
        bounds = []
        if positive:
            bounds.append("above 0")
        if minimum is not None:
            bounds.append(f"at least {minimum:g}")
        if maximum is not None:
            bounds.append(f"at most {maximum:g}")
        self.expected = noun + (" " + " and ".join(bounds) if bounds else "")

    def convert(self, node: Node, at: At) -> Any:
        k = kind(node)
        if k in ("int", "float"):
            plain_number(node, at, self.expected, self.trap_hint)
        if k == "int":
            value: float = int_value(node)
        elif k == "float" and not self.integer:
            value = float_value(node)
        else:
            if k == "str" and _NUMBER.match(node.value):
                at.fail(f"expected {self.expected}, got the text {node.value!r}; write it without quotes", node)
            self.mismatch(node, at)
        return self.check(value, node, at)

    def trap_hint(self, reading: str, at: At) -> str:
        return "write the number in plain decimal digits"

    def check(self, value: float, node: Node, at: At) -> Any:
        if not math.isfinite(value) or abs(value) > 1e300:
            at.fail(f"expected {self.expected}, got {value:g}" if math.isfinite(value) else
                    f"expected {self.expected}, got {value}", node)
        if (self.positive and value <= 0) or (self.minimum is not None and value < self.minimum) \
                or (self.maximum is not None and value > self.maximum):
            at.fail(f"expected {self.expected}, got {value:g}", node)
        return int(value) if self.integer else float(value)


_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def plain_number(node: ScalarNode, at: At, expected: str, hint: Callable[[str, At], str]) -> None:
    """Refuse a number YAML read from more than 40 characters, or from a YAML 1.1 form that is not plain
    decimal (``010`` is octal 8, ``1:30`` base-60 90): the author surely meant something else."""
    if len(node.value) > MAX_NUMBER_CHARS:
        at.fail(f"expected {expected}, got a number written with {len(node.value)} characters "
                f"(at most {MAX_NUMBER_CHARS})", node)
    reading = yaml11_reading(node)
    if reading:
        at.fail(f"YAML 1.1 reads the unquoted {node.value} as {reading}; {hint(reading, at)}", node)


class Duration(Number):
    """``250ms``, ``1.5s``, ``2m``, or a bare number of seconds -> float seconds, at most a day."""

    def __init__(self, *, positive: bool = False, maximum: float = MAX_DURATION_S, what: str = "a duration"):
        super().__init__(minimum=None if positive else 0, maximum=maximum, positive=positive)
        self.expected = (f"{what} such as 250ms, 1.5s, 2m or a number of seconds" + (" above 0" if positive else "")
                         + f", at most {_seconds(maximum)}")

    def trap_hint(self, reading: str, at: At) -> str:
        if ", " not in reading:  # .inf, .nan: no value to suggest
            return "write a finite duration such as 1.5s"
        key = at.path.rsplit(".", 1)[-1] if at.path and not at.path.endswith("]") else ""
        return f'quote it with its unit: {key + ": " if key else ""}"{reading.rsplit(", ", 1)[-1]}s"'

    def convert(self, node: Node, at: At) -> Any:
        if kind(node) == "str":
            if len(node.value) > MAX_NUMBER_CHARS:
                at.fail(f"expected {self.expected}, got text of {len(node.value)} characters", node)
            m = _DURATION.match(node.value)
            if not m:
                at.fail(f"expected {self.expected}, got {node.value!r}", node)
            return self.check(float(m.group(1)) * _UNIT[m.group(2)], node, at)
        return super().convert(node, at)


def _seconds(value: float) -> str:
    if value >= 3600 and value % 3600 == 0:
        return f"{value / 3600:g}h ({value:g}s)"
    if value >= 60 and value % 60 == 0:
        return f"{value / 60:g}m"
    return f"{value:g}s"


_COMPARISON = re.compile(r"^\s*(==|!=|>=|<=|>|<)?\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class Measure(Schema):
    """A number to compare in `expect`: a plain number (equal) or a quoted comparison ``">1000"``."""

    expected = 'a number, or a comparison in quotes such as ">1000" or "<=16000"'

    def convert(self, node: Node, at: At) -> Any:
        k = kind(node)
        if k in ("int", "float"):
            plain_number(node, at, self.expected, lambda reading, at: "write the number in plain decimal digits")
        if k == "int":
            return int_value(node)
        if k == "float" and math.isfinite(float_value(node)):
            return float_value(node)
        if k == "str":
            m = _COMPARISON.match(node.value)
            if m and len(m.group(2)) > MAX_NUMBER_CHARS:
                at.fail(f"expected {self.expected}, got a number written with {len(m.group(2))} characters "
                        f"(at most {MAX_NUMBER_CHARS})", node)
            if m:
                text = m.group(2)
                value = int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
                return Comparison(m.group(1), value) if m.group(1) else value
        if k == "tag" and isinstance(node, ScalarNode) and _COMPARISON.match(source_text(node)):
            at.fail(f"YAML reads the unquoted {source_text(node)} as a tag; quote the comparison: "
                    f"\"{source_text(node)}\"", node)
        self.mismatch(node, at)


class Nullable(Schema):
    """The inner schema, or None when the value is null / absent."""

    def __init__(self, inner: Schema):
        self.inner = inner
        self.expected = f"{inner.expected} or null"

    def missing(self, at: At, node: Node | None) -> Any:
        return None

    def convert(self, node: Node, at: At) -> Any:
        return self.inner.convert(node, at)


class NoArg(Schema):
    expected = "nothing"

    def missing(self, at: At, node: Node | None) -> Any:
        return None

    def convert(self, node: Node, at: At) -> Any:
        at.fail(f"takes no argument; write it as a bare `- {at.path}`", node)


class Map(Schema):
    """The inner schema's result passed through ``fn``."""

    def __init__(self, inner: Schema, fn: Callable[[Any], Any]):
        self.inner, self.fn = inner, fn
        self.expected = inner.expected

    def parse(self, node: Node | None, at: At) -> Any:
        return self.fn(self.inner.parse(node, at))


class ByKind(Schema):
    """Dispatch on the node's shape: a scalar, or a mapping."""

    def __init__(self, scalar: Schema, mapping: Schema):
        self.scalar, self.mapping = scalar, mapping
        self.expected = f"{scalar.expected}, or {mapping.expected}"

    def missing(self, at: At, node: Node | None) -> Any:
        return self.scalar.parse(node, at)

    def convert(self, node: Node, at: At) -> Any:
        return (self.mapping if isinstance(node, MappingNode) else self.scalar).convert(node, at)


class ListOf(Schema):
    def __init__(self, item: Schema, *, dedupe: bool = False, nonempty: bool = False,
                 post: Callable[[list], Any] = list, expected: str | None = None):
        self.item, self.dedupe, self.nonempty, self.post = item, dedupe, nonempty, post
        self.expected = expected or f"a list of {item.expected}"

    def convert(self, node: Node, at: At) -> Any:
        if kind(node) != "seq":
            if isinstance(node, ScalarNode) and kind(node) == "str":
                at.fail(f"expected {self.expected}; write a single one as [{node.value}]", node)
            self.mismatch(node, at)
        parse, item_at = self.item.parse, at.item
        items = [parse(child, item_at(i, child)) for i, child in enumerate(node.value)]
        if self.dedupe:
            items = list(dict.fromkeys(items))
        if self.nonempty and not items:
            at.fail(f"expected {self.expected}, got an empty list", node)
        return self.post(items)


@dataclass(frozen=True)
class Field:
    schema: Schema
    required: bool = False
    default: Any = MISSING


def req(schema: Schema) -> Field:
    return Field(schema, required=True)


def opt(schema: Schema, default: Any = MISSING) -> Field:
    return Field(schema, default=default)


class Record(Schema):
    """A mapping with known keys. The result is a dict of the given keys plus those with defaults.

    ``shorthand``: a scalar value stands for ``{shorthand: value}`` (``setActive: true``).
    ``check(result, at, node)`` validates across keys; ``post(result)`` builds the final value.
    """

    def __init__(self, fields: dict[str, Field], *, shorthand: str | None = None, expected: str | None = None,
                 check: Callable[[dict, At, Node | None], None] | None = None,
                 post: Callable[[dict], Any] | None = None):
        self.fields, self.shorthand, self.check, self.post = fields, shorthand, check, post
        self.expected = expected or (f"a mapping with {one_of(fields)}" if fields else "nothing")
        self._order = [(key, f.required, f.default) for key, f in fields.items()]  # what build() reads per value

    def missing(self, at: At, node: Node | None) -> Any:
        return self.build({}, at, node)

    def convert(self, node: Node, at: At) -> Any:
        if self.shorthand and isinstance(node, ScalarNode):
            field_ = self.fields[self.shorthand]
            return self.build({self.shorthand: field_.schema.parse(node, at.key(self.shorthand, node))}, at, node)
        if kind(node) != "map":
            self.mismatch(node, at)
        fields = self.fields
        given: dict[str, Any] = {}
        for key, key_node, value_node in pairs(node, at):
            f = fields.get(key)
            if f is None:
                at.fail(f"unknown key {key!r}{did_you_mean(key, fields)} (expected {one_of(fields)})", key_node)
            given[key] = f.schema.parse(value_node, at.key(key, value_node))
        return self.build(given, at, node)

    def build(self, given: dict[str, Any], at: At, node: Node | None) -> Any:
        result: dict[str, Any] = {}
        for key, required, default in self._order:
            if key in given:
                result[key] = given[key]
            elif required:
                at.fail(f"missing required key {key!r}", node)
            elif default is not MISSING:
                result[key] = default
        if self.check:
            self.check(result, at, node)
        return self.post(result) if self.post else result


class Table(Schema):
    """A mapping from ids (parsed by ``key``) to values (parsed by ``value(id)``)."""

    def __init__(self, key: Schema, value: Schema):
        self.key, self.value = key, value
        self.expected = f"a mapping of {key.expected} to {value.expected}"

    def missing(self, at: At, node: Node | None) -> Any:
        return {}

    def convert(self, node: Node, at: At) -> Any:
        if kind(node) != "map":
            self.mismatch(node, at)
        result: dict[str, Any] = {}
        for key, key_node, value_node in pairs(node, at):
            ident = self.key.parse(key_node, at.key(key, key_node))
            result[ident] = self.value.parse(value_node, at.key(key, value_node))
        return result


def at_least_one(*keys: str) -> Callable[[dict, At, Node | None], None]:
    def check(result: dict, at: At, node: Node | None) -> None:
        if all(result.get(k) is None for k in keys):
            at.fail(f"give at least one of {one_of(keys)}", node)
    return check
