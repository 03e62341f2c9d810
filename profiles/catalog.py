"""The model catalog: one YAML file per model under ``fixtures/models``, quirks under ``fixtures/quirks``,
loaded with PyYAML's safe composer (nodes, so every error names file and line) and validated strictly.

Model file schema (every fact carries a tagged source: either the group's ``source`` or the fact's own,
written ``fact: {value: X, source: "[TAG] reference"}``)::

    id: airpods-pro-2                         # must equal the file name
    device:    {name, product, kind, transport, source}
    identity:  {vendor_id, product_id, advert_model, source}   # nulls for generic models
    profiles:  {supported: [a2dp, hfp, avrcp, le-audio, aap], source}
    a2dp:      {codecs: [aac, sbc], sample_rate: 48000, source}            # iff a2dp is supported
    hfp:       {codecs: [{codec, platform: ">=18", source}, ...], source}   # iff hfp; best first
    hardware:  {microphones, in_ear_detection, case, battery: [left, right, case] | [single] | [],
                high_quality_recording?: bool, source}
    ports:     {output, input, input_rate?, source}                         # wired, usb and car only
    advert:    {worn: status-bit-5 | earcup-bits | null, source}            # optional: how adverts say "worn"

``_catalog.yaml`` (optional) gives the catalog order: ``order: [id, ...]``; without it files load in name
order. Quirk files: ``quirks: [{id, effect, params, match: {product_ids, vendor_id, firmware}, platform,
when, source, confidence, summary}, ...]`` (see ``profiles.quirks``).
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routesim.profiles import continuity
from routesim.profiles.codecs import A2DP_CODECS, HFP_CODECS
from routesim.profiles.model import HfpCodecSupport, Kind, Model, Profile, Quirk, Transport
from routesim.profiles.platform import Platform, VersionRange
from routesim.profiles.provenance import Source
from routesim.profiles.quirks import EFFECTS, check_name, check_when, parse_firmware, parse_firmware_range, suggest

APPLE = 0x004C
ORDER_FILE = "_catalog.yaml"

# Fixed catalog ids for devices the catalog does not know by product ID.
GENERIC_HEADSET = "generic-headset"
GENERIC_SPEAKER = "generic-speaker"
GENERIC_HFP_ONLY = "generic-hfp-only"

BATTERY_PARTS = ("left", "right", "case", "single")
WIRED_OUTPUT_PORTS = ("headphones", "lineOut", "usbAudio", "carAudio", "HDMI")
WIRED_INPUT_PORTS = ("headsetMic", "lineIn", "usbAudio", "carAudio")

# Bluetooth SIG 16-bit UUIDs (BlueZ-UUIDs in docs/sources.md).
_BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
_HFP_HSP_HEADSET = {0x111E, 0x1108, 0x1131}  # HFP Hands-Free, HSP Headset (and BlueZ's "Headset HS")
_A2DP_SINK = {0x110B}


class CatalogError(ValueError):
    """One or more problems in catalog files; each line reads "FILE:LINE: field 'x': what; what would be right"."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class UnknownModel(KeyError):
    def __init__(self, model_id: object, suggestion: str | None):
        self.model_id, self.suggestion = model_id, suggestion
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"unknown model {model_id!r}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class NoAudioProfile(ValueError):
    """The UUIDs name no audio sink or headset profile, so no generic model fits."""


# ------------------------------------------------------------------------------------------------- nodes ---

_STD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _Invalid(Exception):
    """Raised inside a field check; the message is recorded by the context."""


@dataclass
class _Ctx:
    file: str
    errors: list[str] = field(default_factory=list)
    _constructor: SafeConstructor = field(default_factory=SafeConstructor)

    def err(self, node: Node | None, fld: str, msg: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        where = f"field '{fld}': " if fld else ""
        self.errors.append(f"{self.file}:{line}: {where}{msg}")

    def fail(self, node: Node | None, fld: str, msg: str) -> None:
        self.err(node, fld, msg)
        raise _Invalid

    def value(self, node: Node, fld: str) -> Any:
        """Plain Python value of a node tree (tags and aliases were already vetted by ``_check_tree``)."""
        if node.tag not in _STD_TAGS | {_MAP_TAG, _SEQ_TAG}:
            self.fail(node, fld, f"YAML tag {node.tag!r} is not allowed; write a plain value")
        if isinstance(node, ScalarNode):
            return self._constructor.construct_object(node, deep=True)
        if isinstance(node, SequenceNode):
            return [self.value(n, f"{fld}[{i}]") for i, n in enumerate(node.value)]
        return {k: self.value(v, f"{fld}.{k}" if fld else k) for k, (_, v) in self.mapping(node, fld).items()}

    def mapping(self, node: Node, fld: str) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            self.fail(node, fld, f"expected a mapping, got {_kind(node)}; write 'key: value' lines")
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            if not (isinstance(k, ScalarNode) and k.tag == "tag:yaml.org,2002:str"):
                self.fail(k, fld, f"key {k.value!r} is not a plain string; quote it")
            if k.value in out:
                prev = out[k.value][0].start_mark.line + 1
                self.fail(k, _join(fld, k.value), f"duplicate key (first at line {prev}); keep one")
            out[k.value] = (k, v)
        return out

    def keys(self, m: dict[str, tuple[Node, Node]], fld: str, allowed: Sequence[str],
             required: Sequence[str] = ()) -> None:
        ok = True
        for key, (knode, _) in m.items():
            if key not in allowed:
                hint = suggest(key, allowed)
                right = f"did you mean {hint!r}?" if hint else "known keys: " + ", ".join(allowed)
                self.err(knode, _join(fld, key), f"unknown key; {right}")
                ok = False
        anchor = next(iter(m.values()))[0] if m else None
        for key in required:
            if key not in m:
                what = f"the {fld} group" if fld else "the file"
                self.err(anchor, _join(fld, key), f"missing; {what} needs it")
                ok = False
        if not ok:
            raise _Invalid


def _join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        "tag:yaml.org,2002:int": "an integer", "tag:yaml.org,2002:float": "a number",
        "tag:yaml.org,2002:bool": "a boolean", "tag:yaml.org,2002:null": "null",
    }.get(node.tag, f"the string {node.value!r}")


def _compose(text: str, ctx: _Ctx) -> Node | None:
    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        ctx.errors.append(f"{ctx.file}:{line}: not valid YAML: {e.problem or e.context}; fix the syntax there")
        return None
    except yaml.YAMLError as e:  # pragma: no cover - reader errors (bad bytes)
        ctx.errors.append(f"{ctx.file}:1: not valid YAML: {e}; save the file as UTF-8 text")
        return None
    docs = [d for d in docs if d is not None]
    if not docs:
        ctx.errors.append(f"{ctx.file}:1: the file is empty; write one mapping")
        return None
    if len(docs) > 1:
        ctx.errors.append(f"{ctx.file}:{docs[1].start_mark.line + 1}: a second YAML document; "
                          f"keep one document per file")
        return None
    return docs[0] if _check_tree(docs[0], ctx, "", set()) else None


def _check_tree(node: Node, ctx: _Ctx, fld: str, seen: set[int], at: Node | None = None) -> bool:
    """Reject explicit non-standard tags (``!!python/object``...) and anchors/aliases before any field check."""
    ok = True
    if node.tag not in _STD_TAGS | {_MAP_TAG, _SEQ_TAG}:
        ctx.err(node, fld, f"YAML tag {node.tag!r} is not allowed; write a plain value")
        return False
    if isinstance(node, ScalarNode):
        return True
    if id(node) in seen:
        ctx.err(at or node, fld, "anchors and aliases are not allowed; write the value out")
        return False
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for i, n in enumerate(node.value):
            ok = _check_tree(n, ctx, f"{fld}[{i}]", seen) and ok
    else:
        for k, v in node.value:
            name = k.value if isinstance(k, ScalarNode) else "?"
            ok = _check_tree(k, ctx, _join(fld, name), seen) and ok
            ok = _check_tree(v, ctx, _join(fld, name), seen, at=k) and ok
    return ok


# ----------------------------------------------------------------------------------------- value checks ---


def _type_error(node: Node, want: str, example: str) -> str:
    return f"expected {want}, got {_kind(node)}; write e.g. {example}"


def _str(ctx: _Ctx, node: Node, fld: str) -> str:
    if not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str") or not node.value.strip():
        ctx.fail(node, fld, _type_error(node, "a non-empty string", '"AirPods Pro"'))
    return node.value


def _int(ctx: _Ctx, node: Node, fld: str, example: str = "0x2014", nullable: bool = False) -> int | None:
    if nullable and node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag != "tag:yaml.org,2002:int":
        extra = "; unquote it" if isinstance(node, ScalarNode) and re.match(r"^(0x)?[0-9a-fA-F]+$", str(node.value)) \
            and node.tag == "tag:yaml.org,2002:str" else ""
        ctx.fail(node, fld, _type_error(node, "an integer" + (" or null" if nullable else ""), example) + extra)
    return ctx.value(node, fld)


def _bool(ctx: _Ctx, node: Node, fld: str) -> bool:
    if node.tag != "tag:yaml.org,2002:bool":
        ctx.fail(node, fld, _type_error(node, "true or false", "true"))
    return ctx.value(node, fld)


def _name(ctx: _Ctx, node: Node, fld: str, kind: str, choices: Sequence[str]) -> str:
    if not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str"):
        ctx.fail(node, fld, _type_error(node, f"a {kind} name", " or ".join(repr(c) for c in choices[:2])))
    try:
        return check_name(kind, node.value, choices)
    except ValueError as e:
        ctx.fail(node, fld, str(e))
    raise AssertionError  # unreachable


def _list(ctx: _Ctx, node: Node, fld: str, item: Callable[[_Ctx, Node, str], Any], unique: bool = True) -> list:
    if not isinstance(node, SequenceNode):
        ctx.fail(node, fld, _type_error(node, "a list", "[aac, sbc]"))
    out: list = []
    ok = True
    for i, n in enumerate(node.value):
        try:
            v = item(ctx, n, f"{fld}[{i}]")
        except _Invalid:
            ok = False
            continue
        if unique and v in out:
            ctx.err(n, f"{fld}[{i}]", f"{v!r} is listed twice; list it once")
            ok = False
        out.append(v)
    if not ok:
        raise _Invalid
    return out


def _source(ctx: _Ctx, node: Node, fld: str) -> Source:
    text = _str(ctx, node, fld)
    try:
        return Source.parse(text)
    except ValueError as e:
        ctx.fail(node, fld, f"{e}; e.g. \"[DEV] MagicPodsCore, capod (the product ID)\"; keys are listed in docs/sources.md")
    raise AssertionError  # unreachable


def _version_range(ctx: _Ctx, node: Node, fld: str, parse: Callable[[str], VersionRange] = VersionRange.parse,
                   example: str = '">=17.0,<18"') -> VersionRange:
    if not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str"):
        ctx.fail(node, fld, _type_error(node, "a quoted version range", example))
    try:
        return parse(node.value)
    except ValueError as e:
        ctx.fail(node, fld, f"{e}; e.g. {example}")
    raise AssertionError  # unreachable


# ----------------------------------------------------------------------------------------------- models ---

_ID_RX = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_GROUPS: dict[str, dict[str, str]] = {  # group -> yaml key -> Model field
    "device": {"name": "name", "product": "product", "kind": "kind", "transport": "transport"},
    "identity": {"vendor_id": "vendor_id", "product_id": "product_id", "advert_model": "advert_model"},
    "profiles": {"supported": "profiles"},
    "a2dp": {"codecs": "a2dp_codecs", "sample_rate": "a2dp_sample_rate"},
    "hfp": {"codecs": "hfp_codecs"},
    "hardware": {"microphones": "microphones", "in_ear_detection": "in_ear_detection", "case": "has_case",
                 "battery": "battery", "high_quality_recording": "high_quality_recording"},
    "ports": {"output": "output_port", "input": "input_port", "input_rate": "input_rate"},
    "advert": {"worn": "advert_worn"},
}
_REQUIRED_GROUPS = ("device", "identity", "profiles", "hardware")
_REQUIRED_FACTS = {
    "device": ("name", "product", "kind", "transport"),
    "identity": ("vendor_id", "product_id", "advert_model"),
    "profiles": ("supported",),
    "a2dp": ("codecs", "sample_rate"),
    "hfp": ("codecs",),
    "hardware": ("microphones", "in_ear_detection", "case", "battery"),
    "ports": ("output", "input"),
    "advert": ("worn",),
}


def _a2dp_codec(ctx: _Ctx, n: Node, f: str) -> str:
    if isinstance(n, ScalarNode) and n.value in HFP_CODECS:
        ctx.fail(n, f, f"{n.value!r} is an HFP codec; A2DP codecs are " + ", ".join(A2DP_CODECS))
    return _name(ctx, n, f, "A2DP codec", A2DP_CODECS)


def _hfp_entry(ctx: _Ctx, n: Node, f: str) -> HfpCodecSupport:
    if isinstance(n, ScalarNode):
        codec = _hfp_codec(ctx, n, f)
        return HfpCodecSupport(codec)
    m = ctx.mapping(n, f)
    ctx.keys(m, f, ("codec", "platform", "source"), ("codec",))
    codec = _hfp_codec(ctx, m["codec"][1], f + ".codec")
    platform = _version_range(ctx, m["platform"][1], f + ".platform", example='">=18"') if "platform" in m \
        else VersionRange()
    source = _source(ctx, m["source"][1], f + ".source") if "source" in m else None
    return HfpCodecSupport(codec, platform, source)


def _hfp_codec(ctx: _Ctx, n: Node, f: str) -> str:
    if isinstance(n, ScalarNode) and n.value in A2DP_CODECS:
        ctx.fail(n, f, f"{n.value!r} is an A2DP codec; HFP codecs are " + ", ".join(HFP_CODECS))
    return _name(ctx, n, f, "HFP codec", HFP_CODECS)


def _fact_checker(group: str, key: str) -> Callable[[_Ctx, Node, str], Any]:
    def enum(kind: str, cls: Any) -> Callable[[_Ctx, Node, str], Any]:
        return lambda c, n, f: cls(_name(c, n, f, kind, [e.value for e in cls]))

    def port(kind: str, choices: Sequence[str], nullable: bool) -> Callable[[_Ctx, Node, str], Any]:
        def check(c: _Ctx, n: Node, f: str) -> str | None:
            if nullable and n.tag == "tag:yaml.org,2002:null":
                return None
            return _name(c, n, f, kind, choices)
        return check

    def battery_part(c: _Ctx, n: Node, f: str) -> str:
        return _name(c, n, f, "battery part", BATTERY_PARTS)

    def count(c: _Ctx, n: Node, f: str) -> int:
        v = _int(c, n, f, "2")
        if not 0 <= v <= 16:
            c.fail(n, f, f"{v} is not a plausible microphone count; give 0 to 16")
        return v

    def rate(c: _Ctx, n: Node, f: str) -> int:
        v = _int(c, n, f, "48000")
        if v not in (44100, 48000, 88200, 96000):
            c.fail(n, f, f"{v} Hz is not an A2DP sample rate; use 44100 or 48000")
        return v

    def ident(c: _Ctx, n: Node, f: str) -> int | None:
        v = _int(c, n, f, "0x2014", nullable=True)
        if v is not None and not 0 <= v <= 0xFFFF:
            c.fail(n, f, f"{v:#x} does not fit 16 bits; Device ID numbers are 0x0000 to 0xFFFF")
        return v

    table: dict[tuple[str, str], Callable[[_Ctx, Node, str], Any]] = {
        ("device", "name"): _str,
        ("device", "product"): _str,
        ("device", "kind"): enum("kind", Kind),
        ("device", "transport"): enum("transport", Transport),
        ("identity", "vendor_id"): ident,
        ("identity", "product_id"): ident,
        ("identity", "advert_model"): ident,
        ("profiles", "supported"): lambda c, n, f: frozenset(_list(c, n, f, enum("profile", Profile))),
        ("a2dp", "codecs"): lambda c, n, f: tuple(_list(c, n, f, _a2dp_codec)),
        ("a2dp", "sample_rate"): rate,
        ("hfp", "codecs"): lambda c, n, f: tuple(_list(c, n, f, _hfp_entry)),
        ("hardware", "microphones"): count,
        ("hardware", "in_ear_detection"): _bool,
        ("hardware", "case"): _bool,
        ("hardware", "battery"): lambda c, n, f: tuple(_list(c, n, f, battery_part)),
        ("hardware", "high_quality_recording"): _bool,
        ("ports", "output"): port("output port type", WIRED_OUTPUT_PORTS, False),
        ("ports", "input"): port("input port type", WIRED_INPUT_PORTS, True),
        ("advert", "worn"): port("worn rule", continuity.WORN_RULES, True),
        ("ports", "input_rate"): lambda c, n, f: _input_rate(c, n, f),
    }
    return table[(group, key)]


def _input_rate(c: _Ctx, n: Node, f: str) -> int:
    v = _int(c, n, f, "24000")
    if v not in (8000, 16000, 24000, 32000, 44100, 48000):
        c.fail(n, f, f"{v} Hz is not an input rate iOS reports; use 8000, 16000, 24000, 32000, 44100 or 48000")
    return v


def _is_sourced_fact(ctx: _Ctx, node: Node) -> bool:
    """``{value: X, source: S}``: a fact with its own source."""
    if not isinstance(node, MappingNode):
        return False
    keys = {k.value for k, _ in node.value if isinstance(k, ScalarNode)}
    return "value" in keys and keys <= {"value", "source"}


def _parse_model(ctx: _Ctx, root: Node, stem: str) -> tuple[Model, dict[str, Node]] | None:
    """Returns the model and the nodes of its identity facts (for duplicate checks), or None after errors."""
    try:
        top = ctx.mapping(root, "")
        ctx.keys(top, "", ("id", *_GROUPS), ("id", *_REQUIRED_GROUPS))
    except _Invalid:
        return None
    facts: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    nodes: dict[str, Node] = {}
    ok = True
    try:
        model_id = _str(ctx, top["id"][1], "id")
        if not _ID_RX.match(model_id):
            ctx.fail(top["id"][1], "id", f"{model_id!r} is not a catalog id; use lower-case letters, digits, '-'")
        if model_id != stem:
            ctx.fail(top["id"][1], "id", f"{model_id!r} differs from the file name {stem!r}; "
                     f"name the file {model_id}.yaml or set id: {stem}")
    except _Invalid:
        ok, model_id = False, stem
    for group, keymap in _GROUPS.items():
        if group not in top:
            continue
        gnode = top[group][1]
        try:
            gm = ctx.mapping(gnode, group)
            ctx.keys(gm, group, (*keymap, "source"), _REQUIRED_FACTS[group])
        except _Invalid:
            ok = False
            continue
        gsource = None
        if "source" in gm:
            try:
                gsource = _source(ctx, gm["source"][1], f"{group}.source")
            except _Invalid:
                ok = False
        for key, attr in keymap.items():
            if key not in gm:
                continue
            fld = f"{group}.{key}"
            knode, vnode = gm[key]
            own = None
            try:
                if _is_sourced_fact(ctx, vnode):
                    fm = ctx.mapping(vnode, fld)
                    vnode = fm["value"][1]
                    if "source" in fm:
                        own = _source(ctx, fm["source"][1], fld + ".source")
                value = _fact_checker(group, key)(ctx, vnode, fld)
            except _Invalid:
                ok = False
                continue
            facts[attr] = value
            nodes[attr] = vnode
            src = own or gsource
            if attr == "hfp_codecs":
                missing = [i for i, s in enumerate(value) if s.source is None and src is None]
                if missing:
                    ctx.err(vnode, f"{fld}[{missing[0]}]", "no source; give the entry a 'source: \"[TAG] "
                            "reference\"' or give the hfp group one")
                    ok = False
                    continue
                value = tuple(s if s.source else dataclasses.replace(s, source=src) for s in value)
                facts[attr] = value
                src = src or (value[0].source if value else None)
            if src is None:
                ctx.err(knode, fld, f"no source; write '{key}: {{value: ..., source: \"[TAG] reference\"}}' "
                        f"or add 'source: \"[TAG] reference\"' to the {group} group")
                ok = False
                continue
            sources[attr] = src
    if not ok:
        return None

    # Cross-field rules.
    def at(attr: str, group: str) -> Node:
        return nodes.get(attr) or top[group][0]

    transport, profiles = facts["transport"], facts["profiles"]
    checks: list[tuple[bool, str, str, str]] = []  # (bad?, attr, field, message)
    bt = transport is Transport.BLUETOOTH
    checks += [
        (bt and not profiles, "profiles", "routesim.profiles.supported",
         "a Bluetooth model supports no profile; list a2dp and/or hfp"),
        (not bt and bool(profiles), "profiles", "routesim.profiles.supported",
         f"a {transport.value} model has no Bluetooth profiles; write supported: []"),
        (not bt and "ports" not in top, "transport", "ports",
         f"a {transport.value} model needs a ports group (output and input iOS port types)"),
        (bt and "ports" in top, "transport", "ports",
         "a Bluetooth model's ports follow from its profiles (bluetoothA2DP, bluetoothHFP); remove the group"),
        (Profile.A2DP in profiles and "a2dp" not in top, "profiles", "a2dp",
         "a2dp is supported but there is no a2dp group; add codecs and sample_rate"),
        (Profile.A2DP not in profiles and "a2dp" in top, "profiles", "a2dp",
         "there is an a2dp group but a2dp is not in profiles.supported; add it there or remove the group"),
        (Profile.HFP in profiles and "hfp" not in top, "profiles", "hfp",
         "hfp is supported but there is no hfp group; add its codecs best first"),
        (Profile.HFP not in profiles and "hfp" in top, "profiles", "hfp",
         "there is an hfp group but hfp is not in profiles.supported; add it there or remove the group"),
        ("a2dp_codecs" in facts and not facts["a2dp_codecs"], "a2dp_codecs", "a2dp.codecs",
         "an A2DP model needs at least one codec; sbc is mandatory in A2DP"),
        (Profile.HFP in profiles and facts["microphones"] > 0 and not facts.get("hfp_codecs"), "hfp_codecs",
         "hfp.codecs", "an HFP model with a microphone needs at least one HFP codec; cvsd is the baseline"),
        ((facts["vendor_id"] is None) != (facts["product_id"] is None), "product_id", "identity.product_id",
         "vendor_id and product_id go together; give both or neither"),
        (facts["advert_model"] is not None and facts["advert_model"] != facts["product_id"], "advert_model",
         "identity.advert_model", "the advert model field is the product id sent little-endian; "
         f"set it to {facts['product_id']:#06x}" if facts["product_id"] is not None else
         "a model without a product id has no advert model; write null"),
        ("single" in facts["battery"] and len(facts["battery"]) > 1, "battery", "hardware.battery",
         "'single' excludes left/right/case; write [single] or the parts"),
        ("case" in facts["battery"] and not facts["has_case"], "battery", "hardware.battery",
         "the case reports battery but hardware.case is false; set case: true or drop 'case'"),
        (not bt and "input_port" in facts and (facts["input_port"] is None) != (facts["microphones"] == 0),
         "input_port", "ports.input", "an input port needs a microphone and a microphone needs an input port; "
         "make ports.input and hardware.microphones agree"),
    ]
    hfp = facts.get("hfp_codecs", ())
    codecs_listed = [s.codec for s in hfp]
    checks.append((len(set(codecs_listed)) != len(codecs_listed), "hfp_codecs", "hfp.codecs",
                   "a codec is listed twice; list each codec once (give it the union of its platform ranges)"))
    for bad, attr, fld, msg in checks:
        if bad:
            group = fld.split(".")[0]
            ctx.err(nodes.get(attr) or (top[group][0] if group in top else root), fld, msg)
            ok = False
    if not ok:
        return None
    model = Model(
        id=model_id,
        name=facts["name"],
        product=facts["product"],
        kind=facts["kind"],
        transport=transport,
        profiles=profiles,
        vendor_id=facts["vendor_id"],
        product_id=facts["product_id"],
        a2dp_codecs=facts.get("a2dp_codecs", ()),
        a2dp_sample_rate=facts.get("a2dp_sample_rate", 48000),
        hfp_codecs=hfp,
        microphones=facts["microphones"],
        in_ear_detection=facts["in_ear_detection"],
        has_case=facts["has_case"],
        battery=facts["battery"],
        output_port=facts.get("output_port"),
        input_port=facts.get("input_port"),
        input_rate=facts.get("input_rate"),
        high_quality_recording=facts.get("high_quality_recording", False),
        advert_model=facts["advert_model"],
        advert_worn=facts.get("advert_worn"),
        sources=sources,
        origin=ctx.file,
    )
    return model, nodes


def _yaml_files(directory: Traversable) -> list[Traversable]:
    return sorted((f for f in directory.iterdir() if f.name.endswith((".yaml", ".yml")) and f.is_file()),
                  key=lambda f: f.name)


def _label(directory: Traversable | Path, name: str, label: str | None) -> str:
    return f"{label}/{name}" if label else str(Path(str(directory)) / name)


def load_models_dir(directory: Path | Traversable, *, label: str | None = None) -> list[Model]:
    """Load and validate every model file in ``directory``, in catalog order; raises CatalogError."""
    directory = Path(directory) if isinstance(directory, str) else directory
    if not directory.is_dir():
        raise CatalogError([f"{directory}:1: not a directory of model files; give the models directory"])
    errors: list[str] = []
    models: list[Model] = []
    id_at: dict[str, str] = {}
    pid_at: dict[tuple[int, int], tuple[str, str]] = {}
    order_ctx: _Ctx | None = None
    order: list[tuple[str, Node]] | None = None
    for f in _yaml_files(directory):
        ctx = _Ctx(_label(directory, f.name, label))
        root = _compose(f.read_text(encoding="utf-8"), ctx)
        if f.name == ORDER_FILE:
            order_ctx = ctx
            if root is not None:
                try:
                    m = ctx.mapping(root, "")
                    ctx.keys(m, "", ("order",), ("order",))
                    onode = m["order"][1]
                    if not isinstance(onode, SequenceNode):
                        ctx.fail(onode, "order", _type_error(onode, "a list of model ids", "[airpods-1, ...]"))
                    order = [(_str(ctx, n, f"order[{i}]"), n) for i, n in enumerate(onode.value)]
                except _Invalid:
                    pass
            errors += ctx.errors
            continue
        stem = f.name.rsplit(".", 1)[0]
        parsed = _parse_model(ctx, root, stem) if root is not None else None
        errors += ctx.errors
        if parsed is None:
            continue
        model, nodes = parsed
        if model.id in id_at:
            errors.append(f"{ctx.file}:1: field 'id': {model.id!r} is also defined in {id_at[model.id]}; "
                          f"each id names one model")
            continue
        id_at[model.id] = ctx.file
        if model.product_id is not None:
            key = (model.vendor_id, model.product_id)
            line = nodes["product_id"].start_mark.line + 1
            if key in pid_at:
                other, where = pid_at[key]
                errors.append(f"{ctx.file}:{line}: field 'identity.product_id': {model.product_id:#06x} is also "
                              f"{other}'s ({where}); each product id names one model")
                continue
            pid_at[key] = (model.id, f"{ctx.file}:{line}")
        models.append(model)
    if order is not None and order_ctx is not None:
        by_id = {m.id: m for m in models}
        listed: list[str] = []
        for i, (mid, node) in enumerate(order):
            if mid in listed:
                order_ctx.err(node, f"order[{i}]", f"{mid!r} is listed twice; list it once")
            elif mid not in by_id and mid not in id_at:
                hint = suggest(mid, id_at)
                order_ctx.err(node, f"order[{i}]", f"no model file defines {mid!r}; "
                              + (f"did you mean {hint!r}?" if hint else f"add {mid}.yaml or remove it"))
            listed.append(mid)
        for mid in id_at:
            if mid not in listed:
                order_ctx.err(None, "order", f"{mid!r} ({id_at[mid]}) is not listed; add it to the order")
        errors += order_ctx.errors
        rank = {mid: i for i, mid in enumerate(listed)}
        models.sort(key=lambda m: rank.get(m.id, len(rank)))
    if errors:
        raise CatalogError(errors)
    return models


# ----------------------------------------------------------------------------------------------- quirks ---

_QUIRK_KEYS = ("id", "effect", "params", "match", "platform", "when", "source", "confidence", "summary")
_QUIRK_REQUIRED = ("id", "effect", "params", "match", "source", "confidence", "summary")


def _parse_quirk(ctx: _Ctx, node: Node, fld: str) -> Quirk:
    m = ctx.mapping(node, fld)
    ctx.keys(m, fld, _QUIRK_KEYS, _QUIRK_REQUIRED)
    qid = _str(ctx, m["id"][1], f"{fld}.id")
    if not _ID_RX.match(qid):
        ctx.fail(m["id"][1], f"{fld}.id", f"{qid!r} is not a quirk id; use lower-case letters, digits, '-'")
    effect = _name(ctx, m["effect"][1], f"{fld}.effect", "effect", list(EFFECTS))
    pnode = m["params"][1]
    pmap = ctx.mapping(pnode, f"{fld}.params")
    params: dict[str, Any] = {}
    for key, (knode, vnode) in pmap.items():
        try:
            spec = EFFECTS[effect].params
            if key not in spec:
                hint = suggest(key, spec)
                right = f"did you mean {hint!r}?" if hint else f"{effect} takes " + ", ".join(spec)
                ctx.fail(knode, f"{fld}.params.{key}", f"unknown parameter for effect {effect!r}; {right}")
            params[key] = spec[key](ctx.value(vnode, f"{fld}.params.{key}"))
        except ValueError as e:
            ctx.fail(vnode, f"{fld}.params.{key}", str(e))
    missing = [k for k in EFFECTS[effect].params if k not in pmap]
    if missing:
        ctx.fail(pnode, f"{fld}.params", f"effect {effect!r} needs {', '.join(missing)}; "
                 f"give {', '.join(EFFECTS[effect].params)}")
    mm = ctx.mapping(m["match"][1], f"{fld}.match")
    ctx.keys(mm, f"{fld}.match", ("product_ids", "vendor_id", "firmware"), ("product_ids",))
    pid_node = mm["product_ids"][1]

    def pid(c: _Ctx, n: Node, f: str) -> int:
        v = _int(c, n, f, "0x2014")
        if not 0 <= v <= 0xFFFF:
            c.fail(n, f, f"{v:#x} does not fit 16 bits; Device ID numbers are 0x0000 to 0xFFFF")
        return v

    product_ids = tuple(_list(ctx, pid_node, f"{fld}.match.product_ids", pid))
    if not product_ids:
        ctx.fail(pid_node, f"{fld}.match.product_ids", "empty; list the product ids the quirk applies to")
    vendor_id = _int(ctx, mm["vendor_id"][1], f"{fld}.match.vendor_id", "0x004C") if "vendor_id" in mm else APPLE
    firmware = _version_range(ctx, mm["firmware"][1], f"{fld}.match.firmware", parse_firmware_range,
                              '">=7A305,<8A1" or ">=6.8"') if "firmware" in mm else VersionRange()
    platform = _version_range(ctx, m["platform"][1], f"{fld}.platform") if "platform" in m else VersionRange()
    when: dict[str, tuple[str, ...]] = {}
    if "when" in m:
        wm = ctx.mapping(m["when"][1], f"{fld}.when")
        for key, (knode, vnode) in wm.items():
            try:
                value = ctx.value(vnode, f"{fld}.when.{key}")
                when.update(check_when({key: value}))
            except ValueError as e:
                ctx.fail(knode if key not in ("category", "mode", "options_include", "options_exclude") else vnode,
                         f"{fld}.when.{key}", str(e))
    source = _source(ctx, m["source"][1], f"{fld}.source")
    return Quirk(
        id=qid, effect=effect, params=params, firmware=firmware, platform=platform, when=when, source=source,
        confidence=_str(ctx, m["confidence"][1], f"{fld}.confidence"),
        summary=_str(ctx, m["summary"][1], f"{fld}.summary"),
        origin=ctx.file, product_ids=product_ids, vendor_id=vendor_id,
    )


def load_quirks_dir(directory: Path | Traversable, *, label: str | None = None) -> list[Quirk]:
    """Load and validate every quirk file in ``directory`` (file-name order); raises CatalogError."""
    directory = Path(directory) if isinstance(directory, str) else directory
    if not directory.is_dir():
        raise CatalogError([f"{directory}:1: not a directory of quirk files; give an existing directory"])
    errors: list[str] = []
    out: list[Quirk] = []
    for f in _yaml_files(directory):
        ctx = _Ctx(_label(directory, f.name, label))
        root = _compose(f.read_text(encoding="utf-8"), ctx)
        if root is not None:
            try:
                top = ctx.mapping(root, "")
                ctx.keys(top, "", ("quirks",), ("quirks",))
                qnode = top["quirks"][1]
                if not isinstance(qnode, SequenceNode):
                    ctx.fail(qnode, "quirks", _type_error(qnode, "a list of quirks", "- id: ..."))
                for i, n in enumerate(qnode.value):
                    try:
                        out.append(_parse_quirk(ctx, n, f"quirks[{i}]"))
                    except _Invalid:
                        pass
            except _Invalid:
                pass
        errors += ctx.errors
    if errors:
        raise CatalogError(errors)
    return out


# ---------------------------------------------------------------------------------------------- catalog ---


class Catalog:
    """The loaded models (in catalog order) with their quirks attached, and identity resolution."""

    def __init__(self, models: Iterable[Model], quirk_layers: Sequence[Sequence[Quirk]] = ()):
        self._loaded: list[tuple[int, Quirk]] = [(i, q) for i, layer in enumerate(quirk_layers) for q in layer]
        effective: dict[str, Quirk] = {}
        for _, q in self._loaded:  # a later quirk with the same id replaces the earlier one
            effective.pop(q.id, None)
            effective[q.id] = q
        self._quirks = tuple(effective.values())
        self._models: dict[str, Model] = {}
        self._by_pid: dict[tuple[int, int], Model] = {}
        for m in models:
            if m.id in self._models:
                raise CatalogError([f"{m.origin}:1: field 'id': {m.id!r} is defined twice; each id names one model"])
            attached = tuple(q for q in self._quirks if q.vendor_id == m.vendor_id and m.product_id in q.product_ids)
            m = dataclasses.replace(m, quirks=attached)
            self._models[m.id] = m
            if m.product_id is not None and m.vendor_id is not None:
                self._by_pid[(m.vendor_id, m.product_id)] = m

    # --- lookup ---
    def get(self, model_id: str) -> Model:
        try:
            return self._models[model_id]
        except (KeyError, TypeError):
            raise UnknownModel(model_id, suggest(model_id, self._models)) from None

    def ids(self) -> list[str]:
        return list(self._models)

    def models(self) -> list[Model]:
        return list(self._models.values())

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models

    def __iter__(self) -> Iterator[Model]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    # --- identity ---
    def by_product_id(self, product_id: int, vendor_id: int = APPLE) -> Model | None:
        return self._by_pid.get((vendor_id, product_id))

    _MODALIAS_RX = re.compile(r"^(bluetooth|usb):v([0-9A-Fa-f]{4})p([0-9A-Fa-f]{4})(?:d([0-9A-Fa-f]{4}))?$")

    def from_modalias(self, text: str) -> Model | None:
        """``bluetooth:v004Cp2014d0B21`` (BlueZ ``Device1.Modalias``, BlueZ-modalias). The ``d`` field
        is firmware-dependent and ignored. ``usb:`` forms carry USB-IF vendor ids, a different numbering from
        the Bluetooth SIG company ids the catalog holds, so they match nothing."""
        if not isinstance(text, str):
            return None
        m = self._MODALIAS_RX.match(text.strip())
        if not m or m.group(1) != "bluetooth":
            return None
        return self.by_product_id(int(m.group(3), 16), int(m.group(2), 16))

    def from_advertisement(self, payload: bytes) -> Model | None:
        """Apple manufacturer data (company 0x004C, without the company id, as bleak's ``manufacturer_data[76]``
        gives it): a sequence of TLVs; the 0x07 proximity-pairing TLV of a genuine device has length 0x19 and
        prefix 0x01, and bytes 3-4 hold the product id little-endian (furiousMAC, capod, librepods). Other
        lengths (clones send 0x13) and prefixes (0x00, pairing mode) are not identified. The walk is
        :func:`profiles.continuity.proximity_pairing`, shared with the status decoder (``bt.adverts``)."""
        try:
            data = bytes(payload)
        except (TypeError, ValueError):
            return None
        try:
            record = continuity.proximity_pairing(data)
        except continuity.ContinuityError:
            return None  # truncated record, clone length, pairing-mode prefix
        if record is None:
            return None
        return self.by_product_id(continuity.product_id(record), APPLE)

    def generic_for_uuids(self, uuids: Iterable[str]) -> Model:
        """The generic model for a device the catalog does not know, from its service UUIDs
        (``Device1.UUIDs``): HFP/HSP headset + A2DP sink -> generic-headset (narrowband: the UUIDs cannot tell
        whether it has mSBC [INF]), A2DP sink only -> generic-speaker, HFP/HSP only -> generic-hfp-only."""
        short = {s for s in (_short_uuid(u) for u in uuids) if s is not None}
        headset, sink = bool(short & _HFP_HSP_HEADSET), bool(short & _A2DP_SINK)
        if headset and sink:
            return self.get(GENERIC_HEADSET)
        if sink:
            return self.get(GENERIC_SPEAKER)
        if headset:
            return self.get(GENERIC_HFP_ONLY)
        raise NoAudioProfile(
            "the UUIDs name neither an A2DP sink (0000110b) nor an HFP/HSP headset (0000111e, 00001108); "
            "no generic audio model fits"
        )

    # --- quirks ---
    def quirks(self) -> tuple[Quirk, ...]:
        """Effective quirks, bundled first then user layers (a same-id user quirk replaces the bundled one)."""
        return self._quirks

    def loaded_quirks(self) -> list[tuple[int, Quirk]]:
        """Every quirk as loaded, with its layer index (0 = bundled), replaced ones included (for lint)."""
        return list(self._loaded)

    def quirks_for(self, model: Model, platform: Platform, firmware: str | None) -> list[Quirk]:
        """Quirks matching the model's product id that apply on this platform and firmware (unknown firmware:
        firmware-scoped quirks apply). ``when`` conditions are the session's to check
        (``profiles.quirks.session_matches``). Raises ValueError for an unparseable firmware string."""
        if model.product_id is None or model.vendor_id is None:
            return []
        fw = parse_firmware(firmware) if firmware is not None else None
        return [
            q for q in self._quirks
            if q.vendor_id == model.vendor_id and model.product_id in q.product_ids and q.applies(platform, fw)
        ]


def _short_uuid(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    t = text.strip().lower()
    if t.startswith("0x"):
        t = t[2:]
    if len(t) == 36 and t.endswith(_BASE_UUID_TAIL):
        t = t[:8]
    if re.fullmatch(r"[0-9a-f]{4}|[0-9a-f]{8}", t):
        v = int(t, 16)
        return v if v <= 0xFFFF else None
    return None


def _bundled(sub: str) -> Traversable:
    return resources.files("routesim.fixtures").joinpath(sub)


def load_catalog(extra_quirk_dirs: Sequence[Path] = (), *, models_dir: Path | Traversable | None = None,
                 bundled_quirks: bool = True) -> Catalog:
    """Load the bundled models (or ``models_dir``) and quirks, with ``extra_quirk_dirs`` layered over the bundled
    quirks in order; raises CatalogError listing every problem."""
    errors: list[str] = []
    models: list[Model] = []
    try:
        if models_dir is None:
            models = load_models_dir(_bundled("models"), label="fixtures/models")
        else:
            models = load_models_dir(models_dir)
    except CatalogError as e:
        errors += e.errors
    layers: list[list[Quirk]] = []
    dirs: list[tuple[Path | Traversable, str | None]] = []
    if bundled_quirks:
        bundled = _bundled("quirks")
        if bundled.is_dir():
            dirs.append((bundled, "fixtures/quirks"))
    dirs += [(Path(d), None) for d in extra_quirk_dirs]
    for d, label in dirs:
        try:
            layers.append(load_quirks_dir(d, label=label))
        except CatalogError as e:
            errors += e.errors
    if errors:
        raise CatalogError(errors)
    return Catalog(models, layers)


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The bundled catalog, loaded once."""
    return load_catalog()


__all__ = [
    "APPLE", "Catalog", "CatalogError", "NoAudioProfile", "UnknownModel", "default_catalog", "load_catalog",
    "load_models_dir", "load_quirks_dir",
]
