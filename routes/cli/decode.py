"""``routesim decode``: every field of Apple proximity-pairing adverts, offline (no adapter needed).

Input is what bleak gives as ``manufacturer_data[76]`` (or BlueZ's ``ManufacturerData[0x004C]``): hex, with
or without spaces, colons and the ``4C 00`` company id in front, or the ``b'\\x07\\x19…'`` form Python
prints. ``-`` reads one advert per line from standard input (blank lines and ``#`` comments skipped).
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from typing import Any, Iterator, TextIO

EPILOG = """\
examples:
  routesim decode 0719011420 2B9A8F0100040F261AC42BFA2FB9B608CD60CBDF75AB
  routesim decode 4c00071901...             the company id in front is dropped
  routesim decode - < adverts.txt           one advert per line (hex or b'\\x07...')
  routesim decode 07190114... --format json one JSON object per advert

exit codes: 0 every advert decoded, 1 an advert held no proximity-pairing record, 2 input that cannot be read.
"""

_HEX_JUNK = re.compile(r"[\s:_-]")


class BadAdvert(ValueError):
    """Input that is not advert bytes; the message says what is wrong and what would be right."""


def add_command(sub) -> None:
    p = sub.add_parser(
        "decode",
        help="print every field of Apple proximity adverts (hex, or '-' for one per line on stdin)",
        description="Decode Apple proximity-pairing adverts (Continuity type 0x07) offline: model, genuine or "
                    "clone, batteries and charging, in-ear or worn state, lid, colour, connection state, each "
                    "field with the bytes and bits it comes from. Give bleak's manufacturer_data[76] as hex "
                    "(the 4C 00 company id in front is optional) or '-' to read one advert per line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("adverts", nargs="+", metavar="HEX", help="advert bytes as hex, or '-' for standard input")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def parse_advert(text: str) -> bytes:
    """Advert bytes from hex (spaces, colons, ``0x`` allowed) or a Python ``b'...'`` literal; the 4C 00
    company id is dropped when present. Raises :class:`BadAdvert`."""
    t = text.strip()
    if t[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(t)  # literals only: never evaluates code
        except (ValueError, SyntaxError):
            raise BadAdvert("not a complete bytes literal; write b'\\x07\\x19...' or hex such as 071901…") from None
        if not isinstance(value, bytes):
            raise BadAdvert("not a bytes literal; write b'\\x07\\x19...' or hex such as 071901…")
        data = value
    else:
        h = _HEX_JUNK.sub("", t)
        h = h[2:] if h.lower().startswith("0x") else h
        if not h:
            raise BadAdvert("empty; give the advert bytes as hex, e.g. 0719011420…")
        bad = next((c for c in h if c not in "0123456789abcdefABCDEF"), None)
        if bad is not None:
            raise BadAdvert(f"{bad!r} is not a hex digit; give the advert bytes as hex, e.g. 0719011420…")
        if len(h) % 2:
            raise BadAdvert(f"{len(h)} hex digits is an odd count; each byte takes two digits")
        data = bytes.fromhex(h)
    if data[:2] == b"\x4c\x00":  # the company id, little-endian, as on air
        data = data[2:]
    if not data:
        raise BadAdvert("no bytes after the company id; give the Continuity data that follow 4C 00")
    return data


def _inputs(values: list[str], stdin: TextIO) -> Iterator[tuple[str, str]]:
    """(where, text) for each advert: ``argument N`` or ``<stdin>:LINE``."""
    for i, value in enumerate(values, 1):
        if value == "-":
            for n, line in enumerate(stdin, 1):
                line = line.split("#", 1)[0].strip()
                if line:
                    yield f"<stdin>:{n}", line
        else:
            yield f"argument {i}", value


def _onoff(flag: bool) -> str:
    return "yes" if flag else "no"


def _pct(value: int | None) -> str:
    return "--" if value is None else f"{value}%"


def describe(st: Any) -> dict[str, Any]:
    """Every field of a decoded advert as plain data (the JSON form; the text form prints the same)."""
    model = st.model
    layout = "single" if st.single_unit else "dual" if model is not None else "unknown"
    out: dict[str, Any] = {
        "genuine": st.genuine,
        "record_length": len(st.record) - 2,
        "product_id": f"0x{st.product_id:04X}",
        "model": model.id if model is not None else None,
        "product": (getattr(model, "product", "") or model.name) if model is not None else None,
        "battery_layout": layout,
        "status": f"0x{st.record[5]:02X}",
        "primary": st.primary,
        "microphone": st.microphone,
        "broadcaster_in_case": st.broadcaster_in_case,
        "pods_in_case": st.pods_in_case,
        "left": {"battery": st.left, "charging": st.left_charging, "in_ear": st.left_in_ear},
        "right": {"battery": st.right, "charging": st.right_charging, "in_ear": st.right_in_ear},
        "case": {"battery": st.case, "charging": st.case_charging},
        "single": {"battery": st.single, "charging": st.single_charging},
        "ears_apply": st.ears() is not None,
        "worn": st.worn,
        "worn_rule": st.worn_rule,
        "worn_readings": {"status_bit_5": st.worn_bit5, "earcup_any": st.worn_cup_a or st.worn_cup_b,
                          "earcup_both": st.worn_both_cups},
        "lid_open": st.lid_open,
        "lid_counter": st.lid_counter,
        "color": st.color,
        "color_name": st.color_name,
        "connection_state": st.connection_state,
        "connection_state_name": st.connection_state_name,
        "undecoded": st.record[11:].hex(),
    }
    return out


def format_text(where: str, data: bytes, d: dict[str, Any]) -> list[str]:
    """The text form: one field per line, the bytes it comes from in brackets."""
    if d["model"]:
        who = f"{d['model']} \"{d['product']}\""
    elif not d["genuine"]:
        who = "clone: NOT a genuine device (record length 0x13); it claims this product id, not identified"
    else:
        who = "unknown model (not in the catalog)"
    single = d["battery_layout"] == "single"
    lines = [
        f"{where}: {data.hex()}",
        f"  record        type 0x07 proximity pairing, length 0x{d['record_length']:02X} "
        f"({'genuine' if d['genuine'] else 'clone'})",
        f"  product id    {d['product_id']} [bytes 3-4, little-endian]  {who}",
        f"  status        {d['status']} [byte 5]  primary {d['primary']} (bit 5), microphone {d['microphone']} "
        f"(bit 5 xor 6), broadcaster in case {_onoff(d['broadcaster_in_case'])} (bit 6), "
        f"pods in case {d['pods_in_case']} (bits 2, 4)",
    ]
    headset = (f"  headset       {_pct(d['single']['battery'])}{' charging' if d['single']['charging'] else ''} "
               f"[byte 6 low nibble, byte 7 flags bit 0]")
    pods = [
        f"  left          {_pct(d['left']['battery'])}{' charging' if d['left']['charging'] else ''}, "
        f"in ear {_onoff(d['left']['in_ear'])} [byte 6 nibble, byte 7 flags, status bits 1/3]",
        f"  right         {_pct(d['right']['battery'])}{' charging' if d['right']['charging'] else ''}, "
        f"in ear {_onoff(d['right']['in_ear'])}",
        f"  case          {_pct(d['case']['battery'])}{' charging' if d['case']['charging'] else ''} "
        f"[byte 7 low nibble, flags bit 2]",
    ]
    if single:
        lines.append(headset)
        lines.append("  (dual reading, not this model's layout)")
        lines += ["  " + p for p in pods]
    else:
        lines += pods
        if d["battery_layout"] == "unknown":
            lines.append(headset + "  (single-unit reading)")
    if not d["ears_apply"] and not single and d["model"]:
        lines.append("  in-ear bits   not meaningful for this model (no ear detection)")
    readings = d["worn_readings"]
    other = (f"status bit 5: {_onoff(readings['status_bit_5'])}, ear-cup bits any: "
             f"{_onoff(readings['earcup_any'])}, both: {_onoff(readings['earcup_both'])}")
    if d["worn_rule"]:
        lines.append(f"  worn          {_onoff(d['worn'])} [rule {d['worn_rule']}]  (readings: {other})")
    lid = "--" if d["lid_open"] is None else ("open" if d["lid_open"] else "closed")
    lines += [
        f"  lid           {lid}, counter {d['lid_counter']} [byte 8; state counts only while the broadcaster is in "
        f"the case]",
        f"  colour        0x{d['color']:02X} {d['color_name'] or '(unknown code)'} [byte 9]",
        f"  connection    0x{d['connection_state']:02X} {d['connection_state_name'] or '(unknown code)'} [byte 10]",
        f"  not decoded   {d['undecoded'] or '--'} [bytes 11+: "
        f"{'encrypted, needs the AAP key' if d['genuine'] else 'clone bytes no source explains'}]",
    ]
    return lines


def run(args, stdin: TextIO | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from routesim.bt.adverts.decode import ContinuityError, decode_proximity
    from routesim.profiles.catalog import default_catalog

    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    catalog = default_catalog()
    status = 0
    for where, text in _inputs(list(args.adverts), stdin):
        try:
            data = parse_advert(text)
            st = decode_proximity(data, catalog)
        except (BadAdvert, ContinuityError) as e:
            err.write(f"routesim decode: {where}: {e}\n")
            status = 2
            continue
        if st is None:
            kinds = ", ".join(f"0x{d:02X}" for d in _types(data)) or "none"
            msg = f"no proximity-pairing record (type 0x07); Continuity types here: {kinds}"
            if args.format == "json":
                out.write(json.dumps({"input": where, "data": data.hex(), "proximity": None, "note": msg}) + "\n")
            else:
                out.write(f"{where}: {data.hex()}\n  {msg}\n")
            status = max(status, 1)
            continue
        d = describe(st)
        if args.format == "json":
            out.write(json.dumps({"input": where, "data": data.hex(), **d}) + "\n")
        else:
            out.write("\n".join(format_text(where, data, d)) + "\n")
    return status


def _types(data: bytes) -> list[int]:
    from routesim.profiles.continuity import iter_tlvs

    return [t.type for t in iter_tlvs(data)]
