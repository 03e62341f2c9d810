"""Model files: one YAML file per model (``fixtures/models``), every fact with a tagged source, checked
field by field and then across fields; ``_catalog.yaml`` gives the catalog order. The schema is in
``profiles.catalog``'s docstring."""
from __future__ import annotations

import dataclasses
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Callable, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routesim.profiles import catalog_fields as y, continuity
from routesim.profiles.yaml_lines import label as file_label, yaml_files
from routesim.profiles.codecs import A2DP_CODECS, HFP_CODECS
from routesim.profiles.model import HfpCodecSupport, Kind, Model, Profile, Transport
from routesim.profiles.platform import VersionRange
from routesim.profiles.provenance import Source
from routesim.profiles.quirks import suggest
from routesim.profiles.catalog_fields import CatalogError

ORDER_FILE = "_catalog.yaml"
BATTERY_PARTS = ("left", "right", "case", "single")
WIRED_OUTPUT_PORTS = ("headphones", "lineOut", "usbAudio", "carAudio", "HDMI")
WIRED_INPUT_PORTS = ("headsetMic", "lineIn", "usbAudio", "carAudio")
ID_RX = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # catalog ids of models and quirks

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


def _a2dp_codec(ctx: y.Ctx, n: Node, f: str) -> str:
    if isinstance(n, ScalarNode) and n.value in HFP_CODECS:
        ctx.fail(n, f, f"{n.value!r} is an HFP codec; A2DP codecs are " + ", ".join(A2DP_CODECS))
    return y.name(ctx, n, f, "A2DP codec", A2DP_CODECS)


def _hfp_entry(ctx: y.Ctx, n: Node, f: str) -> HfpCodecSupport:
    if isinstance(n, ScalarNode):
        codec = _hfp_codec(ctx, n, f)
        return HfpCodecSupport(codec)
    m = ctx.mapping(n, f)
    ctx.keys(m, f, ("codec", "platform", "source"), ("codec",))
    codec = _hfp_codec(ctx, m["codec"][1], f + ".codec")
    platform = y.version_range(ctx, m["platform"][1], f + ".platform", example='">=18"') if "platform" in m \
        else VersionRange()
    source = y.source(ctx, m["source"][1], f + ".source") if "source" in m else None
    return HfpCodecSupport(codec, platform, source)


def _hfp_codec(ctx: y.Ctx, n: Node, f: str) -> str:
    if isinstance(n, ScalarNode) and n.value in A2DP_CODECS:
        ctx.fail(n, f, f"{n.value!r} is an A2DP codec; HFP codecs are " + ", ".join(HFP_CODECS))
    return y.name(ctx, n, f, "HFP codec", HFP_CODECS)


def _fact_checker(group: str, key: str) -> Callable[[y.Ctx, Node, str], Any]:
    def enum(kind: str, cls: Any) -> Callable[[y.Ctx, Node, str], Any]:
        return lambda c, n, f: cls(y.name(c, n, f, kind, [e.value for e in cls]))

    def port(kind: str, choices: Sequence[str], nullable: bool) -> Callable[[y.Ctx, Node, str], Any]:
        def check(c: y.Ctx, n: Node, f: str) -> str | None:
            if nullable and n.tag == "tag:yaml.org,2002:null":
                return None
            return y.name(c, n, f, kind, choices)
        return check

    def battery_part(c: y.Ctx, n: Node, f: str) -> str:
        return y.name(c, n, f, "battery part", BATTERY_PARTS)

    def count(c: y.Ctx, n: Node, f: str) -> int:
        v = y.integer(c, n, f, "2")
        if not 0 <= v <= 16:
            c.fail(n, f, f"{v} is not a plausible microphone count; give 0 to 16")
        return v

    def rate(c: y.Ctx, n: Node, f: str) -> int:
        v = y.integer(c, n, f, "48000")
        if v not in (44100, 48000, 88200, 96000):
            c.fail(n, f, f"{v} Hz is not an A2DP sample rate; use 44100 or 48000")
        return v

    def input_rate(c: y.Ctx, n: Node, f: str) -> int:
        v = y.integer(c, n, f, "24000")
        if v not in (8000, 16000, 24000, 32000, 44100, 48000):
            c.fail(n, f, f"{v} Hz is not an input rate iOS reports; use 8000, 16000, 24000, 32000, 44100 or 48000")
        return v

    def ident(c: y.Ctx, n: Node, f: str) -> int | None:
        v = y.integer(c, n, f, "0x2014", nullable=True)
        if v is not None and not 0 <= v <= 0xFFFF:
            c.fail(n, f, f"{v:#x} does not fit 16 bits; Device ID numbers are 0x0000 to 0xFFFF")
        return v

    table: dict[tuple[str, str], Callable[[y.Ctx, Node, str], Any]] = {
        ("device", "name"): y.text,
        ("device", "product"): y.text,
        ("device", "kind"): enum("kind", Kind),
        ("device", "transport"): enum("transport", Transport),
        ("identity", "vendor_id"): ident,
        ("identity", "product_id"): ident,
        ("identity", "advert_model"): ident,
        ("profiles", "supported"): lambda c, n, f: frozenset(y.listed(c, n, f, enum("profile", Profile))),
        ("a2dp", "codecs"): lambda c, n, f: tuple(y.listed(c, n, f, _a2dp_codec)),
        ("a2dp", "sample_rate"): rate,
        ("hfp", "codecs"): lambda c, n, f: tuple(y.listed(c, n, f, _hfp_entry)),
        ("hardware", "microphones"): count,
        ("hardware", "in_ear_detection"): y.boolean,
        ("hardware", "case"): y.boolean,
        ("hardware", "battery"): lambda c, n, f: tuple(y.listed(c, n, f, battery_part)),
        ("ports", "output"): port("output port type", WIRED_OUTPUT_PORTS, False),
        ("ports", "input"): port("input port type", WIRED_INPUT_PORTS, True),
        ("ports", "input_rate"): input_rate,
        ("hardware", "high_quality_recording"): y.boolean,
        ("advert", "worn"): port("worn rule", continuity.WORN_RULES, True),
    }
    return table[(group, key)]


def _is_sourced_fact(ctx: y.Ctx, node: Node) -> bool:
    """``{value: X, source: S}``: a fact with its own source."""
    if not isinstance(node, MappingNode):
        return False
    keys = {k.value for k, _ in node.value if isinstance(k, ScalarNode)}
    return "value" in keys and keys <= {"value", "source"}


@dataclasses.dataclass
class _Facts:
    """What the groups of one model file gave: values by Model field, their sources and their nodes."""

    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    sources: dict[str, Source] = dataclasses.field(default_factory=dict)
    nodes: dict[str, Node] = dataclasses.field(default_factory=dict)
    ok: bool = True


def _parse_model(ctx: y.Ctx, root: Node, stem: str) -> tuple[Model, dict[str, Node]] | None:
    """Returns the model and the nodes of its identity facts (for duplicate checks), or None after errors."""
    try:
        top = ctx.mapping(root, "")
        ctx.keys(top, "", ("id", *_GROUPS), ("id", *_REQUIRED_GROUPS))
    except y.Invalid:
        return None
    model_id = _model_id(ctx, top, stem)
    facts = _Facts(ok=model_id is not None)
    for group, keymap in _GROUPS.items():
        if group in top:
            _read_group(ctx, group, keymap, top[group][1], facts)
    if not facts.ok or not _cross_field_checks(ctx, root, top, facts.values, facts.nodes):
        return None
    return _build(ctx, model_id, facts), facts.nodes


def _model_id(ctx: y.Ctx, top: dict[str, tuple[Node, Node]], stem: str) -> str | None:
    try:
        model_id = y.text(ctx, top["id"][1], "id")
        if not ID_RX.match(model_id):
            ctx.fail(top["id"][1], "id", f"{model_id!r} is not a catalog id; use lower-case letters, digits, '-'")
        if model_id != stem:
            ctx.fail(top["id"][1], "id", f"{model_id!r} differs from the file name {stem!r}; "
                     f"name the file {model_id}.yaml or set id: {stem}")
    except y.Invalid:
        return None
    return model_id


def _read_group(ctx: y.Ctx, group: str, keymap: dict[str, str], gnode: Node, facts: _Facts) -> None:
    """One group's facts into ``facts``, each with its own source or the group's."""
    try:
        gm = ctx.mapping(gnode, group)
        ctx.keys(gm, group, (*keymap, "source"), _REQUIRED_FACTS[group])
    except y.Invalid:
        facts.ok = False
        return
    gsource = None
    if "source" in gm:
        try:
            gsource = y.source(ctx, gm["source"][1], f"{group}.source")
        except y.Invalid:
            facts.ok = False
    for key, attr in keymap.items():
        if key in gm:
            _read_fact(ctx, group, key, attr, gm[key], gsource, facts)


def _read_fact(ctx: y.Ctx, group: str, key: str, attr: str, entry: tuple[Node, Node], gsource: Source | None,
               facts: _Facts) -> None:
    fld = f"{group}.{key}"
    knode, vnode = entry
    own = None
    try:
        if _is_sourced_fact(ctx, vnode):
            fm = ctx.mapping(vnode, fld)
            vnode = fm["value"][1]
            if "source" in fm:
                own = y.source(ctx, fm["source"][1], fld + ".source")
        value = _fact_checker(group, key)(ctx, vnode, fld)
    except y.Invalid:
        facts.ok = False
        return
    facts.values[attr] = value
    facts.nodes[attr] = vnode
    src = own or gsource
    if attr == "hfp_codecs":
        missing = [i for i, s in enumerate(value) if s.source is None and src is None]
        if missing:
            ctx.err(vnode, f"{fld}[{missing[0]}]", "no source; give the entry a 'source: \"[TAG] "
                    "reference\"' or give the hfp group one")
            facts.ok = False
            return
        value = tuple(s if s.source else dataclasses.replace(s, source=src) for s in value)
        facts.values[attr] = value
        src = src or (value[0].source if value else None)
    if src is None:
        ctx.err(knode, fld, f"no source; write '{key}: {{value: ..., source: \"[TAG] reference\"}}' "
                f"or add 'source: \"[TAG] reference\"' to the {group} group")
        facts.ok = False
        return
    facts.sources[attr] = src


def _cross_field_checks(ctx: y.Ctx, root: Node, top: dict[str, tuple[Node, Node]], facts: dict[str, Any],
                        nodes: dict[str, Node]) -> bool:
    """The rules between fields (profiles against groups, identity pairs, battery parts); False after errors."""
    ok = True
    transport, profiles = facts["transport"], facts["profiles"]
    checks: list[tuple[bool, str, str, str]] = []  # (bad?, attr, field, message)
    bt = transport is Transport.BLUETOOTH
    checks += [
        (bt and not profiles, "profiles", "profiles.supported",
         "a Bluetooth model supports no profile; list a2dp and/or hfp"),
        (not bt and bool(profiles), "profiles", "profiles.supported",
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
    return ok


def _build(ctx: y.Ctx, model_id: str, facts_: _Facts) -> Model:
    facts, sources = facts_.values, facts_.sources
    transport, profiles = facts["transport"], facts["profiles"]
    hfp = facts.get("hfp_codecs", ())
    return Model(
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


def load_models_dir(directory: Path | Traversable, *, label: str | None = None) -> list[Model]:
    """Load and validate every model file in ``directory``, in catalog order; raises CatalogError."""
    directory = Path(directory) if isinstance(directory, str) else directory
    if not directory.is_dir():
        raise CatalogError([f"{directory}:1: not a directory of model files; give the models directory"])
    errors: list[str] = []
    models: list[Model] = []
    id_at: dict[str, str] = {}
    pid_at: dict[tuple[int, int], tuple[str, str]] = {}
    order_ctx: y.Ctx | None = None
    order: list[tuple[str, Node]] | None = None
    for f in yaml_files(directory):
        ctx = y.Ctx(file_label(directory, f.name, label))
        root = y.read_document(f, ctx, "a model file")
        if f.name == ORDER_FILE:
            order_ctx = ctx
            if root is not None:
                try:
                    m = ctx.mapping(root, "")
                    ctx.keys(m, "", ("order",), ("order",))
                    onode = m["order"][1]
                    if not isinstance(onode, SequenceNode):
                        ctx.fail(onode, "order", y.type_error(onode, "a list of model ids", "[airpods-1, ...]"))
                    order = [(y.text(ctx, n, f"order[{i}]"), n) for i, n in enumerate(onode.value)]
                except y.Invalid:
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
