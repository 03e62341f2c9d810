"""``routesim models``: list the catalog, show one entry with its sources, lint the quirks."""
from __future__ import annotations

import sys

from routesim.profiles.model import Model


def _pid(m: Model) -> str:
    return f"0x{m.product_id:04X}" if m.product_id is not None else "—"


def _caps(m: Model) -> str:
    parts = []
    if m.is_bluetooth:
        parts.append("+".join(sorted(p.value for p in m.profiles)))
        if m.a2dp_codecs:
            parts.append("A2DP " + "/".join(m.a2dp_codecs))
        if m.hfp_codecs:
            parts.append("HFP " + "/".join(
                s.codec + (f"({s.platform})" if str(s.platform) != "any" else "") for s in m.hfp_codecs))
    else:
        parts.append(f"{m.transport.value}: out {m.output_port or '—'}, in {m.input_port or '—'}")
    if m.microphones:
        parts.append(f"{m.microphones} mic")
    if m.in_ear_detection:
        parts.append("ear detection")
    if m.has_head_detection:
        parts.append("head detection")
    if m.quirks:
        parts.append(f"{len(m.quirks)} quirk(s)")
    return "; ".join(parts)


def show(m: Model, out=None) -> None:
    w = (out or sys.stdout).write  # looked up per call: a default bound at import would outlive a redirected stdout
    w(f"{m.id}: {getattr(m, 'product', '') or m.name}\n")
    rows = [
        ("factory name", m.name, "name"),
        ("kind", m.kind.value, "kind"),
        ("transport", m.transport.value, "transport"),
        ("vendor id", f"0x{m.vendor_id:04X}" if m.vendor_id is not None else "—", "vendor_id"),
        ("product id", _pid(m), "product_id"),
        ("Modalias", (m.modalias_prefix + "d…") if m.modalias_prefix else "—", "product_id"),
        ("advert model", f"0x{m.advert_model:04X}" if m.advert_model is not None else "—", "advert_model"),
        ("profiles", ", ".join(sorted(p.value for p in m.profiles)) or "—", "profiles"),
        ("A2DP codecs", ", ".join(m.a2dp_codecs) or "—", "a2dp_codecs"),
        ("A2DP sample rate", f"{m.a2dp_sample_rate} Hz" if m.has_a2dp else "—", "a2dp_sample_rate"),
        ("microphones", str(m.microphones), "microphones"),
        ("in-ear detection", "yes" if m.in_ear_detection else "no", "in_ear_detection"),
        ("case", "yes" if m.has_case else "no", "has_case"),
        ("battery", ", ".join(m.battery) or "—", "battery"),
        ("output port", m.output_port or "—", "output_port"),
        ("input port", m.input_port or "—", "input_port"),
    ]
    if m.input_rate:
        rows.append(("input rate", f"{m.input_rate} Hz", "input_rate"))
    if m.advert_worn:
        rows.append(("head detection", f"advert rule {m.advert_worn}", "advert_worn"))
    for label, value, key in rows:
        src = m.sources.get(key)
        w(f"  {label:18} {value}\n")
        if src is not None:
            w(f"  {'':18}   {src}\n")
    if m.hfp_codecs:
        w("  HFP codecs (best first):\n")
        for s in m.hfp_codecs:
            w(f"    {s.codec:9} {s.sample_rate} Hz  on iOS {s.platform}\n")
            if s.source:
                w(f"    {'':9} {s.source}\n")
    if m.quirks:
        w("  quirks:\n")
        for q in m.quirks:
            w(f"    {q.id}: {q.effect} {dict(q.params)}  iOS {q.platform}, firmware {q.firmware}\n")
            w(f"      when {dict(q.when)}\n      {q.summary}\n      {q.source} (confidence: {q.confidence})\n")
    w(f"  data file: {m.origin}\n")


def run(args, catalog) -> int:
    if args.check:
        from routesim.profiles.quirks import lint

        problems = lint(catalog)
        for p in problems:
            print(p)
        print(f"routesim: {len(catalog)} models, {len(catalog.quirks())} quirks, {len(problems)} problem(s)")
        return 1 if problems else 0
    if args.action == "show":
        if not args.id:
            sys.stderr.write("routesim models show: name a catalog id, e.g. `routesim models show airpods-pro-2`\n")
            return 2
        try:
            show(catalog.get(args.id))
        except KeyError as e:
            sys.stderr.write(f"routesim: {e.args[0] if e.args else e}\n")
            return 2
        return 0
    print(f"{'id':22} {'product id':10} {'kind':9} capabilities")
    for m in catalog.models():
        print(f"{m.id:22} {_pid(m):10} {m.kind.value:9} {_caps(m)}")
    return 0
