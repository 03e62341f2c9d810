"""Untrusted YAML read as nodes that keep their lines: the bounded safe composer and the file reading
that both the catalog (``profiles.catalog_fields``) and the scenario loader use.

Files are read as bytes with a size limit checked before parsing (special files refused by type), decoded
as UTF-8 with the offending byte's offset in the message, and composed by PyYAML's safe composer, which
here stops as soon as the file holds more than ``max_nodes`` values and refuses explicit standard tags
(``!!int abc`` would make SafeConstructor raise; ``!!str`` only says "text", as quotes do, and is kept).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
import yaml.reader
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml's C parser and composer, installed with PyYAML's wheels: the nodes are the same, made in C
    from yaml import CSafeLoader as _CSafeLoader
except ImportError:  # a PyYAML built without libyaml: the pure-Python composer below does the same work
    _CSafeLoader = None

_SCALAR_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}  # (text, implicit) -> the tag the resolver gives
_SCALAR_TAGS_MAX = 100_000

if _CSafeLoader is not None and not _CSafeLoader.yaml_path_resolvers:
    class _CLoader(_CSafeLoader):  # type: ignore[misc, valid-type]
        """libyaml's composer asks the Python resolver for every node's tag, which was the largest cost of
        loading a big file. Without path resolvers (SafeLoader has none) a plain scalar's tag depends only
        on its text and how it was written, so each distinct one is resolved once per process, and a
        collection's is the default tag. It also counts the nodes it composes: every node but an alias
        passes descend_resolver once."""

        values = 0

        def resolve(self, kind, value, implicit):
            if kind is ScalarNode:
                key = (value, implicit)
                tag = _SCALAR_TAGS.get(key)
                if tag is None:
                    tag = _CSafeLoader.resolve(self, kind, value, implicit)
                    if len(value) <= 64 and len(_SCALAR_TAGS) < _SCALAR_TAGS_MAX:  # short texts repeat; keep it small
                        _SCALAR_TAGS[key] = tag
                return tag
            if kind is MappingNode:
                return self.DEFAULT_MAPPING_TAG
            if kind is SequenceNode:
                return self.DEFAULT_SEQUENCE_TAG
            return _CSafeLoader.resolve(self, kind, value, implicit)

        def descend_resolver(self, current_parent, current_index):
            self.values += 1

        def ascend_resolver(self):
            return None
else:
    _CLoader = _CSafeLoader

YAML_TAG = "tag:yaml.org,2002:"


# ------------------------------------------------------------------------------------ the bounded composer ---

class TooManyNodes(Exception):
    def __init__(self, limit: int, line: int):
        super().__init__(f"more than {limit} values")
        self.limit, self.line = limit, line


class ExplicitTag(Exception):
    def __init__(self, tag: str, value: str, line: int):
        super().__init__(f"explicit tag {tag}")
        self.tag, self.value, self.line = tag, value, line

    @property
    def short(self) -> str:
        return "!!" + self.tag[len(YAML_TAG):]


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe composer, counting the values of the whole stream (every document) as it goes, so it
    stops early instead of building a huge tree, and refusing explicit standard tags other than ``!!str``.
    Local tags (``!pri``) compose as they are."""

    max_nodes = 50_000

    def __init__(self, stream: str, max_nodes: int | None = None, refuse_explicit_tags: bool = True):
        super().__init__(stream)
        if max_nodes is not None:
            self.max_nodes = max_nodes
        self.refuse_explicit_tags = refuse_explicit_tags
        self.nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if self.refuse_explicit_tags and tag and tag.startswith(YAML_TAG) and tag != YAML_TAG + "str":
            value = getattr(event, "value", None)
            raise ExplicitTag(tag, value if isinstance(value, str) else "", event.start_mark.line + 1)
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise TooManyNodes(self.max_nodes, event.start_mark.line + 1)
        return super().compose_node(parent, index)


def compose_all(text: str, max_nodes: int, refuse_explicit_tags: bool = True, *, fast: bool = True) -> list[Any]:
    """The documents of ``text`` as node trees, with the promises of :class:`BoundedLoader`: more than
    ``max_nodes`` values in the stream raises TooManyNodes, an explicit standard tag other than ``!!str``
    raises ExplicitTag (when asked), YAML errors are PyYAML's, and every node keeps its line.

    libyaml's C composer builds the documents when PyYAML has it, which is what makes big files load
    quickly; the caller's byte limit bounds what it can build (a value takes at least two bytes of text).
    Whatever the C composer cannot vouch for goes to the Python composer, so messages and lines are the
    same either way: text that could carry an explicit standard tag (``!!``, ``!<…>``, ``%TAG``), a
    stream over the node limit, and any YAML error."""
    tagged = "!!" in text or "!<" in text or "%TAG" in text
    if _CLoader is not None and fast and not tagged:
        loader = _CLoader(text)
        try:
            docs = []
            while loader.check_node():
                docs.append(loader.get_node())
            if _stream_values(loader, docs, text) <= max_nodes:
                return docs
        except yaml.YAMLError:
            pass  # the Python composer below says it the way every message in the project expects
        finally:
            loader.dispose()
    loader = BoundedLoader(text, max_nodes, refuse_explicit_tags)
    try:
        docs = []
        while loader.check_node():
            docs.append(loader.get_node())
        return docs
    finally:
        loader.dispose()


def _stream_values(loader: Any, docs: list[Any], text: str) -> int:
    """The C composer's stream counted as the Python composer counts it. Without an alias (``*name``) that
    is the count _CLoader kept while composing; PyYAML's own loader (path resolvers set) keeps none."""
    composed = getattr(loader, "values", None)
    if composed is None or "*" in text:
        return count_values(docs)
    return composed


def count_values(roots: list[Any]) -> int:
    """Values as the Python composer counts them: every node and every alias occurrence once (an aliased
    collection's contents are counted where it was defined, not again)."""
    count = 0
    seen: set[int] = set()
    stack = [r for r in roots if r is not None]
    while stack:
        node = stack.pop()
        count += 1
        value = node.value
        if value.__class__ is list:
            key = id(node)
            if key in seen:
                continue
            seen.add(key)
            if value and value[0].__class__ is tuple:
                for k, v in value:
                    stack.append(k)
                    stack.append(v)
            else:
                stack.extend(value)
    return count


# ------------------------------------------------------------------------------------------ reading files ---

class FileProblem(Exception):
    """A file cannot be read as text: ``line`` and a message saying what would be right."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def read_bytes_limited(path: Any, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (a ``Path`` or an importlib Traversable).
    Type and size are checked before reading (a FIFO would block, /dev/zero never ends) and at most
    limit + 1 bytes are read, so a file that grows meanwhile cannot get past."""
    if not isinstance(path, Path):  # a resource inside the installed package: a regular file by construction
        data = path.read_bytes()
    else:
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise FileProblem(1, f"is {file_kind(st.st_mode)}, not {what}; give a regular file")
            if st.st_size > limit:
                raise FileProblem(1, f"the file has {st.st_size} bytes, more than the limit of {limit} for {what}")
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # never block on a swapped-in FIFO
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise FileProblem(1, f"is not a regular file, not {what}; give a regular file")
                data = f.read(limit + 1)
        except OSError as e:
            raise FileProblem(1, f"cannot read the file: {e.strerror or e}") from None
    if len(data) > limit:
        raise FileProblem(1, f"the file has more than {limit} bytes, the limit for {what}")
    return data


def reader_problem(e: "yaml.reader.ReaderError") -> str:
    """A character YAML does not allow (a control character, a lone surrogate), said in one line."""
    char = e.character if isinstance(e.character, int) else 0
    return (f"the character U+{char:04X} at position {e.position} is not allowed in YAML; remove it "
            f"(or write it as an escape inside double quotes, e.g. \"\\x{char & 0xFF:02x}\")")


def file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def decode_utf8(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped); invalid bytes are a FileProblem naming the line and byte offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FileProblem(line, f"not UTF-8 text: byte {e.start} (0x{data[e.start]:02x}) cannot be decoded; "
                                f"save the file as UTF-8") from None


def yaml_files(directory: Any) -> list[Any]:
    """The ``*.yaml``/``*.yml`` entries of a directory (a Path or a Traversable) other than directories, by
    name: a FIFO or device named like a catalog file is listed, so reading refuses it by type and says so."""
    return sorted((f for f in directory.iterdir() if f.name.endswith((".yaml", ".yml")) and not f.is_dir()),
                  key=lambda f: f.name)


def label(directory: Any, name: str, prefix: str | None) -> str:
    """How messages name a file: ``prefix/name`` for bundled files, else the path."""
    return f"{prefix}/{name}" if prefix else str(Path(str(directory)) / name)
