"""``routesim identify``: which model a device is, from its Modalias or an advertisement, whatever its name."""
from __future__ import annotations

import sys


def add_command(sub) -> None:
    p = sub.add_parser(
        "identify",
        help="resolve the model from a Modalias or an Apple advertisement (hex), whatever the device is called",
        description="Resolve a device's model from what does not change when its owner renames it: the "
                    "Device ID in BlueZ's Modalias (bluetooth:v004Cp2014d…) or the model field of an Apple "
                    "proximity-pairing advertisement (manufacturer data for company 0x004C, as hex).",
        epilog="examples:\n  routesim identify bluetooth:v004Cp2014dD408\n"
               "  routesim identify 07190114200b...   (bleak's manufacturer_data[76], hex)",
    )
    p.add_argument("value", help="a Modalias string, or advertisement bytes in hex")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: one object {input, from, model, product, name, product_id} (model null if unknown)")
    p.set_defaults(func=run)


def run(args) -> int:
    from routesim.profiles.catalog import default_catalog

    catalog = default_catalog()
    value = args.value.strip()
    if value.lower().startswith(("bluetooth:", "usb:")):
        model, how = catalog.from_modalias(value), "Modalias"
    else:
        hexstr = value.replace(" ", "").replace(":", "").removeprefix("0x")
        try:
            payload = bytes.fromhex(hexstr)
        except ValueError:
            sys.stderr.write(f"routesim identify: {value[:80]!r} is neither a Modalias (bluetooth:v004Cp2014d…) nor hex "
                             "advertisement bytes (e.g. 0719011420…)\n")
            return 2
        if payload[:2] == b"\x4c\x00":  # a full AD structure's company id, little-endian
            payload = payload[2:]
        model, how = catalog.from_advertisement(payload), "advertisement"
    if getattr(args, "format", "text") == "json":
        import json

        print(json.dumps({
            "input": value, "from": how, "model": model.id if model else None,
            "product": (getattr(model, "product", "") or model.name) if model else None,
            "name": model.name if model else None,
            "product_id": f"0x{model.product_id:04X}" if model and model.product_id is not None else None,
        }))
        return 0 if model else 1
    if model is None:
        print(f"unknown: no catalog model matches this {how}")
        return 1
    print(f"{model.id}: {getattr(model, 'product', '') or model.name} (factory name {model.name!r}, "
          f"product id 0x{model.product_id:04X}, from the {how})")
    return 0
