"""Quirk files: ``quirks: [{id, effect, params, match: {product_ids, vendor_id, firmware}, platform, when,
source, confidence, summary}, ...]``, checked against the effect vocabulary of ``profiles.quirks``."""
from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from yaml.nodes import Node, SequenceNode

from routesim.profiles import catalog_fields as y
from routesim.profiles.yaml_lines import label as file_label, yaml_files
from routesim.profiles.continuity import APPLE
from routesim.profiles.model import Quirk
from routesim.profiles.model_file import ID_RX
from routesim.profiles.platform import VersionRange
from routesim.profiles.quirks import EFFECTS, check_when, parse_firmware_range, suggest
from routesim.profiles.catalog_fields import CatalogError

_QUIRK_KEYS = ("id", "effect", "params", "match", "platform", "when", "source", "confidence", "summary")
_QUIRK_REQUIRED = ("id", "effect", "params", "match", "source", "confidence", "summary")


def _parse_quirk(ctx: y.Ctx, node: Node, fld: str) -> Quirk:
    m = ctx.mapping(node, fld)
    ctx.keys(m, fld, _QUIRK_KEYS, _QUIRK_REQUIRED)
    qid = y.text(ctx, m["id"][1], f"{fld}.id")
    if not ID_RX.match(qid):
        ctx.fail(m["id"][1], f"{fld}.id", f"{qid!r} is not a quirk id; use lower-case letters, digits, '-'")
    effect = y.name(ctx, m["effect"][1], f"{fld}.effect", "effect", list(EFFECTS))
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

    def pid(c: y.Ctx, n: Node, f: str) -> int:
        v = y.integer(c, n, f, "0x2014")
        if not 0 <= v <= 0xFFFF:
            c.fail(n, f, f"{v:#x} does not fit 16 bits; Device ID numbers are 0x0000 to 0xFFFF")
        return v

    product_ids = tuple(y.listed(ctx, pid_node, f"{fld}.match.product_ids", pid))
    if not product_ids:
        ctx.fail(pid_node, f"{fld}.match.product_ids", "empty; list the product ids the quirk applies to")
    vendor_id = y.integer(ctx, mm["vendor_id"][1], f"{fld}.match.vendor_id", "0x004C") if "vendor_id" in mm else APPLE
    firmware = y.version_range(ctx, mm["firmware"][1], f"{fld}.match.firmware", parse_firmware_range,
                              '">=7A305,<8A1" or ">=6.8"') if "firmware" in mm else VersionRange()
    platform = y.version_range(ctx, m["platform"][1], f"{fld}.platform") if "platform" in m else VersionRange()
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
    source = y.source(ctx, m["source"][1], f"{fld}.source")
    return Quirk(
        id=qid, effect=effect, params=params, firmware=firmware, platform=platform, when=when, source=source,
        confidence=y.text(ctx, m["confidence"][1], f"{fld}.confidence"),
        summary=y.text(ctx, m["summary"][1], f"{fld}.summary"),
        origin=ctx.file, product_ids=product_ids, vendor_id=vendor_id,
    )


def load_quirks_dir(directory: Path | Traversable, *, label: str | None = None) -> list[Quirk]:
    """Load and validate every quirk file in ``directory`` (file-name order); raises CatalogError."""
    directory = Path(directory) if isinstance(directory, str) else directory
    if not directory.is_dir():
        raise CatalogError([f"{directory}:1: not a directory of quirk files; give an existing directory"])
    errors: list[str] = []
    out: list[Quirk] = []
    for f in yaml_files(directory):
        ctx = y.Ctx(file_label(directory, f.name, label))
        root = y.read_document(f, ctx, "a quirk file")
        if root is not None:
            try:
                top = ctx.mapping(root, "")
                ctx.keys(top, "", ("quirks",), ("quirks",))
                qnode = top["quirks"][1]
                if not isinstance(qnode, SequenceNode):
                    ctx.fail(qnode, "quirks", y.type_error(qnode, "a list of quirks", "- id: ..."))
                for i, n in enumerate(qnode.value):
                    try:
                        out.append(_parse_quirk(ctx, n, f"quirks[{i}]"))
                    except y.Invalid:
                        pass
            except y.Invalid:
                pass
        errors += ctx.errors
    if errors:
        raise CatalogError(errors)
    return out


