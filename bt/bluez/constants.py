"""BlueZ D-Bus names, profile UUIDs and codec numbers (BlueZ ``doc/org.bluez.*.rst``, ``lib/bluetooth/uuid.h``;
PipeWire ``spa/plugins/bluez5``: keys BlueZ-Device1, BlueZ-UUIDs, PipeWire-bluez5 in docs/sources.md)."""
from __future__ import annotations

BLUEZ = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
TRANSPORT = "org.bluez.MediaTransport1"
ENDPOINT = "org.bluez.MediaEndpoint1"
BATTERY = "org.bluez.Battery1"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
DBUS = "org.freedesktop.DBus"

# The stand-in for PipeWire's card profiles that the fake exports (real PipeWire is reached via pactl).
FAKE_PIPEWIRE = "org.routesim.FakePipeWire"
FAKE_PIPEWIRE_PATH = "/org/routesim/FakePipeWire"
FAKE_PIPEWIRE_IFACE = "org.routesim.FakePipeWire1"

BASE_UUID = "-0000-1000-8000-00805f9b34fb"


def uuid16(short: int) -> str:
    return f"0000{short:04x}{BASE_UUID}"


HSP_HS = uuid16(0x1108)
HSP_HS_ALT = uuid16(0x1131)
HSP_AG = uuid16(0x1112)
A2DP_SOURCE = uuid16(0x110A)
A2DP_SINK = uuid16(0x110B)
AVRCP_TARGET = uuid16(0x110C)
ADVANCED_AUDIO = uuid16(0x110D)
AVRCP = uuid16(0x110E)
HFP_HF = uuid16(0x111E)
HFP_AG = uuid16(0x111F)
PNP_INFO = uuid16(0x1200)
SDP_SERVER = uuid16(0x1000)
APPLE_AAP = "74ec2172-0bad-4d01-8f77-997b2be0722a"

AUDIO_UUIDS = frozenset({A2DP_SINK, HFP_HF, HSP_HS, HSP_HS_ALT})
HFP_UUIDS = frozenset({HFP_HF, HSP_HS, HSP_HS_ALT})

# MediaTransport1.Codec byte for A2DP (bluez profiles/audio/a2dp-codecs.h).
A2DP_CODEC_BYTES = {0x00: "sbc", 0x01: "mpeg12", 0x02: "aac", 0x04: "atrac"}
A2DP_CODEC_IDS = {v: k for k, v in A2DP_CODEC_BYTES.items()}
VENDOR_CODEC = 0xFF
# (vendor id, codec id) inside Configuration for vendor-specific codecs.
VENDOR_CODECS = {(0x0000004F, 0x0001): "aptx", (0x000000D7, 0x0024): "aptx-hd", (0x0000012D, 0x00AA): "ldac"}

# PipeWire card profile names (PipeWire-bluez5).
CARD_PROFILE_A2DP = "a2dp-sink"
CARD_PROFILE_HFP = "headset-head-unit"
CARD_PROFILE_OFF = "off"


def card_profile_to_profile(name: str) -> str | None:
    """PipeWire card profile (``a2dp-sink-aac``, ``headset-head-unit-msbc``, ``off``…) → a2dp/hfp/none.
    PulseAudio's names (``a2dp_sink``, ``handsfree_head_unit``) count too."""
    name = name.replace("_", "-")
    if name.startswith("a2dp-"):
        return "a2dp"
    if name.startswith("headset-head-unit") or name.startswith("handsfree-head-unit"):
        return "hfp"
    if name == CARD_PROFILE_OFF:
        return "none"
    return None


def card_profile_codec(name: str) -> str:
    """The codec a card profile's name carries, in PipeWire's spelling (``headset-head-unit-msbc`` →
    ``msbc``, ``a2dp-sink-sbc_xq`` → ``sbc_xq``); "" for a bare name, which means "the best codec" and
    says nothing about which one the card uses."""
    for base in ("a2dp-sink-", "headset-head-unit-", "handsfree-head-unit-"):
        if name.startswith(base):
            return name[len(base):]
    return ""


def device_path(adapter_path: str, address: str) -> str:
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


def card_name(address: str) -> str:
    """The PipeWire/pactl card of a device: ``bluez_card.AA_BB_CC_DD_EE_FF``."""
    return "bluez_card." + address.upper().replace(":", "_")
