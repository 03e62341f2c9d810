"""Validation of D-Bus values at the edge: every property the backend uses has a declared signature; a
value of another type (or an out-of-range one) is logged and ignored, never trusted. Also the decoders
that turn validated values into routesim's names (firmware, codec)."""
from __future__ import annotations

import logging
import re
from typing import Any

from dbus_fast import Variant

from routesim.bt.bluez.constants import A2DP_CODEC_BYTES, ADAPTER, BATTERY, DEVICE, TRANSPORT, VENDOR_CODEC, VENDOR_CODECS

log = logging.getLogger("routesim.bt.bluez")

ADDRESS_RE = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
MODALIAS_RE = re.compile(r"^(bluetooth|usb):v([0-9A-F]{4})p([0-9A-F]{4})d([0-9A-F]{4})$", re.IGNORECASE)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)

# interface -> property -> D-Bus signature the backend accepts. Other properties are not read.
SCHEMA: dict[str, dict[str, str]] = {
    ADAPTER: {"Address": "s", "Name": "s", "Alias": "s", "Powered": "b", "Discovering": "b", "Roles": "as"},
    DEVICE: {
        "Address": "s",
        "AddressType": "s",
        "Name": "s",
        "Alias": "s",
        "Modalias": "s",
        "UUIDs": "as",
        "Connected": "b",
        "ServicesResolved": "b",
        "Paired": "b",
        "Bonded": "b",
        "Trusted": "b",
        "Adapter": "o",
        "Icon": "s",
        "Class": "u",
    },
    TRANSPORT: {"Device": "o", "UUID": "s", "Codec": "y", "Configuration": "ay", "State": "s", "Volume": "q"},
    BATTERY: {"Percentage": "y", "Source": "s"},
}


def _check(iface: str, name: str, value: Any) -> tuple[bool, str]:
    """Extra checks beyond the signature. Returns (ok, why-not)."""
    if iface == DEVICE and name == "Address" and not ADDRESS_RE.match(value.upper()):
        return False, "not a Bluetooth address"
    if iface == DEVICE and name == "UUIDs" and not all(UUID_RE.match(u) for u in value):
        return False, "not a list of 128-bit UUID strings"
    if iface == BATTERY and name == "Percentage" and value > 100:
        return False, "percentage above 100"
    if iface == TRANSPORT and name == "State" and value not in ("idle", "pending", "active", "broadcasting"):
        return False, "unknown transport state"
    return True, ""


MAX_WARNED = 4096  # a flood of fresh objects cannot grow a warned set without bound; past it, debug only


def _warn_once(warned: set | None, path: str, iface: str, name: str, message: str, *args: Any) -> None:
    """A mistyped value is logged once per object and property (BlueZ repeats it on every change): ``warned``
    holds the (path, interface, property) already logged; None logs every time."""
    key = (path, iface, name)
    if warned is not None and (key in warned or len(warned) >= MAX_WARNED):
        log.debug(message, *args)
        return
    if warned is not None:
        warned.add(key)
    log.warning(message, *args)


def clean_properties(path: str, iface: str, props: Any, warned: set | None = None) -> dict[str, Any]:
    """Unwrap the properties of one interface, keeping only well-typed known ones; each mistyped one is
    logged (once per object and property when the caller keeps a ``warned`` set) and left out."""
    schema = SCHEMA.get(iface)
    if schema is None:
        return {}
    if not isinstance(props, dict):
        _warn_once(warned, path, iface, "", "%s %s: properties are not a dictionary (%s); ignored", path, iface,
                   type(props).__name__)
        return {}
    out: dict[str, Any] = {}
    for name, value in props.items():
        sig = schema.get(name)
        if sig is None:
            continue
        if not isinstance(value, Variant):
            _warn_once(warned, path, iface, name, "%s %s.%s: not a variant; ignored", path, iface, name)
            continue
        if value.signature != sig:
            _warn_once(warned, path, iface, name, "%s %s.%s has D-Bus type %r, expected %r; ignored", path, iface, name,
                       value.signature, sig)
            continue
        ok, why = _check(iface, name, value.value)
        if not ok:
            _warn_once(warned, path, iface, name, "%s %s.%s = %.60r: %s; ignored", path, iface, name, value.value, why)
            continue
        out[name] = value.value
    return out


def parse_modalias(text: str | None) -> tuple[str, int, int, int] | None:
    """``bluetooth:v004Cp2014dD408`` → ("bluetooth", 0x004C, 0x2014, 0xD408); None if malformed."""
    if not text:
        return None
    m = MODALIAS_RE.match(text.strip())
    if not m:
        return None
    return m.group(1).lower(), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)


def firmware_from_modalias(text: str | None) -> str | None:
    """The DI version field (``d…``) as four hex digits, the only firmware hint BlueZ gives."""
    parsed = parse_modalias(text)
    return f"{parsed[3]:04X}" if parsed else None


def transport_codec(props: dict[str, Any]) -> str | None:
    """A MediaTransport1's codec name: vendor codecs are told apart only by the ids inside Configuration."""
    codec = props.get("Codec")
    if codec is None:
        return None
    if codec == VENDOR_CODEC:
        conf = props.get("Configuration") or b""
        if len(conf) >= 6:
            vendor = int.from_bytes(conf[0:4], "little")
            cid = int.from_bytes(conf[4:6], "little")
            return VENDOR_CODECS.get((vendor, cid), f"vendor-{vendor:04x}-{cid:04x}")
        return "vendor"
    return A2DP_CODEC_BYTES.get(codec, f"codec-{codec:#04x}")
