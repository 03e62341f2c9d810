"""AVAudioSessionPortDescription and AVAudioSessionRouteDescription, as the app reads them.

Names and UIDs follow device dumps [DEV gh:react-native-device-info/react-native-device-info#1020, hackmd-tacl-tsco]: built-in ports "Built-In Microphone",
"Built-In Receiver", "Speaker"; wired "Wired Headphones" / "Wired Microphone"; Bluetooth
"AA:BB:CC:DD:EE:FF-tacl" for A2DP and "...-tsco" for HFP (same MAC, upper case).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from routesim.routes.phone.frozen import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Port:
    type: str  # canonical Swift port type, e.g. "bluetoothHFP"
    name: str
    uid: str
    channels: int
    owner: str | None = None  # accessory key; None for built-in ports

    def as_dict(self) -> dict:
        return {"type": self.type, "name": self.name, "uid": self.uid}


@quick_init
@dataclass(frozen=True, slots=True)
class Route:
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()

    def as_dict(self) -> dict:
        return {"inputs": [p.as_dict() for p in self.inputs], "outputs": [p.as_dict() for p in self.outputs]}

    def types(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(p.type for p in self.inputs), tuple(p.type for p in self.outputs)

    def owners(self) -> set[str]:
        return {p.owner for p in (*self.inputs, *self.outputs) if p.owner}

    def short(self) -> str:
        ins = ",".join(p.type for p in self.inputs) or "-"
        outs = ",".join(p.type for p in self.outputs) or "-"
        return f"in[{ins}] out[{outs}]"


BUILT_IN_MIC = Port("builtInMic", "iPhone Microphone", "Built-In Microphone", 1)
RECEIVER = Port("builtInReceiver", "Receiver", "Built-In Receiver", 2)
SPEAKER = Port("builtInSpeaker", "Speaker", "Speaker", 2)


def built_in_mic(device: str) -> Port:
    return BUILT_IN_MIC if device == "iphone" else Port("builtInMic", "iPad Microphone", "Built-In Microphone", 1)


# Wired/USB/car port names and UID stems ([DEV gh:react-native-device-info/react-native-device-info#1020, hackmd-tacl-tsco] for wired and CarPlay; [INF] for USB).
_WIRED_NAMES = {
    "headphones": ("Headphones", "Wired Headphones", 2),
    "headsetMic": ("Headset Microphone", "Wired Microphone", 1),
    "usbAudio": (None, "USB Audio", 2),
    "carAudio": ("CarPlay", "Audio-AudioMain", 2),
    "lineOut": ("Line Out", "Line Out", 2),
    "lineIn": ("Line In", "Line In", 1),
}


# A port is a value fixed by its accessory's key, name and address: each is made once and shared (route
# decisions ask for the same ports over and over; equal ports compare equal either way).
@lru_cache(maxsize=1024)
def bluetooth_port(kind: str, key: str, name: str, address: str) -> Port:
    if kind == "hfp":
        return Port("bluetoothHFP", name, f"{address}-tsco", 1, key)
    return Port("bluetoothA2DP", name, f"{address}-tacl", 2, key)


@lru_cache(maxsize=1024)
def wired_port(port_type: str, key: str, name: str, address: str, channels: int | None = None) -> Port:
    """``channels``: the accessory's own count (an input's, from the catalog); else the port type's."""
    default_name, uid, type_channels = _WIRED_NAMES.get(port_type, (None, port_type, 2))
    channels = channels or type_channels
    if port_type == "carAudio":
        uid = f"{address}-{uid}-1"
    # Wired ports are named by the system ("Headphones"), USB and CarPlay by the accessory.
    shown = default_name if port_type in ("headphones", "headsetMic", "lineIn", "lineOut") else name
    return Port(port_type, shown or name, uid, channels, key)
